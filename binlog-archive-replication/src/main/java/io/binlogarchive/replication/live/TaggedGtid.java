package io.binlogarchive.replication.live;

import io.binlogarchive.replication.internal.BinlogEvents;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads the GTID out of a MySQL 8.3+ GTID_TAGGED_LOG_EVENT body: one message of MySQL's serialization
 * library. Every integer there is variable-length: the count of trailing one bits of the first byte,
 * plus one, is the number of bytes (little-endian) and the value is what follows those bits; a first
 * byte 0xff means the 8 bytes after it. A signed integer is stored as {@code (x << 1) ^ (x >> 63)}.
 * The message is: format version, message size, last non-ignorable field id, then fields as (id,
 * value), absent optional fields skipped: 0 flags, 1 the UUID as 16 one-byte integers, 2 the
 * sequence number (signed), 3 the tag (length, bytes; empty when untagged), then fields not needed here.
 */
final class TaggedGtid {
  private final byte[] b;
  private int pos;
  private final int end;

  private TaggedGtid(byte[] b, int pos, int end) {
    this.b = b;
    this.pos = pos;
    this.end = end;
  }

  /** @return {@code uuid:tag:gno} or {@code uuid:gno}; null if the body cannot be read */
  static String decode(byte[] b, int start, int end) {
    try {
      return new TaggedGtid(b, start, end).read();
    } catch (RuntimeException e) {
      return null; // the GTID is informative for the listener; the file bytes are kept as they are
    }
  }

  private String read() {
    unsigned(); // format version
    unsigned(); // message size
    unsigned(); // last non-ignorable field id
    byte[] uuid = null;
    long gno = -1;
    String tag = "";
    while (pos < end) {
      long field = unsigned();
      if (field == 0) {
        unsigned();
      } else if (field == 1) {
        uuid = new byte[16];
        for (int i = 0; i < 16; i++) {
          uuid[i] = (byte) unsigned();
        }
      } else if (field == 2) {
        long u = unsigned();
        gno = (u >>> 1) ^ -(u & 1);
      } else if (field == 3) {
        int n = (int) unsigned();
        if (n < 0 || n > 32 || pos + n > end) {
          return null;
        }
        tag = new String(b, pos, n, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
        pos += n;
        break;
      } else {
        break;
      }
    }
    if (uuid == null || gno < 1) {
      return null;
    }
    String u = BinlogEvents.uuid(uuid, 0);
    return tag.isEmpty() ? u + ":" + gno : u + ":" + tag + ":" + gno;
  }

  private long unsigned() {
    if (pos >= end) {
      throw new IllegalArgumentException("truncated");
    }
    int first = b[pos] & 0xFF;
    int n = Integer.numberOfTrailingZeros(~first) + 1;
    if (n > 8) {
      if (pos + 9 > end) {
        throw new IllegalArgumentException("truncated");
      }
      long v = BinlogEvents.u64(b, pos + 1);
      pos += 9;
      return v;
    }
    if (pos + n > end) {
      throw new IllegalArgumentException("truncated");
    }
    long v = 0;
    for (int i = 0; i < n; i++) {
      v |= (b[pos + i] & 0xFFL) << (8 * i);
    }
    pos += n;
    return v >>> n;
  }
}
