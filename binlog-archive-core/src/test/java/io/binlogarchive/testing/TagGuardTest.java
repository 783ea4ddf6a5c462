package io.binlogarchive.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check that keeps the JUnit tags on the tests that need a real server or kill processes. */
@DisplayName("TagGuard")
class TagGuardTest {
  static final String TAG = "tag-guard-check";

  @Test
  @DisplayName("MariaDbServer.start from an untagged test fails before starting anything, naming the annotation")
  void untaggedServerStart(@TempDir Path tmp) {
    assertThatThrownBy(() -> MariaDbServer.start(tmp.resolve("db")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("@MariaDbTest").hasMessageContaining("-DexcludedGroups=mariadb");
    assertThat(tmp.resolve("db")).as("nothing started").doesNotExist();
  }

  @Test
  @DisplayName("a tag on the calling method satisfies it")
  @Tag(TAG)
  void taggedMethod() {
    assertThatCode(() -> TagGuard.require(TAG, "X", "check")).doesNotThrowAnyException();
  }

  @Nested
  @Tag(TAG)
  @DisplayName("in a tagged class")
  class Tagged {
    @Test
    @DisplayName("a tag on the class satisfies it, also through a lambda and a helper")
    void taggedClass() {
      Runnable r = () -> TagGuard.require(TAG, "X", "check");
      assertThatCode(r::run).doesNotThrowAnyException();
    }

    @Nested
    @DisplayName("and a class nested in it")
    class Inner {
      @Test
      @DisplayName("inherits the enclosing class's tag")
      void inherited() {
        assertThatCode(() -> TagGuard.require(TAG, "X", "check")).doesNotThrowAnyException();
      }
    }
  }

  @Test
  @DisplayName("outside JUnit (a benchmark's main thread) nothing is checked")
  void outsideJUnit() throws Exception {
    Throwable[] seen = new Throwable[1];
    Thread t = new Thread(() -> {
      try {
        TagGuard.require(TAG, "X", "check");
      } catch (Throwable e) {
        seen[0] = e;
      }
    });
    t.start();
    t.join();
    assertThat(seen[0]).isNull();
  }
}
