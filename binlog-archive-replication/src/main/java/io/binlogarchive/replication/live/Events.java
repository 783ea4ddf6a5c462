package io.binlogarchive.replication.live;

import java.nio.charset.StandardCharsets;

/** Binlog event header layout and the few event types the spool has to recognise. */
final class Events {
  static final int HEADER = 19;
  static final int QUERY = 2;
  static final int STOP = 3;
  static final int ROTATE = 4;
  static final int FORMAT_DESCRIPTION = 15;
  static final int XID = 16;
  static final int HEARTBEAT = 27;
  static final int ROWS_QUERY = 29;
  static final int GTID = 33;
  static final int ANONYMOUS_GTID = 34;
  static final int XA_PREPARE = 38;
  static final int TRANSACTION_PAYLOAD = 40;
  static final int HEARTBEAT_V2 = 41;
  static final int GTID_TAGGED = 42;
  static final int MARIADB_ANNOTATE_ROWS = 160;
  static final int MARIADB_GTID = 162;
  /** LOG_EVENT_ARTIFICIAL_F: made up by the dump thread, not in the file. */
  static final int ARTIFICIAL = 0x20;
  /** MariaDB GTID event flag: the group is one event (DDL), no BEGIN/COMMIT. */
  static final int FL_STANDALONE = 1;
  static final byte[] MAGIC = {(byte) 0xFE, 0x62, 0x69, 0x6E};

  private Events() {}

  static int type(byte[] b, int off) {
    return b[off + 4] & 0xFF;
  }

  static long timestamp(byte[] b, int off) {
    return u32(b, off);
  }

  static long serverId(byte[] b, int off) {
    return u32(b, off + 5);
  }

  static long size(byte[] b, int off) {
    return u32(b, off + 9);
  }

  static long logPos(byte[] b, int off) {
    return u32(b, off + 13);
  }

  static int flags(byte[] b, int off) {
    return (b[off + 17] & 0xFF) | (b[off + 18] & 0xFF) << 8;
  }

  static long u32(byte[] b, int off) {
    return (b[off] & 0xFFL) | (b[off + 1] & 0xFFL) << 8 | (b[off + 2] & 0xFFL) << 16 | (b[off + 3] & 0xFFL) << 24;
  }

  static long u64(byte[] b, int off) {
    return u32(b, off) | u32(b, off + 4) << 32;
  }

  /** The checksum algorithm byte of a FORMAT_DESCRIPTION_EVENT: true for CRC32. */
  static boolean fdeHasCrc32(byte[] b, int off, int len) {
    return len >= HEADER + 57 + 5 && (b[off + len - 5] & 0xFF) == 1;
  }

  /** The file name a ROTATE_EVENT names; {@code crc} says whether 4 checksum bytes end the event. */
  static String rotateName(byte[] b, int off, int len, boolean crc) {
    int start = off + HEADER + 8;
    int end = off + len - (crc ? 4 : 0);
    return new String(b, start, Math.max(0, end - start), StandardCharsets.UTF_8);
  }

  static long rotatePosition(byte[] b, int off) {
    return u64(b, off + HEADER);
  }

  /**
   * The statement of a QUERY_EVENT, at most its first 16 bytes (enough to tell BEGIN, COMMIT, ROLLBACK
   * and XA statements apart).
   */
  static String queryPrefix(byte[] b, int off, int len, boolean crc) {
    int p = off + HEADER;
    int dbLen = b[p + 8] & 0xFF;
    int statusLen = (b[p + 11] & 0xFF) | (b[p + 12] & 0xFF) << 8;
    int start = p + 13 + statusLen + dbLen + 1;
    int end = off + len - (crc ? 4 : 0);
    if (start > end) {
      return "";
    }
    return new String(b, start, Math.min(16, end - start), StandardCharsets.ISO_8859_1);
  }
}
