package io.binlogarchive.codec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** Gzip through {@code java.util.zip}; output is a standard {@code .gz} stream. */
final class GzipTransform implements Transform {
  private static final int BUFFER = 64 * 1024;
  private final int level;

  GzipTransform(int level) {
    if (level < 1 || level > 9) {
      throw new IllegalArgumentException("gzip level must be 1..9, got " + level);
    }
    this.level = level;
  }

  @Override
  public String id() {
    return "gzip";
  }

  @Override
  public String extension() {
    return ".gz";
  }

  @Override
  public Map<String, Object> describe() {
    return Map.of("level", level);
  }

  @Override
  public OutputStream wrap(OutputStream out) throws IOException {
    return new GZIPOutputStream(out, BUFFER) {
      {
        def.setLevel(level);
      }

      private boolean closed;

      @Override
      public void close() throws IOException {
        if (!closed) {
          closed = true;
          super.close();
        }
      }
    };
  }

  @Override
  public InputStream unwrap(InputStream in) throws IOException {
    return new GZIPInputStream(in, BUFFER);
  }

  @Override
  public String toString() {
    return "gzip(level=" + level + ")";
  }
}
