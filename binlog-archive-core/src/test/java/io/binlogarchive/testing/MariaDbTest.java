package io.binlogarchive.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class (or method) that starts a real MariaDB server ({@link MariaDbServer}), runs
 * MariaDB's own tools ({@code mariadb-binlog}, {@code mariadb-dump}) or otherwise needs a real
 * database server: JUnit tag {@value #TAG}.
 * {@code mvn verify} runs them; {@code -DexcludedGroups=mariadb} leaves them out. {@link
 * MariaDbServer#start} refuses to start from a JUnit test that lacks this tag, so it cannot drift.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag(MariaDbTest.TAG)
public @interface MariaDbTest {
  /** The JUnit tag. */
  String TAG = "mariadb";
}
