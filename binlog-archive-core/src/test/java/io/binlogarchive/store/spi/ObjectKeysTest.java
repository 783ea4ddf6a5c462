package io.binlogarchive.store.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("ObjectKeys, the bucket, prefix and key rules every object-store sink shares")
class ObjectKeysTest {
  @Test
  @DisplayName("normalises a prefix to empty or one ending with a slash, without leading slashes")
  void prefixes() {
    assertThat(ObjectKeys.prefix("")).isEmpty();
    assertThat(ObjectKeys.prefix("/")).isEmpty();
    assertThat(ObjectKeys.prefix("prod/mysql")).isEqualTo("prod/mysql/");
    assertThat(ObjectKeys.prefix("//prod/mysql/")).isEqualTo("prod/mysql/");
    assertThatThrownBy(() -> ObjectKeys.prefix("a//b")).hasMessageContaining("empty path segment");
  }

  @Test
  @DisplayName("joins a prefix and a relative key, and rejects empty keys and keys with a leading or trailing slash")
  void keys() {
    assertThat(ObjectKeys.join("p/", "a/b")).isEqualTo("p/a/b");
    assertThat(ObjectKeys.join("", "a")).isEqualTo("a");
    for (String bad : new String[] {"", "/a", "a/"}) {
      assertThatThrownBy(() -> ObjectKeys.join("p/", bad)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("invalid object key");
    }
  }

  @Test
  @DisplayName("accepts plain bucket names and rejects blanks, slashes and URLs, naming the scheme")
  void buckets() {
    assertThat(ObjectKeys.bucket("acme-archive", "s3")).isEqualTo("acme-archive");
    for (String bad : new String[] {"", " ", "a/b", "gs:bucket"}) {
      assertThatThrownBy(() -> ObjectKeys.bucket(bad, "gs")).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("gs://");
    }
  }
}
