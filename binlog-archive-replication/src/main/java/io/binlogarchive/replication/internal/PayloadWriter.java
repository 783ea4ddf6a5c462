package io.binlogarchive.replication.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds one packet payload from the protocol's little-endian integers and strings. */
public final class PayloadWriter {
  private final ByteArrayOutputStream buf = new ByteArrayOutputStream(64);

  /** Appends a fixed-length little-endian integer of {@code n} bytes. */
  public PayloadWriter fixed(long v, int n) {
    for (int i = 0; i < n; i++) {
      buf.write((int) (v >>> (8 * i)));
    }
    return this;
  }

  /** Appends one byte. */
  public PayloadWriter u8(int v) {
    buf.write(v);
    return this;
  }

  /** Appends a length-encoded integer. */
  public PayloadWriter lenenc(long v) {
    if (v < 0xFB) {
      return u8((int) v);
    } else if (v < 1L << 16) {
      return u8(0xFC).fixed(v, 2);
    } else if (v < 1L << 24) {
      return u8(0xFD).fixed(v, 3);
    }
    return u8(0xFE).fixed(v, 8);
  }

  /** Appends a length-encoded string (UTF-8), or the NULL marker for null. */
  public PayloadWriter lenencString(String s) {
    if (s == null) {
      return u8(0xFB);
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return lenenc(b.length).bytes(b);
  }

  /** Appends a NUL-terminated string (UTF-8). */
  public PayloadWriter nulString(String s) {
    return bytes(s.getBytes(StandardCharsets.UTF_8)).u8(0);
  }

  /** Appends raw bytes. */
  public PayloadWriter bytes(byte[] b) {
    buf.write(b, 0, b.length);
    return this;
  }

  /** Appends {@code n} zero bytes. */
  public PayloadWriter zeros(int n) {
    for (int i = 0; i < n; i++) {
      buf.write(0);
    }
    return this;
  }

  /** The payload built so far. */
  public byte[] toByteArray() {
    return buf.toByteArray();
  }
}
