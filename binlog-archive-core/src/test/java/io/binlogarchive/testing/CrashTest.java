package io.binlogarchive.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class (or method) that kills a child JVM or a database server with SIGKILL: JUnit
 * tag {@value #TAG}. {@code mvn verify} runs them; {@code -DexcludedGroups=crash} leaves them out.
 * {@link MariaDbServer#kill} refuses to run from a JUnit test that lacks this tag.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag(CrashTest.TAG)
public @interface CrashTest {
  /** The JUnit tag. */
  String TAG = "crash";
}
