package io.binlogarchive.replication.internal;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Binlog event layout (v4) shared by the live client and the serving side: the 19-byte common header,
 * the event types either side looks at, and the body fields of ROTATE and FORMAT_DESCRIPTION events.
 * Every reader takes the array and the offset where the event starts. No compatibility promise.
 */
public final class BinlogEvents {
  /** Length of the common event header. */
  public static final int HEADER = 19;
  public static final int QUERY = 2;
  public static final int STOP = 3;
  public static final int ROTATE = 4;
  public static final int FORMAT_DESCRIPTION = 15;
  public static final int XID = 16;
  public static final int HEARTBEAT = 27;
  public static final int ROWS_QUERY = 29;
  public static final int MYSQL_GTID = 33;
  public static final int MYSQL_ANONYMOUS_GTID = 34;
  public static final int MYSQL_PREVIOUS_GTIDS = 35;
  public static final int XA_PREPARE = 38;
  public static final int TRANSACTION_PAYLOAD = 40;
  public static final int HEARTBEAT_V2 = 41;
  public static final int MYSQL_TAGGED_GTID = 42;
  public static final int MARIADB_ANNOTATE_ROWS = 160;
  public static final int MARIADB_BINLOG_CHECKPOINT = 161;
  public static final int MARIADB_GTID = 162;
  public static final int MARIADB_GTID_LIST = 163;
  public static final int MARIADB_START_ENCRYPTION = 164;

  /** LOG_EVENT_BINLOG_IN_USE_F: the file was open when the event was read. */
  public static final int IN_USE_FLAG = 0x1;
  /** LOG_EVENT_ARTIFICIAL_F: made up by the server for a dump, not in any file. */
  public static final int ARTIFICIAL_FLAG = 0x20;
  /** MariaDB GTID event flag: the group is one event (DDL), no BEGIN/COMMIT. */
  public static final int FL_STANDALONE = 1;

  /** Length of the magic bytes a binlog file starts with. */
  public static final int MAGIC_LENGTH = 4;
  private static final byte[] MAGIC = {(byte) 0xFE, 'b', 'i', 'n'};

  private BinlogEvents() {}

  /** @return a copy of the 4 magic bytes a binlog file starts with */
  public static byte[] magic() {
    return MAGIC.clone();
  }

  /** Whether {@code b} starts with the binlog magic bytes. */
  public static boolean isMagic(byte[] b) {
    return b.length >= MAGIC_LENGTH && java.util.Arrays.equals(b, 0, MAGIC_LENGTH, MAGIC, 0, MAGIC_LENGTH);
  }

  /**
   * The start of a QUERY event's statement, at most 16 characters (enough to tell BEGIN, COMMIT,
   * ROLLBACK and XA statements apart); empty if the event is too short to hold one.
   *
   * @param crc whether 4 checksum bytes end the event (they are left out)
   */
  public static String queryPrefix(byte[] b, int off, int len, boolean crc) {
    int p = off + HEADER;
    if (len < HEADER + 13) {
      return "";
    }
    int dbLen = b[p + 8] & 0xFF;
    int statusLen = (b[p + 11] & 0xFF) | (b[p + 12] & 0xFF) << 8;
    int start = p + 13 + statusLen + dbLen + 1;
    int end = off + len - (crc ? 4 : 0);
    if (start > end) {
      return "";
    }
    return new String(b, start, Math.min(16, end - start), StandardCharsets.ISO_8859_1);
  }

  /** The GTID a MariaDB GTID event starts, {@code domain-server-sequence}. */
  public static String mariaDbGtid(byte[] b, int off) {
    return u32(b, off + HEADER + 8) + "-" + serverId(b, off) + "-" + Long.toUnsignedString(u64(b, off + HEADER));
  }

  /** The GTID a MySQL (untagged) GTID event starts, {@code uuid:gno}. */
  public static String mySqlGtid(byte[] b, int off) {
    return uuid(b, off + HEADER + 1) + ":" + u64(b, off + HEADER + 17);
  }

  public static int type(byte[] b, int off) {
    return b[off + 4] & 0xFF;
  }

  public static long timestamp(byte[] b, int off) {
    return u32(b, off);
  }

  public static long serverId(byte[] b, int off) {
    return u32(b, off + 5);
  }

  public static long size(byte[] b, int off) {
    return u32(b, off + 9);
  }

  public static long logPos(byte[] b, int off) {
    return u32(b, off + 13);
  }

  public static int flags(byte[] b, int off) {
    return (b[off + 17] & 0xFF) | (b[off + 18] & 0xFF) << 8;
  }

  /** Little-endian unsigned 32-bit integer at {@code off}. */
  public static long u32(byte[] b, int off) {
    return (b[off] & 0xFFL) | (b[off + 1] & 0xFFL) << 8 | (b[off + 2] & 0xFFL) << 16 | (b[off + 3] & 0xFFL) << 24;
  }

  /** Little-endian 64-bit integer at {@code off}. */
  public static long u64(byte[] b, int off) {
    return u32(b, off) | u32(b, off + 4) << 32;
  }

  /** Writes {@code v} as a little-endian 32-bit integer at {@code off}. */
  public static void put32(byte[] b, int off, long v) {
    b[off] = (byte) v;
    b[off + 1] = (byte) (v >>> 8);
    b[off + 2] = (byte) (v >>> 16);
    b[off + 3] = (byte) (v >>> 24);
  }

  /**
   * Whether a FORMAT_DESCRIPTION event says its file carries CRC32 checksums. Its body: binlog version
   * (2), server version (50), created (4), header length (1), post-header lengths, then the checksum
   * algorithm (1) and the event's own checksum (4) when the server knows about checksums (MySQL 5.6.1+,
   * MariaDB 5.3+).
   */
  public static boolean fdeHasCrc32(byte[] b, int off, int len) {
    return len >= HEADER + 57 + 5 && (b[off + len - 5] & 0xFF) == 1;
  }

  /** The file name a ROTATE event names; {@code crc} says whether 4 checksum bytes end the event. */
  public static String rotateName(byte[] b, int off, int len, boolean crc) {
    int start = off + HEADER + 8;
    int end = off + len - (crc ? 4 : 0);
    return new String(b, start, Math.max(0, end - start), StandardCharsets.UTF_8);
  }

  /** The position a ROTATE event names. */
  public static long rotatePosition(byte[] b, int off) {
    return u64(b, off + HEADER);
  }

  /** A 16-byte UUID at {@code off} in its usual text form. */
  public static String uuid(byte[] b, int off) {
    StringBuilder sb = new StringBuilder(36);
    for (int i = 0; i < 16; i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) {
        sb.append('-');
      }
      sb.append(Character.forDigit((b[off + i] >> 4) & 0xF, 16)).append(Character.forDigit(b[off + i] & 0xF, 16));
    }
    return sb.toString();
  }

  /** Writes the CRC32 of the event's first {@code len - 4} bytes (event at offset 0) into its last 4. */
  public static void crc(byte[] ev, int len) {
    CRC32 c = new CRC32();
    c.update(ev, 0, len - 4);
    put32(ev, len - 4, c.getValue());
  }
}
