package io.binlogarchive.replication.serve;

import static io.binlogarchive.replication.internal.BinlogEvents.ARTIFICIAL_FLAG;
import static io.binlogarchive.replication.internal.BinlogEvents.FORMAT_DESCRIPTION;
import static io.binlogarchive.replication.internal.BinlogEvents.HEADER;
import static io.binlogarchive.replication.internal.BinlogEvents.HEARTBEAT;
import static io.binlogarchive.replication.internal.BinlogEvents.IN_USE_FLAG;
import static io.binlogarchive.replication.internal.BinlogEvents.MARIADB_BINLOG_CHECKPOINT;
import static io.binlogarchive.replication.internal.BinlogEvents.MARIADB_GTID;
import static io.binlogarchive.replication.internal.BinlogEvents.MARIADB_GTID_LIST;
import static io.binlogarchive.replication.internal.BinlogEvents.MARIADB_START_ENCRYPTION;
import static io.binlogarchive.replication.internal.BinlogEvents.MYSQL_ANONYMOUS_GTID;
import static io.binlogarchive.replication.internal.BinlogEvents.MYSQL_GTID;
import static io.binlogarchive.replication.internal.BinlogEvents.MYSQL_PREVIOUS_GTIDS;
import static io.binlogarchive.replication.internal.BinlogEvents.MYSQL_TAGGED_GTID;
import static io.binlogarchive.replication.internal.BinlogEvents.ROTATE;
import static io.binlogarchive.replication.internal.BinlogEvents.STOP;
import static io.binlogarchive.replication.internal.BinlogEvents.crc;
import static io.binlogarchive.replication.internal.BinlogEvents.put32;
import static io.binlogarchive.replication.internal.BinlogEvents.type;

import io.binlogarchive.replication.internal.BinlogEvents;
import java.nio.charset.StandardCharsets;

/**
 * What only serve needs of the binlog layout (the rest is in {@link BinlogEvents}): transaction
 * boundaries, GTIDs, and the artificial events a server makes up for a dump (ROTATE, HEARTBEAT) or
 * patches (the format description re-sent at a dump's start).
 */
final class Events {
  private Events() {}

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
    int type = type(ev, 0);
    if (type == MARIADB_GTID && len >= HEADER + 12) {
      return BinlogEvents.mariaDbGtid(ev, 0);
    }
    if (type == MYSQL_GTID && len >= HEADER + 25) {
      return BinlogEvents.mySqlGtid(ev, 0);
    }
    return null;
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
    if (startInside) {
      put32(ev, 13, 0);
      if (len >= HEADER + 56) {
        put32(ev, HEADER + 52, 0);
      }
    }
    clearInUse(ev, len, checksums);
  }

  /** Clears the in-use flag of a format description read from a file that was open; the checksum recomputed. */
  static void clearInUse(byte[] ev, int len, boolean checksums) {
    ev[17] = (byte) ((ev[17] & 0xFF) & ~IN_USE_FLAG);
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
}
