package io.binlogarchive.crypto;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.codec.Transform;
import static io.binlogarchive.crypto.CryptoTestSupport.data;
import static io.binlogarchive.crypto.CryptoTestSupport.decrypt;
import static io.binlogarchive.crypto.CryptoTestSupport.encrypt;
import static io.binlogarchive.crypto.CryptoTestSupport.key;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("key material never reaches logs, exception messages or toString()")
class AesGcmKeyLeakTest {
  static {
    // Effective if no logger of these classes exists yet in this JVM; INFO and WARN are on anyway.
    System.setProperty("org.slf4j.simpleLogger.log.io.binlogarchive", "trace");
  }

  /** Records a copy of every data key it hands out or unwraps. */
  static final class Recording implements KeyProvider {
    final KeyProvider delegate;
    final List<byte[]> seen;

    Recording(KeyProvider delegate, List<byte[]> seen) {
      this.delegate = delegate;
      this.seen = seen;
    }

    @Override
    public String primaryKeyId() {
      return delegate.primaryKeyId();
    }

    @Override
    public DataKey newDataKey() {
      return record(delegate.newDataKey());
    }

    @Override
    public DataKey wrap(byte[] plaintextKey) {
      return record(delegate.wrap(plaintextKey));
    }

    @Override
    public DataKey unwrap(String keyId, byte[] wrappedKey) {
      return record(delegate.unwrap(keyId, wrappedKey));
    }

    private DataKey record(DataKey k) {
      seen.add(k.plaintext().clone());
      return k;
    }

    @Override
    public String toString() {
      return "Recording[" + delegate + "]";
    }
  }

  @Test
  @DisplayName("encrypt, decrypt, wrong key, missing key, corrupt data and bad key files leak no key bytes")
  void noLeaks(@TempDir Path dir) throws Exception {
    byte[] keyA = key(41);
    byte[] keyB = key(42);
    byte[] wrongA = key(43);
    List<byte[]> secrets = new ArrayList<>(List.of(keyA, keyB, wrongA));
    StringBuilder text = new StringBuilder();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream savedErr = System.err;
    System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
    try {
      Path rawFile = Files.write(dir.resolve("a.key"), keyA);
      Files.setPosixFilePermissions(rawFile, PosixFilePermissions.fromString("rw-r--r--"));
      Path b64File = Files.writeString(dir.resolve("b.key"), Base64.getEncoder().encodeToString(keyB));
      StaticKeyProvider both =
          StaticKeyProvider.builder()
              .keyFile("key-a", rawFile)
              .keyFile("key-b", b64File)
              .environment(Map.of("WRONG", Base64.getEncoder().encodeToString(wrongA))::get)
              .keyFromEnv("key-c", "WRONG")
              .build();
      KeyProvider keys = new Recording(both, secrets);
      AesGcmTransform t = Transform.aesGcm(keys).segmentSize(512).innerCodec("zstd");
      byte[] pt = data(3000, 1);
      byte[] artifact = encrypt(t, pt);
      assertThat(decrypt(t, artifact)).isEqualTo(pt);
      text.append(t).append(t.describe()).append(both).append(keys);
      try (DataKey dk = keys.newDataKey()) {
        text.append(dk);
      }
      List<Runnable> failures = new ArrayList<>();
      failures.add(() -> call(() -> decrypt(Transform.aesGcm(
          new Recording(StaticKeyProvider.builder().key("key-a", wrongA).build(), secrets)), artifact)));
      failures.add(() -> call(() -> decrypt(Transform.aesGcm(
          StaticKeyProvider.builder().key("other", keyB).build()), artifact)));
      byte[] corrupt = artifact.clone();
      corrupt[corrupt.length - 700] ^= 1;
      failures.add(() -> call(() -> decrypt(t, corrupt)));
      byte[] badHeader = artifact.clone();
      badHeader[20] ^= 1;
      failures.add(() -> call(() -> decrypt(t, badHeader)));
      failures.add(() -> call(() -> AesGcmTransform.rewrap(
          CryptoTestSupport.in(corrupt), new ByteArrayOutputStream(), keys,
          new Recording(StaticKeyProvider.builder().key("key-b", keyB).build(), secrets))));
      Path shortFile = Files.write(dir.resolve("short.key"), java.util.Arrays.copyOf(keyA, 31));
      failures.add(() -> call(() -> StaticKeyProvider.builder().keyFile("s", shortFile).build()));
      Path textFile = Files.writeString(dir.resolve("text.key"), HexFormat.of().formatHex(keyB));
      failures.add(() -> call(() -> StaticKeyProvider.builder().keyFile("h", textFile).build()));
      failures.add(() -> call(() -> StaticKeyProvider.builder()
          .environment(Map.of("K", HexFormat.of().formatHex(keyA))::get).keyFromEnv("k", "K").build()));
      for (Runnable r : failures) {
        try {
          r.run();
          throw new AssertionError("expected a failure");
        } catch (Failure f) {
          StringWriter w = new StringWriter();
          f.getCause().printStackTrace(new PrintWriter(w));
          text.append(f.getCause()).append('\n').append(w);
        }
      }
    } finally {
      System.setErr(savedErr);
    }
    String logged = log.toString(StandardCharsets.UTF_8);
    assertThat(logged).as("the capture works").contains("loaded encryption key id 'key-a'");
    assertThat(logged).contains("can be read by group or others");
    assertThat(text.toString()).contains("IntegrityException", "NotFoundException", "key-a");
    assertThat(secrets.size()).as("data keys were recorded").isGreaterThan(5);

    byte[] haystackBytes = (logged + text).getBytes(StandardCharsets.ISO_8859_1);
    String haystack = logged + text;
    String lower = haystack.toLowerCase(Locale.ROOT);
    for (byte[] s : secrets) {
      String hex = HexFormat.of().formatHex(s);
      assertThat(lower).doesNotContain(hex).doesNotContain(hex.substring(0, 16));
      assertThat(haystack)
          .doesNotContain(Base64.getEncoder().encodeToString(s))
          .doesNotContain(Base64.getEncoder().withoutPadding().encodeToString(s).substring(0, 16))
          .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(s).substring(0, 16));
      assertThat(indexOf(haystackBytes, java.util.Arrays.copyOf(s, 8))).isEqualTo(-1);
      assertThat(indexOf(log.toByteArray(), java.util.Arrays.copyOf(s, 8))).isEqualTo(-1);
    }
  }

  /** Carries a failure out of a Runnable. */
  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Failure(Throwable cause) {
      super(cause);
    }
  }

  interface Call {
    void run() throws Exception;
  }

  static void call(Call c) {
    try {
      c.run();
    } catch (Exception e) {
      throw new Failure(e);
    }
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
