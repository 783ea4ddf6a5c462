package io.binlogarchive.internal.binlog;

/**
 * Little-endian field readers for binlog events, and the text form of a server UUID: shared by the
 * scanner, the GTID stop finder and the rotator (and open to the sibling modules). No compatibility
 * promise.
 */
public final class BinlogBytes {
  private BinlogBytes() {}

  /** @return the unsigned 16-bit little-endian value at {@code i} */
  public static int u16(byte[] b, int i) {
    return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8;
  }

  /** @return the unsigned 32-bit little-endian value at {@code i} */
  public static long u32(byte[] b, int i) {
    return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24;
  }

  /** @return the unsigned 56-bit little-endian value at {@code i} */
  public static long u56(byte[] b, int i) {
    return u32(b, i) | (b[i + 4] & 0xffL) << 32 | (b[i + 5] & 0xffL) << 40 | (b[i + 6] & 0xffL) << 48;
  }

  /** @return the 64-bit little-endian value at {@code i} */
  public static long s64(byte[] b, int i) {
    return u32(b, i) | u32(b, i + 4) << 32;
  }

  /** The 16 bytes at {@code off} as a lowercase UUID with dashes. */
  public static String uuid(byte[] b, int off) {
    StringBuilder sb = new StringBuilder(36);
    for (int i = 0; i < 16; i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) {
        sb.append('-');
      }
      int v = b[off + i] & 0xff;
      sb.append(Character.forDigit(v >> 4, 16)).append(Character.forDigit(v & 0xf, 16));
    }
    return sb.toString();
  }
}
