package io.binlogarchive.crypto;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.testing.StoreTests;
import static io.binlogarchive.crypto.CryptoTestSupport.key;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("StaticKeyProvider")
class StaticKeyProviderTest {
  @TempDir Path dir;
  final byte[] k = key(31);

  /** Wraps with one provider and unwraps with the other: both hold the same key. */
  static void assertSameKey(StaticKeyProvider a, StaticKeyProvider b) {
    try (DataKey dk = a.newDataKey();
        DataKey back = b.unwrap(dk.keyId(), dk.wrappedKey())) {
      assertThat(back.plaintext()).isEqualTo(dk.plaintext());
    }
  }

  @Test
  @DisplayName("reads a key file holding the 32 raw bytes")
  void rawFile() throws IOException {
    Path f = Files.write(dir.resolve("raw.key"), k);
    StaticKeyProvider p = StaticKeyProvider.builder().keyFile("a", f).build();
    assertSameKey(p, StaticKeyProvider.builder().key("a", k).build());
  }

  @Test
  @DisplayName("a builder used twice gives two providers with the same keys: each decrypts the other's artifacts")
  void builderReuse() throws IOException {
    Path f = Files.write(dir.resolve("file.key"), key(32));
    StaticKeyProvider.Builder b = StaticKeyProvider.builder().key("given", k).keyFile("file", f);
    StaticKeyProvider first = b.build();
    StaticKeyProvider second = b.build();
    byte[] data = StoreTests.payload(100_000, 7);
    for (String primary : first.keyIds()) {
      StaticKeyProvider a = b.primary(primary).build();
      assertThat(StoreTests.decode(Transform.aesGcm(second), StoreTests.encode(Transform.aesGcm(a), data)))
          .isEqualTo(data);
      assertThat(StoreTests.decode(Transform.aesGcm(a), StoreTests.encode(Transform.aesGcm(second), data)))
          .isEqualTo(data);
    }
    // and neither holds a zeroed key: both agree with a provider built from the bytes afresh
    assertSameKey(second, StaticKeyProvider.builder().key("given", k).build());
    assertSameKey(first, StaticKeyProvider.builder().key("given", k).build());
  }

  @Test
  @DisplayName("reads a key file holding base64 text with a trailing newline")
  void base64File() throws IOException {
    Path f = Files.writeString(dir.resolve("b64.key"), Base64.getEncoder().encodeToString(k) + "\n");
    StaticKeyProvider p = StaticKeyProvider.builder().keyFile("a", f).build();
    assertSameKey(p, StaticKeyProvider.builder().key("a", k).build());
  }

  @Test
  @DisplayName("reads a key from an environment variable holding base64 text")
  void envVar() {
    String b64 = Base64.getEncoder().encodeToString(k);
    StaticKeyProvider p =
        StaticKeyProvider.builder()
            .environment(Map.of("ARCHIVE_KEY", b64)::get)
            .keyFromEnv("a", "ARCHIVE_KEY")
            .build();
    assertSameKey(p, StaticKeyProvider.builder().key("a", k).build());
  }

  @Test
  @DisplayName("rejects a key file of the wrong length, naming the file and not the content")
  void wrongLengthFile() throws IOException {
    Path f = Files.write(dir.resolve("short.key"), new byte[] {1, 2, 3});
    Path g = Files.writeString(dir.resolve("short64.key"), Base64.getEncoder().encodeToString(new byte[31]));
    assertThatThrownBy(() -> StaticKeyProvider.builder().keyFile("a", f).keyFile("b", g).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining(g.toString())
        .hasMessageContaining("32")
        .hasMessageContaining("'a'")
        .hasMessageContaining("'b'")
        .hasMessageNotContaining(Base64.getEncoder().encodeToString(new byte[31]));
  }

  @Test
  @DisplayName("rejects text that is not base64 without quoting any of it")
  void notBase64() throws IOException {
    Path f = Files.writeString(dir.resolve("junk.key"), "this-is-not-a-key-but-a-secret-phrase!");
    assertThatThrownBy(() -> StaticKeyProvider.builder().keyFile("a", f).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("not valid base64")
        .hasMessageNotContaining("secret")
        .hasMessageNotContaining("!")
        .hasMessageNotContaining("2d");
  }

  @Test
  @DisplayName("rejects a missing file and an unset variable, naming both")
  void missing() {
    Path f = dir.resolve("absent.key");
    assertThatThrownBy(
            () ->
                StaticKeyProvider.builder()
                    .environment(Map.<String, String>of()::get)
                    .keyFile("a", f)
                    .keyFromEnv("b", "NO_SUCH_VAR")
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("NO_SUCH_VAR is not set");
  }

  @Test
  @DisplayName("rejects a wrong-length variable, a duplicate id and an unknown primary in one error")
  void allProblemsAtOnce() {
    String short64 = Base64.getEncoder().encodeToString(new byte[16]);
    assertThatThrownBy(
            () ->
                StaticKeyProvider.builder()
                    .environment(Map.of("K", short64)::get)
                    .keyFromEnv("a", "K")
                    .key("b", k)
                    .key("b", k)
                    .primary("c")
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("environment variable K for key id 'a'")
        .hasMessageContaining("holds 16")
        .hasMessageContaining("'b' is given more than once")
        .hasMessageContaining("primary key id 'c'");
  }

  @Test
  @DisplayName("the first key added is primary unless another is chosen")
  void primary() {
    StaticKeyProvider p = StaticKeyProvider.builder().key("a", k).key("b", key(32)).build();
    assertThat(p.primaryKeyId()).isEqualTo("a");
    assertThat(p.keyIds()).containsExactly("a", "b");
    StaticKeyProvider q = StaticKeyProvider.builder().key("a", k).key("b", key(32)).primary("b").build();
    try (DataKey dk = q.newDataKey()) {
      assertThat(dk.keyId()).isEqualTo("b");
      assertThat(dk.wrappedKey()).hasSize(60);
    }
  }

  @Test
  @DisplayName("a wrapped key moved to another key id does not unwrap (the id is authenticated)")
  void keyIdBound() {
    StaticKeyProvider p = StaticKeyProvider.builder().key("a", k).key("b", k).build();
    try (DataKey dk = p.newDataKey()) {
      assertThatThrownBy(() -> p.unwrap("b", dk.wrappedKey()))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("'b'");
    }
  }

  @Test
  @DisplayName("a destroyed data key is zeroed, unusable, and its toString shows no key bytes")
  void dataKeyLifecycle() {
    StaticKeyProvider p = StaticKeyProvider.builder().key("a", k).build();
    DataKey dk = p.newDataKey();
    byte[] live = dk.plaintext();
    assertThat(dk.toString()).isEqualTo("DataKey[keyId=a, wrapped=60 bytes]");
    dk.close();
    assertThat(live).containsOnly(0);
    assertThat(dk.isDestroyed()).isTrue();
    assertThatThrownBy(dk::plaintext).isInstanceOf(IllegalStateException.class);
    assertThat(p.toString()).isEqualTo("StaticKeyProvider[primary=a, keys=[a]]");
  }

  @Test
  @DisplayName("key ids must be non-blank, short and free of control characters")
  void keyIds() {
    assertThatThrownBy(() -> StaticKeyProvider.builder().key(" ", k)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StaticKeyProvider.builder().key("a\nb", k)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StaticKeyProvider.builder().key("x".repeat(256), k))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
