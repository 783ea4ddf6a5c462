package io.binlogarchive.codec;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/** Stores bytes as they are. */
final class IdentityTransform implements Transform {
  static final IdentityTransform INSTANCE = new IdentityTransform();

  private IdentityTransform() {}

  @Override
  public String id() {
    return "none";
  }

  @Override
  public String extension() {
    return "";
  }

  @Override
  public Map<String, Object> describe() {
    return Map.of();
  }

  @Override
  public OutputStream wrap(OutputStream out) {
    return new FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }
    };
  }

  @Override
  public InputStream unwrap(InputStream in) {
    return in;
  }

  @Override
  public String toString() {
    return "none";
  }
}
