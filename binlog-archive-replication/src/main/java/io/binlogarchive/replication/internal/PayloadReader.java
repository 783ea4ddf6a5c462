package io.binlogarchive.replication.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Reads the protocol's little-endian integers and strings from one packet payload. */
public final class PayloadReader {
  private final byte[] buf;
  private int pos;

  /** @param payload one packet payload, read from its first byte */
  public PayloadReader(byte[] payload) {
    this.buf = payload;
  }

  /** The offset of the next byte to read. */
  public int position() {
    return pos;
  }

  /** Bytes left to read. */
  public int remaining() {
    return buf.length - pos;
  }

  /** Skips {@code n} bytes. */
  public PayloadReader skip(int n) {
    need(n);
    pos += n;
    return this;
  }

  /** A fixed-length little-endian unsigned integer of {@code n} bytes (1-8). */
  public long fixed(int n) {
    need(n);
    long v = 0;
    for (int i = 0; i < n; i++) {
      v |= (buf[pos + i] & 0xFFL) << (8 * i);
    }
    pos += n;
    return v;
  }

  /** One unsigned byte. */
  public int u8() {
    return (int) fixed(1);
  }

  /** A length-encoded integer; -1 for the NULL marker 0xFB. */
  public long lenenc() {
    int first = u8();
    if (first < 0xFB) {
      return first;
    }
    switch (first) {
      case 0xFB: return -1;
      case 0xFC: return fixed(2);
      case 0xFD: return fixed(3);
      case 0xFE: return fixed(8);
      default: throw new IllegalArgumentException("malformed length-encoded integer: first byte 0xFF");
    }
  }

  /** A length-encoded string, or null for NULL. */
  public String lenencString() {
    long n = lenenc();
    return n < 0 ? null : new String(bytes(Math.toIntExact(n)), StandardCharsets.UTF_8);
  }

  /** A NUL-terminated string (the NUL is consumed); the rest of the payload if there is no NUL. */
  public String nulString() {
    int end = pos;
    while (end < buf.length && buf[end] != 0) {
      end++;
    }
    String s = new String(buf, pos, end - pos, StandardCharsets.UTF_8);
    pos = Math.min(end + 1, buf.length);
    return s;
  }

  /** The next {@code n} bytes. */
  public byte[] bytes(int n) {
    need(n);
    byte[] out = Arrays.copyOfRange(buf, pos, pos + n);
    pos += n;
    return out;
  }

  /** Everything left. */
  public byte[] rest() {
    return bytes(remaining());
  }

  private void need(int n) {
    if (n < 0 || pos + n > buf.length) {
      throw new IllegalArgumentException("packet too short: need " + n + " bytes at offset " + pos
          + " of a " + buf.length + "-byte payload");
    }
  }
}
