package io.binlogarchive.replication.serve;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Binlog event layout (v4): the 19-byte header, the event types serve looks at, and the
 * artificial events a server makes up for a dump (ROTATE, HEARTBEAT) or patches (the format
 * description re-sent at a dump's start).
 */
final class Events {
  static final int HEADER = 19;
  static final int QUERY = 2;
  static final int STOP = 3;
  static final int ROTATE = 4;
  static final int FORMAT_DESCRIPTION = 15;
  static final int XID = 16;
  static final int HEARTBEAT = 27;
  static final int MYSQL_GTID = 33;
  static final int MYSQL_ANONYMOUS_GTID = 34;
  static final int MYSQL_PREVIOUS_GTIDS = 35;
  static final int MYSQL_TAGGED_GTID = 42;
  static final int MARIADB_ANNOTATE_ROWS = 160;
  static final int MARIADB_BINLOG_CHECKPOINT = 161;
  static final int MARIADB_GTID = 162;
  static final int MARIADB_GTID_LIST = 163;
  static final int MARIADB_START_ENCRYPTION = 164;

  /** LOG_EVENT_BINLOG_IN_USE_F: the file was open when the event was read. */
  static final int IN_USE_FLAG = 0x1;
  /** LOG_EVENT_ARTIFICIAL_F: made up by the server for this dump, not in any file. */
  static final int ARTIFICIAL_FLAG = 0x20;

  private Events() {}

  static int type(byte[] ev) {
    return ev[4] & 0xFF;
  }

  static long u32(byte[] b, int i) {
    return (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8 | (b[i + 2] & 0xFFL) << 16 | (b[i + 3] & 0xFFL) << 24;
  }

  static long u64(byte[] b, int i) {
    return u32(b, i) | u32(b, i + 4) << 32;
  }

  static void put32(byte[] b, int i, long v) {
    b[i] = (byte) v;
    b[i + 1] = (byte) (v >>> 8);
    b[i + 2] = (byte) (v >>> 16);
    b[i + 3] = (byte) (v >>> 24);
  }

  static long timestamp(byte[] ev) {
    return u32(ev, 0);
  }

  static long serverId(byte[] ev) {
    return u32(ev, 5);
  }

  static long size(byte[] ev) {
    return u32(ev, 9);
  }

  static long logPos(byte[] ev) {
    return u32(ev, 13);
  }

  /** Whether the event type starts a transaction (a GTID event of either flavour). */
  static boolean startsTransaction(int type) {
    return type == MARIADB_GTID || type == MYSQL_GTID || type == MYSQL_ANONYMOUS_GTID || type == MYSQL_TAGGED_GTID;
  }

  /** Whether the event type belongs to the file rather than to any transaction. */
  static boolean outsideTransactions(int type) {
    return type == FORMAT_DESCRIPTION || type == ROTATE || type == STOP || type == MARIADB_GTID_LIST
        || type == MARIADB_BINLOG_CHECKPOINT || type == MYSQL_PREVIOUS_GTIDS || type == MARIADB_START_ENCRYPTION
        || type == HEARTBEAT;
  }

  /**
   * The GTID an event starts, or null: MariaDB {@code domain-server-seq}, MySQL {@code uuid:gno}
   * (anonymous and tagged GTIDs give null).
   */
  static String gtid(byte[] ev, int len, boolean checksums) {
    int type = type(ev);
    if (type == MARIADB_GTID && len >= HEADER + 12) {
      return u32(ev, HEADER + 8) + "-" + serverId(ev) + "-" + Long.toUnsignedString(u64(ev, HEADER));
    }
    if (type == MYSQL_GTID && len >= HEADER + 25) {
      return uuid(ev, HEADER + 1) + ":" + u64(ev, HEADER + 17);
    }
    return null;
  }

  static String uuid(byte[] b, int off) {
    StringBuilder sb = new StringBuilder(36);
    for (int i = 0; i < 16; i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) {
        sb.append('-');
      }
      sb.append(Character.forDigit((b[off + i] >> 4) & 0xF, 16)).append(Character.forDigit(b[off + i] & 0xF, 16));
    }
    return sb.toString();
  }

  /** The next file a ROTATE event names. */
  static String rotateFile(byte[] ev, int len, boolean checksums) {
    int end = len - (checksums ? 4 : 0);
    return new String(ev, HEADER + 8, Math.max(0, end - HEADER - 8), StandardCharsets.UTF_8);
  }

  /** The position a ROTATE event names. */
  static long rotatePosition(byte[] ev) {
    return u64(ev, HEADER);
  }

  /** Whether a format description event says its file carries CRC32 checksums. */
  static boolean fdeChecksums(byte[] ev, int len) {
    // body: binlog version (2), server version (50), created (4), header length (1), post-header
    // lengths..., then the checksum algorithm (1) and the event's own checksum (4) when the server
    // knows about checksums (MySQL 5.6.1+, MariaDB 5.3+)
    return len >= HEADER + 57 + 5 && ev[len - 5] == 1;
  }

  /** A ROTATE event for {@code file} at {@code position}, marked artificial (log_pos 0). */
  static byte[] fakeRotate(long serverId, String file, long position, boolean checksums) {
    byte[] name = file.getBytes(StandardCharsets.UTF_8);
    byte[] ev = new byte[HEADER + 8 + name.length + (checksums ? 4 : 0)];
    header(ev, 0, ROTATE, serverId, 0, ARTIFICIAL_FLAG);
    for (int i = 0; i < 8; i++) {
      ev[HEADER + i] = (byte) (position >>> (8 * i));
    }
    System.arraycopy(name, 0, ev, HEADER + 8, name.length);
    return seal(ev, checksums);
  }

  /** A HEARTBEAT event: the replica is at {@code position} of {@code file} and nothing new has come. */
  static byte[] heartbeat(long serverId, String file, long position, boolean checksums) {
    byte[] name = file.getBytes(StandardCharsets.UTF_8);
    byte[] ev = new byte[HEADER + name.length + (checksums ? 4 : 0)];
    header(ev, 0, HEARTBEAT, serverId, position, ARTIFICIAL_FLAG);
    System.arraycopy(name, 0, ev, HEADER, name.length);
    return seal(ev, checksums);
  }

  /**
   * Patches the format description re-sent when a dump starts inside a file, as servers do: log_pos
   * 0 (the replica must not move its position), {@code created} 0 (the replica must not drop its
   * temporary tables as after a source restart), in-use flag cleared; the checksum recomputed.
   */
  static void patchStartFde(byte[] ev, int len, boolean checksums, boolean startInside) {
    int flags = (ev[17] & 0xFF) & ~IN_USE_FLAG;
    ev[17] = (byte) flags;
    if (startInside) {
      put32(ev, 13, 0);
      if (len >= HEADER + 56) {
        put32(ev, HEADER + 52, 0);
      }
    }
    if (checksums) {
      crc(ev, len);
    }
  }

  private static void header(byte[] ev, long timestamp, int type, long serverId, long logPos, int flags) {
    put32(ev, 0, timestamp);
    ev[4] = (byte) type;
    put32(ev, 5, serverId);
    put32(ev, 9, ev.length);
    put32(ev, 13, logPos);
    ev[17] = (byte) flags;
    ev[18] = (byte) (flags >>> 8);
  }

  private static byte[] seal(byte[] ev, boolean checksums) {
    if (checksums) {
      crc(ev, ev.length);
    }
    return ev;
  }

  /** Writes the CRC32 of the event's first {@code len - 4} bytes into its last 4. */
  static void crc(byte[] ev, int len) {
    CRC32 c = new CRC32();
    c.update(ev, 0, len - 4);
    put32(ev, len - 4, c.getValue());
  }
}
