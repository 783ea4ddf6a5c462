package io.binlogarchive.replication.live;

import io.binlogarchive.replication.internal.BinlogEvents;

/**
 * Follows the events of one binlog file and says where transactions end: a position after which no
 * transaction is open is a boundary, where the spool may stop, resume, report durability and
 * acknowledge.
 *
 * <p>A transaction opens with a GTID event (MySQL's GTID, anonymous or tagged GTID; MariaDB's GTID) or,
 * on servers without them, a {@code BEGIN} query. After the GTID, a {@code BEGIN} opens a multi-event
 * transaction that ends with an XID event, a {@code COMMIT} or {@code ROLLBACK} query, or an XA_PREPARE
 * event; any other statement (DDL, {@code XA COMMIT}) or a compressed transaction payload is the whole
 * transaction. MariaDB's GTID event stands for the {@code BEGIN}, except that it marks a
 * single-statement group with {@code FL_STANDALONE}.
 */
final class TransactionTracker {
  private enum State { NONE, AFTER_GTID, IN_TRANSACTION }

  private State state = State.NONE;
  private String gtid;
  private String lastGtid;

  /** Back to "between transactions", e.g. after the file was truncated at a boundary. */
  void reset() {
    state = State.NONE;
    gtid = null;
  }

  /** @return the GTID of the transaction that ended last, or null if unknown */
  String lastGtid() {
    return lastGtid;
  }

  /**
   * Feeds one event.
   *
   * @param crc whether the event ends with a CRC32
   * @return true if the position after this event is a transaction boundary and this event ended a
   *     transaction
   */
  boolean accept(byte[] b, int off, int len, boolean crc) {
    int type = BinlogEvents.type(b, off);
    switch (type) {
      case BinlogEvents.MARIADB_GTID: {
        int flags2 = b[off + BinlogEvents.HEADER + 12] & 0xFF;
        gtid = BinlogEvents.mariaDbGtid(b, off);
        // MariaDB's GTID event stands for BEGIN; a standalone group is the one statement after it.
        state = (flags2 & BinlogEvents.FL_STANDALONE) != 0 ? State.AFTER_GTID : State.IN_TRANSACTION;
        return false;
      }
      case BinlogEvents.MYSQL_GTID: {
        gtid = BinlogEvents.mySqlGtid(b, off);
        state = State.AFTER_GTID;
        return false;
      }
      case BinlogEvents.MYSQL_TAGGED_GTID:
        gtid = TaggedGtid.decode(b, off + BinlogEvents.HEADER, off + len - (crc ? 4 : 0));
        state = State.AFTER_GTID;
        return false;
      case BinlogEvents.MYSQL_ANONYMOUS_GTID:
        gtid = null;
        state = State.AFTER_GTID;
        return false;
      case BinlogEvents.MARIADB_ANNOTATE_ROWS:
      case BinlogEvents.ROWS_QUERY:
        return false;
      case BinlogEvents.QUERY: {
        String q = BinlogEvents.queryPrefix(b, off, len, crc).toUpperCase(java.util.Locale.ROOT);
        if (state == State.IN_TRANSACTION) {
          return q.startsWith("COMMIT") || q.startsWith("ROLLBACK") || q.startsWith("XA COMMIT")
              || q.startsWith("XA ROLLBACK") ? end() : false;
        }
        if (q.equals("BEGIN") || q.startsWith("BEGIN\0") || q.equals("XA START") || q.startsWith("XA START ")) {
          state = State.IN_TRANSACTION;
          return false;
        }
        return state == State.AFTER_GTID ? end() : false;
      }
      case BinlogEvents.XID:
      case BinlogEvents.XA_PREPARE:
      case BinlogEvents.TRANSACTION_PAYLOAD:
        return state != State.NONE ? end() : false;
      default:
        return false;
    }
  }

  /** @return whether no transaction is open after the events fed so far */
  boolean atBoundary() {
    return state == State.NONE;
  }

  private boolean end() {
    state = State.NONE;
    lastGtid = gtid;
    gtid = null;
    return true;
  }
}
