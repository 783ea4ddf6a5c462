package io.binlogarchive.crypto;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.codec.Transform;
import static io.binlogarchive.crypto.CryptoTestSupport.data;
import static io.binlogarchive.crypto.CryptoTestSupport.decrypt;
import static io.binlogarchive.crypto.CryptoTestSupport.encrypt;
import static io.binlogarchive.crypto.CryptoTestSupport.key;
import static io.binlogarchive.crypto.CryptoTestSupport.outerHeaderLength;
import static io.binlogarchive.crypto.CryptoTestSupport.provider;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@DisplayName("AES-256-GCM streaming encryption")
class AesGcmTransformTest {
  static final int SEG = 256;
  static final int FIRST = SEG - 16 - 40; // plaintext in the first segment
  static final int PT_SEG = SEG - 16; // plaintext in the others

  final byte[] keyA = key(1);
  final StaticKeyProvider keysA = provider("key-a", keyA);
  final AesGcmTransform small = Transform.aesGcm(keysA).segmentSize(SEG);

  static Stream<Integer> smallSizes() {
    return Stream.of(
        0, 1, FIRST - 1, FIRST, FIRST + 1, FIRST + PT_SEG - 1, FIRST + PT_SEG, FIRST + PT_SEG + 1,
        FIRST + 5 * PT_SEG, 10_000);
  }

  static Stream<Integer> defaultSizes() {
    int seg = AesGcmTransform.DEFAULT_SEGMENT_SIZE;
    int first = seg - 16 - 40;
    return Stream.of(0, 1, first - 1, first, first + 1, seg - 17, seg - 16, seg - 15,
        first + (seg - 16) + 1);
  }

  /** Ciphertext length per the format: headers, then 16 bytes of tag per segment. */
  static long expectedLength(byte[] artifact, long plaintext, int seg) {
    long first = seg - 16 - 40;
    long segments = plaintext <= first ? 1 : 1 + (plaintext - first + (seg - 16) - 1) / (seg - 16);
    return outerHeaderLength(artifact) + 40 + plaintext + 16 * segments;
  }

  @Nested
  @DisplayName("round trip")
  class RoundTrip {
    @ParameterizedTest(name = "{0} bytes")
    @MethodSource("io.binlogarchive.crypto.AesGcmTransformTest#smallSizes")
    @DisplayName("plaintext around the segment boundaries of small segments comes back unchanged")
    void smallSegments(int size) throws IOException {
      byte[] pt = data(size, size);
      byte[] artifact = encrypt(small, pt);
      assertThat(artifact.length).isEqualTo(expectedLength(artifact, size, SEG));
      assertThat(decrypt(small, artifact)).isEqualTo(pt);
    }

    @ParameterizedTest(name = "{0} bytes")
    @MethodSource("io.binlogarchive.crypto.AesGcmTransformTest#defaultSizes")
    @DisplayName("plaintext around the 1 MiB segment boundaries comes back unchanged")
    void defaultSegments(int size) throws IOException {
      AesGcmTransform t = Transform.aesGcm(keysA);
      byte[] pt = data(size, size);
      byte[] artifact = encrypt(t, pt);
      assertThat(artifact.length).isEqualTo(expectedLength(artifact, size, 1 << 20));
      assertThat(decrypt(t, artifact)).isEqualTo(pt);
    }

    @Test
    @DisplayName("writes of one byte and of odd sizes give the same plaintext back")
    void oddWrites() throws IOException {
      byte[] pt = data(5_000, 7);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (OutputStream w = small.wrap(out)) {
        int i = 0;
        int step = 1;
        while (i < pt.length) {
          int n = Math.min(step, pt.length - i);
          if (n == 1) {
            w.write(pt[i]);
          } else {
            w.write(pt, i, n);
          }
          i += n;
          step = step * 3 % 517 + 1;
        }
      }
      assertThat(out.size()).isEqualTo(expectedLength(out.toByteArray(), pt.length, SEG));
      try (InputStream r = small.unwrap(CryptoTestSupport.in(out.toByteArray()))) {
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        int b;
        while ((b = r.read()) >= 0) {
          back.write(b);
        }
        assertThat(back.toByteArray()).isEqualTo(pt);
      }
    }

    @Test
    @DisplayName("100 MB streamed through a file round-trips with the same SHA-256")
    void hundredMegabytes(@TempDir Path dir) throws IOException {
      long size = 100_000_000L;
      AesGcmTransform t = Transform.aesGcm(keysA);
      Path file = dir.resolve("big.aes");
      MessageDigest written = CryptoTestSupport.sha256();
      try (InputStream src = new DigestInputStream(new CryptoTestSupport.GeneratedInputStream(size, 42), written);
          OutputStream w = t.wrap(Files.newOutputStream(file))) {
        src.transferTo(w);
      }
      MessageDigest read = CryptoTestSupport.sha256();
      long n;
      try (InputStream r = t.unwrap(Files.newInputStream(file));
          OutputStream sink = new DigestOutputStream(OutputStream.nullOutputStream(), read)) {
        n = r.transferTo(sink);
      }
      Files.delete(file);
      assertThat(n).isEqualTo(size);
      assertThat(read.digest()).isEqualTo(written.digest());
    }

    @Test
    @DisplayName("two encryptions of the same plaintext differ (fresh data key, salt and nonce prefix)")
    void freshKeys() {
      byte[] pt = data(1000, 1);
      assertThat(encrypt(small, pt)).isNotEqualTo(encrypt(small, pt));
    }
  }

  @Nested
  @DisplayName("tampering")
  class Tampering {
    final byte[] pt = data(FIRST + 4 * PT_SEG + 100, 3); // six segments, last one short
    final byte[] artifact = encrypt(small.innerCodec("zstd"), pt);
    final int streamStart = outerHeaderLength(artifact);
    final int segStart = streamStart + 40;

    int segmentOffset(int i) {
      return i == 0 ? segStart : segStart + (SEG - 40) + (i - 1) * SEG;
    }

    byte[] segment(int i) {
      int from = segmentOffset(i);
      int len = i == 0 ? SEG - 40 : SEG;
      return Arrays.copyOfRange(artifact, from, Math.min(from + len, artifact.length));
    }

    @Test
    @DisplayName("a flipped bit in any byte (header, every segment, every tag) is an IntegrityException")
    void everyBitFlip() {
      List<Integer> undetected = new ArrayList<>();
      for (int i = 0; i < artifact.length; i++) {
        byte[] bad = artifact.clone();
        bad[i] ^= (byte) (1 << (i % 8));
        try {
          decrypt(small, bad);
          undetected.add(i);
        } catch (IntegrityException expected) {
          // detected
        } catch (Exception other) {
          throw new AssertionError("byte " + i + " gave " + other, other);
        }
      }
      assertThat(undetected).as("offsets whose flipped bit went unnoticed").isEmpty();
    }

    @Test
    @DisplayName("a flipped bit in the last tag is reported for the last segment")
    void lastTag() {
      byte[] bad = artifact.clone();
      bad[bad.length - 1] ^= 1;
      assertThatThrownBy(() -> decrypt(small, bad))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("segment 5 (the last)")
          .hasMessageContaining("key-a");
    }

    @Test
    @DisplayName("every truncation, at and between segment boundaries, is an IntegrityException")
    void everyTruncation() {
      List<Integer> undetected = new ArrayList<>();
      for (int len = 0; len < artifact.length; len++) {
        try {
          decrypt(small, Arrays.copyOf(artifact, len));
          undetected.add(len);
        } catch (IntegrityException expected) {
          // detected
        } catch (Exception other) {
          throw new AssertionError("length " + len + " gave " + other, other);
        }
      }
      assertThat(undetected).as("truncated lengths that decrypted").isEmpty();
    }

    @Test
    @DisplayName("dropping whole trailing segments is an IntegrityException")
    void dropTrailingSegments() {
      for (int i = 1; i <= 5; i++) {
        byte[] cut = Arrays.copyOf(artifact, segmentOffset(i));
        assertThatThrownBy(() -> decrypt(small, cut)).isInstanceOf(IntegrityException.class);
      }
    }

    @Test
    @DisplayName("swapped segments are an IntegrityException")
    void swapped() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      b.write(artifact, 0, segmentOffset(1));
      b.write(segment(2));
      b.write(segment(1));
      b.write(artifact, segmentOffset(3), artifact.length - segmentOffset(3));
      assertThat(b.size()).isEqualTo(artifact.length);
      assertThatThrownBy(() -> decrypt(small, b.toByteArray()))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("segment 1");
    }

    @Test
    @DisplayName("a duplicated segment is an IntegrityException")
    void duplicated() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      b.write(artifact, 0, segmentOffset(3));
      b.write(segment(2));
      b.write(artifact, segmentOffset(3), artifact.length - segmentOffset(3));
      assertThatThrownBy(() -> decrypt(small, b.toByteArray()))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("segment 3");
    }

    @Test
    @DisplayName("a removed middle segment is an IntegrityException")
    void removed() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      b.write(artifact, 0, segmentOffset(2));
      b.write(artifact, segmentOffset(3), artifact.length - segmentOffset(3));
      assertThatThrownBy(() -> decrypt(small, b.toByteArray())).isInstanceOf(IntegrityException.class);
    }

    @Test
    @DisplayName("an appended copy of the last segment is an IntegrityException")
    void appended() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      b.write(artifact);
      b.write(segment(5));
      assertThatThrownBy(() -> decrypt(small, b.toByteArray())).isInstanceOf(IntegrityException.class);
    }

    @Test
    @DisplayName("the header of another artifact (same key, same settings) is an IntegrityException")
    void swappedHeader() throws IOException {
      byte[] other = encrypt(small.innerCodec("zstd"), data(pt.length, 99));
      int otherStream = outerHeaderLength(other);
      // only the outer header (key envelope) from the other artifact
      ByteArrayOutputStream outer = new ByteArrayOutputStream();
      outer.write(other, 0, otherStream);
      outer.write(artifact, streamStart, artifact.length - streamStart);
      assertThatThrownBy(() -> decrypt(small, outer.toByteArray()))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("segment 0");
      // outer header plus salt and nonce prefix from the other artifact
      ByteArrayOutputStream both = new ByteArrayOutputStream();
      both.write(other, 0, otherStream + 40);
      both.write(artifact, segStart, artifact.length - segStart);
      assertThatThrownBy(() -> decrypt(small, both.toByteArray()))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("segment 0");
    }

    @Test
    @DisplayName("segments after the first fail once the first is swapped from another artifact")
    void segmentFromOtherArtifact() {
      byte[] other = encrypt(small.innerCodec("zstd"), data(pt.length, 5));
      byte[] mixed = artifact.clone();
      int at = segmentOffset(1);
      System.arraycopy(other, outerHeaderLength(other) + 40 + (SEG - 40), mixed, at, SEG);
      assertThatThrownBy(() -> decrypt(small, mixed))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("segment 1");
    }

    @Test
    @DisplayName("plaintext read before a corrupt segment is only that of authenticated segments")
    void releasesOnlyAuthenticated() throws IOException {
      byte[] bad = artifact.clone();
      bad[segmentOffset(2) + 10] ^= 4;
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      try (InputStream r = small.unwrap(CryptoTestSupport.in(bad))) {
        byte[] buf = new byte[100];
        assertThatThrownBy(
                () -> {
                  int n;
                  while ((n = r.read(buf)) >= 0) {
                    got.write(buf, 0, n);
                  }
                })
            .isInstanceOf(IntegrityException.class);
        assertThatThrownBy(() -> r.read(buf)).isInstanceOf(IntegrityException.class);
      }
      assertThat(got.toByteArray()).isEqualTo(Arrays.copyOf(pt, FIRST + PT_SEG));
    }

    @Test
    @DisplayName("a stream that is not an encrypted artifact is an IntegrityException")
    void notAnArtifact() {
      assertThatThrownBy(() -> decrypt(small, "hello, world".getBytes()))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("magic");
    }

    @Test
    @DisplayName("an artifact of another inner codec than the expected one is rejected")
    void codecMismatch() {
      assertThatThrownBy(() -> decrypt(small.innerCodec("gzip"), artifact))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("'zstd'")
          .hasMessageContaining("'gzip'");
    }
  }

  @Nested
  @DisplayName("keys")
  class Keys {
    final byte[] pt = data(1000, 11);

    @Test
    @DisplayName("a different key under the same key id fails with an IntegrityException naming the id")
    void wrongKey() {
      byte[] artifact = encrypt(small, pt);
      AesGcmTransform wrong = Transform.aesGcm(provider("key-a", key(2)));
      assertThatThrownBy(() -> decrypt(wrong, artifact))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("'key-a'");
    }

    @Test
    @DisplayName("a provider without the artifact's key id fails with a NotFoundException naming the id")
    void missingKey() {
      byte[] artifact = encrypt(small, pt);
      AesGcmTransform other = Transform.aesGcm(provider("key-b", keyA));
      assertThatThrownBy(() -> decrypt(other, artifact))
          .isInstanceOf(NotFoundException.class)
          .hasMessageContaining("'key-a'");
    }

    @Test
    @DisplayName("after rotation, artifacts of the old key still decrypt and new ones use the new key")
    void rotation() throws IOException {
      byte[] old = encrypt(small, pt);
      byte[] keyB = key(3);
      StaticKeyProvider rotated =
          StaticKeyProvider.builder().key("key-a", keyA).key("key-b", keyB).primary("key-b").build();
      AesGcmTransform t = Transform.aesGcm(rotated);
      assertThat(decrypt(t, old)).isEqualTo(pt);
      assertThat(t.describe()).containsEntry("key_id", "key-b");
      byte[] fresh = encrypt(t, pt);
      assertThat(decrypt(t, fresh)).isEqualTo(pt);
      assertThatThrownBy(() -> decrypt(small, fresh))
          .isInstanceOf(NotFoundException.class)
          .hasMessageContaining("'key-b'");
    }

    @Test
    @DisplayName("rewrap moves an artifact to a new key, changing only the header's key envelope")
    void rewrap() throws IOException {
      byte[] artifact = encrypt(small, pt);
      StaticKeyProvider onlyB = provider("key-b", key(4));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      String newId = AesGcmTransform.rewrap(CryptoTestSupport.in(artifact), out, keysA, onlyB);
      byte[] moved = out.toByteArray();
      assertThat(newId).isEqualTo("key-b");
      assertThat(decrypt(Transform.aesGcm(onlyB), moved)).isEqualTo(pt);
      assertThatThrownBy(() -> decrypt(small, moved)).isInstanceOf(NotFoundException.class);
      int a = outerHeaderLength(artifact);
      int b = outerHeaderLength(moved);
      assertThat(Arrays.copyOfRange(moved, b, moved.length))
          .isEqualTo(Arrays.copyOfRange(artifact, a, artifact.length));
      assertThat(Arrays.copyOf(moved, 11 + 0)).isEqualTo(Arrays.copyOf(artifact, 11));
    }

    @Test
    @DisplayName("rewrap of a corrupt artifact fails with an IntegrityException")
    void rewrapCorrupt() {
      byte[] artifact = encrypt(small, data(FIRST + 3 * PT_SEG, 12));
      artifact[artifact.length - 300] ^= 1;
      assertThatThrownBy(
              () ->
                  AesGcmTransform.rewrap(
                      CryptoTestSupport.in(artifact), new ByteArrayOutputStream(), keysA,
                      provider("key-b", key(4))))
          .isInstanceOf(IntegrityException.class);
    }
  }

  @Nested
  @DisplayName("as a Transform")
  class AsTransform {
    @Test
    @DisplayName("names itself aes-256-gcm with the .aes extension and describes cipher, key id and version")
    void naming() {
      AesGcmTransform t = Transform.aesGcm(keysA);
      assertThat(t.id()).isEqualTo("aes-256-gcm");
      assertThat(Transform.zstd(3).extension() + t.extension()).isEqualTo(".zst.aes");
      assertThat(t.describe())
          .containsEntry("cipher", "AES256_GCM_HKDF_SHA256")
          .containsEntry("format_version", 1)
          .containsEntry("key_id", "key-a")
          .containsEntry("segment_size", 1 << 20);
    }

    @Test
    @DisplayName("composes after zstd: compress, then encrypt, and back")
    void withZstd() throws IOException {
      Transform zstd = Transform.zstd(3);
      AesGcmTransform aes = Transform.aesGcm(keysA).innerCodec(zstd.id());
      byte[] pt = String.join("\n", IntStream.range(0, 20_000).mapToObj(i -> "row " + i).toList()).getBytes();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (OutputStream w = zstd.wrap(aes.wrap(out))) {
        w.write(pt);
      }
      try (InputStream r = zstd.unwrap(aes.unwrap(CryptoTestSupport.in(out.toByteArray())))) {
        assertThat(r.readAllBytes()).isEqualTo(pt);
      }
    }

    @Test
    @DisplayName("close() is safe to call twice and a failed write never seals a last segment")
    void closeTwiceAndFailedWrite() throws IOException {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      OutputStream w = small.wrap(out);
      w.write(new byte[10]);
      w.close();
      w.close();
      assertThatThrownBy(() -> w.write(1)).isInstanceOf(IOException.class);

      ByteArrayOutputStream sink = new ByteArrayOutputStream();
      OutputStream failing =
          new OutputStream() {
            int writes;

            @Override
            public void write(int b) throws IOException {
              write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
              if (++writes == 4) {
                throw new IOException("disk full");
              }
              sink.write(b, off, len);
            }
          };
      OutputStream w2 = small.wrap(failing);
      assertThatThrownBy(() -> w2.write(new byte[5 * PT_SEG])).hasMessage("disk full");
      int before = sink.size();
      w2.close();
      assertThat(sink.size()).isEqualTo(before);
      assertThatThrownBy(() -> decrypt(small, sink.toByteArray())).isInstanceOf(IntegrityException.class);
    }

    @Test
    @DisplayName("segment sizes outside 64 bytes to 16 MiB are rejected")
    void segmentSizeBounds() {
      assertThatThrownBy(() -> small.segmentSize(63)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> small.segmentSize((16 << 20) + 1))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
