package io.binlogarchive.testing;

import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Keeps the JUnit tags honest: a fixture that needs a tag calls {@link #require} and fails a test
 * whose class (an enclosing class, or the calling method) does not carry it. Outside JUnit (a
 * benchmark runner's {@code main}) there is nothing to check.
 */
final class TagGuard {
  private TagGuard() {}

  static void require(String tag, String annotation, String what) {
    List<StackWalker.StackFrame> frames =
        StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(s -> s.toList());
    if (frames.stream().noneMatch(f -> f.getClassName().startsWith("org.junit."))) {
      return;
    }
    for (StackWalker.StackFrame f : frames) {
      for (Class<?> c = f.getDeclaringClass(); c != null; c = c.getEnclosingClass()) {
        if (tagged(c, tag)) {
          return;
        }
      }
      for (Method m : f.getDeclaringClass().getDeclaredMethods()) {
        if (m.getName().equals(f.getMethodName()) && tagged(m, tag)) {
          return;
        }
      }
    }
    throw new IllegalStateException(what + " in a test that is not marked @" + annotation
        + ": add it to the test class (JUnit tag \"" + tag + "\") so that -DexcludedGroups=" + tag + " leaves it out");
  }

  private static boolean tagged(AnnotatedElement e, String tag) {
    return AnnotationSupport.findRepeatableAnnotations(e, Tag.class).stream().anyMatch(t -> t.value().equals(tag));
  }
}
