package io.binlogarchive.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class (or method) that takes more than about 20 seconds on the 2-core build machine
 * (soak runs, crash loops, whole PITR cycles): JUnit tag {@value #TAG}. {@code mvn verify} runs
 * them; {@code -DexcludedGroups=slow} leaves them out.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag(SlowTest.TAG)
public @interface SlowTest {
  /** The JUnit tag. */
  String TAG = "slow";
}
