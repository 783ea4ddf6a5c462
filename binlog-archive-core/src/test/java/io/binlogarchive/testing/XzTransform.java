package io.binlogarchive.testing;

import io.binlogarchive.codec.Transform;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.UnsupportedOptionsException;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

/**
 * A codec the library does not ship: xz through {@code org.tukaani:xz}, written as an embedder
 * would write one, against the public {@link Transform} SPI only. It lives in test sources to
 * prove that such a codec archives, fetches, verifies, reads back and rewraps. Listed in {@code
 * META-INF/services} of the test classes for the {@code ServiceLoader} opt-in.
 */
public final class XzTransform implements Transform {
  private final int preset;

  /** Preset 1: fast, and still a real LZMA2 stream. */
  public XzTransform() {
    this(1);
  }

  /** @param preset 0 to 9 */
  public XzTransform(int preset) {
    if (preset < 0 || preset > 9) {
      throw new IllegalArgumentException("xz preset must be 0..9, got " + preset);
    }
    this.preset = preset;
  }

  @Override
  public String id() {
    return "xz";
  }

  @Override
  public String extension() {
    return ".xz";
  }

  @Override
  public Map<String, Object> describe() {
    return Map.of("preset", preset);
  }

  @Override
  public OutputStream wrap(OutputStream out) throws IOException {
    XZOutputStream xz;
    try {
      xz = new XZOutputStream(out, new LZMA2Options(preset));
    } catch (UnsupportedOptionsException e) {
      out.close();
      throw e;
    }
    return new FilterOutputStream(xz) {
      private boolean closed;

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        if (!closed) {
          closed = true;
          out.close(); // finishes the stream, then closes the downstream; keeps the first error
        }
      }
    };
  }

  @Override
  public InputStream unwrap(InputStream in) throws IOException {
    try {
      return new XZInputStream(in);
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  @Override
  public String toString() {
    return "xz(preset=" + preset + ")";
  }
}
