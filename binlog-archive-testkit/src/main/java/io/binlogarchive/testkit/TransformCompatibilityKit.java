package io.binlogarchive.testkit;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.codec.Transform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Transform} (a codec or an encryption layer) must have for archives to
 * restore. A codec's test extends this class and implements {@link #newTransform()}:
 *
 * <pre>{@code
 * @DisplayName("XzTransform")
 * class XzTransformCompatibilityTest extends TransformCompatibilityKit {
 *   @Override
 *   protected Transform newTransform() {
 *     return new XzTransform();
 *   }
 * }
 * }</pre>
 *
 * <p>Decoding failures may surface as an {@link IOException} or, for a transform that
 * authenticates its data, as an {@link ArchiveException} (the library's {@code
 * IntegrityException}); both stop a restore.
 */
public abstract class TransformCompatibilityKit {

  /**
   * @return the transform under test, configured as an archive would use it; called before every
   *     test
   */
  protected abstract Transform newTransform() throws Exception;

  /**
   * @return whether the transform's framing lets it detect a truncated stream (default true); the
   *     identity transform says no, and its truncation tests are skipped
   */
  protected boolean detectsTruncation() {
    return true;
  }

  /** The transform of the current test. */
  protected Transform transform;

  @BeforeEach
  public void createTransform() throws Exception {
    transform = newTransform();
  }

  /**
   * @param plaintext bytes to encode
   * @return what the transform writes for them, its frame finished
   */
  public byte[] encode(byte[] plaintext) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream w = transform.wrap(out)) {
      int off = 0;
      int step = 1;
      while (off < plaintext.length) { // uneven slices, as the pipeline's reads give them
        int n = Math.min(step, plaintext.length - off);
        w.write(plaintext, off, n);
        off += n;
        step = step * 7 % 1_000_003 + 1;
      }
    }
    return out.toByteArray();
  }

  /**
   * @param encoded what {@link #encode(byte[])} returned
   * @return the bytes it decodes to
   */
  public byte[] decode(byte[] encoded) throws IOException {
    try (InputStream in = transform.unwrap(new ByteArrayInputStream(encoded))) {
      return in.readAllBytes();
    }
  }

  /** Half pseudo-random, half repeated text: both a compressor's hard and easy case. */
  static byte[] mixed(int size, long seed) {
    byte[] b = KitSupport.payload(size, seed);
    byte[] text = "INSERT INTO t VALUES (42, 'binlog-archive');\n".getBytes(StandardCharsets.US_ASCII);
    for (int i = size / 2; i < size; i++) {
      b[i] = text[i % text.length];
    }
    return b;
  }

  @Nested
  @DisplayName("a round trip")
  public class RoundTrip {
    @Test
    @DisplayName("of an empty payload decodes to nothing")
    public void empty() throws IOException {
      assertThat(decode(encode(new byte[0]))).isEmpty();
    }

    @Test
    @DisplayName("of one byte decodes to that byte")
    public void oneByte() throws IOException {
      assertThat(decode(encode(new byte[] {(byte) 0xfe}))).containsExactly((byte) 0xfe);
    }

    @Test
    @DisplayName("of a multi-MiB payload written in uneven slices decodes to the same bytes")
    public void multiMiB() throws IOException {
      byte[] data = mixed(3 * 1024 * 1024 + 5, 7);
      byte[] back = decode(encode(data));
      assertThat(back.length).isEqualTo(data.length);
      assertThat(KitSupport.sha256(back)).isEqualTo(KitSupport.sha256(data));
    }

    @Test
    @DisplayName("written and read one byte at a time gives the same bytes")
    public void byteByByte() throws IOException {
      byte[] data = mixed(10_000, 11);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (OutputStream w = transform.wrap(out)) {
        for (byte b : data) {
          w.write(b);
        }
      }
      ByteArrayOutputStream back = new ByteArrayOutputStream();
      try (InputStream in = transform.unwrap(new ByteArrayInputStream(out.toByteArray()))) {
        for (int b = in.read(); b >= 0; b = in.read()) {
          back.write(b);
        }
      }
      assertThat(back.toByteArray()).isEqualTo(data);
    }

    @Test
    @DisplayName("from two streams of one transform at once keeps them independent")
    public void independentStreams() throws IOException {
      byte[] a = mixed(300_000, 1);
      byte[] b = mixed(200_000, 2);
      ByteArrayOutputStream outA = new ByteArrayOutputStream();
      ByteArrayOutputStream outB = new ByteArrayOutputStream();
      try (OutputStream wa = transform.wrap(outA); OutputStream wb = transform.wrap(outB)) {
        for (int off = 0; off < a.length; off += 4096) {
          wa.write(a, off, Math.min(4096, a.length - off));
          if (off < b.length) {
            wb.write(b, off, Math.min(4096, b.length - off));
          }
        }
      }
      assertThat(decode(outA.toByteArray())).isEqualTo(a);
      assertThat(decode(outB.toByteArray())).isEqualTo(b);
    }
  }

  @Nested
  @DisplayName("closing")
  public class Closing {
    @Test
    @DisplayName("twice is harmless: the frame is finished once and the downstream closed")
    public void closeTwice() throws IOException {
      byte[] data = mixed(100_000, 3);
      CloseCounting down = new CloseCounting();
      OutputStream w = transform.wrap(down);
      w.write(data);
      w.close();
      byte[] once = down.toByteArray();
      assertThatCode(w::close).doesNotThrowAnyException();
      assertThat(down.toByteArray()).as("nothing written by the second close").isEqualTo(once);
      assertThat(down.closes).as("downstream closes").isGreaterThanOrEqualTo(1);
      assertThat(decode(once)).isEqualTo(data);
    }

    @Test
    @DisplayName("the decoding stream closes the encoded stream under it")
    public void unwrapCloses() throws IOException {
      byte[] encoded = encode(mixed(1000, 4));
      boolean[] closed = new boolean[1];
      InputStream raw = new FilterInputStream(new ByteArrayInputStream(encoded)) {
        @Override
        public void close() throws IOException {
          closed[0] = true;
          super.close();
        }
      };
      InputStream in = transform.unwrap(raw);
      in.readAllBytes();
      in.close();
      assertThat(closed[0]).isTrue();
      assertThatCode(in::close).as("closing the decoding stream twice").doesNotThrowAnyException();
    }
  }

  @Nested
  @DisplayName("a truncated input")
  public class Truncated {
    void assertFails(byte[] encoded, int keep) {
      assumeTrue(detectsTruncation(), "this transform's framing cannot detect truncation");
      byte[] cut = Arrays.copyOf(encoded, keep);
      assertThatThrownBy(() -> decode(cut)).as("decoding %d of %d bytes", keep, encoded.length)
          .isInstanceOfAny(IOException.class, ArchiveException.class);
    }

    @Test
    @DisplayName("fails when the last byte is missing")
    public void lastByteMissing() throws IOException {
      byte[] encoded = encode(mixed(200_000, 5));
      assertFails(encoded, encoded.length - 1);
    }

    @Test
    @DisplayName("fails when it stops halfway")
    public void half() throws IOException {
      byte[] encoded = encode(mixed(200_000, 6));
      assertFails(encoded, encoded.length / 2);
    }

    @Test
    @DisplayName("fails when only the first byte is there")
    public void firstByteOnly() throws IOException {
      byte[] encoded = encode(mixed(200_000, 8));
      assertFails(encoded, 1);
    }
  }

  @Nested
  @DisplayName("the id")
  public class Id {
    @Test
    @DisplayName("is stable: the same on every call and every instance, as sidecars record it")
    public void stable() throws Exception {
      String id = transform.id();
      assertThat(transform.id()).isEqualTo(id);
      assertThat(newTransform().id()).isEqualTo(id);
    }

    @Test
    @DisplayName("is 1 to 64 printable ASCII characters, without spaces")
    public void printable() {
      assertThat(transform.id()).matches("[\\x21-\\x7e]{1,64}");
    }

    @Test
    @DisplayName("comes with an extension that is empty or starts with a dot, and a description without nulls")
    public void extensionAndDescription() {
      assertThat(transform.extension()).matches("|\\.[A-Za-z0-9._-]+");
      Map<String, Object> d = transform.describe();
      assertThat(d).isNotNull();
      d.forEach((k, v) -> assertThat(v).as("describe()[%s]", k).isNotNull());
      assertThat(d.keySet()).doesNotContainNull();
    }
  }

  /** Records what is written and how often it is closed. */
  static final class CloseCounting extends FilterOutputStream {
    int closes;

    CloseCounting() {
      super(new ByteArrayOutputStream());
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      closes++;
      super.close();
    }

    byte[] toByteArray() {
      return ((ByteArrayOutputStream) out).toByteArray();
    }
  }
}
