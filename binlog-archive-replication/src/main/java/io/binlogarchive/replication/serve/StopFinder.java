package io.binlogarchive.replication.serve;

import io.binlogarchive.replication.internal.BinlogEvents;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where serving a file stops for a time or a position target, always at a transaction boundary
 * (a GTID event, a {@code BEGIN} without one, or an event that belongs to no transaction), so the
 * replica never receives part of a transaction. GTID targets use core's stop finder, through
 * {@code ArchiveReader.fetch}.
 */
final class StopFinder {
  private StopFinder() {}

  /**
   * For a time target: the start of the first transaction with an event stamped at or after
   * {@code stopSecond} (the target second plus one), as {@code mariadb-binlog --stop-datetime}
   * replays it (it stops at that event; the client then drops the unfinished transaction).
   *
   * @param end where the file's last complete event ends
   * @return the offset to stop at, or -1 if every event of the file is earlier
   */
  static long beforeTime(Path file, long from, long end, long stopSecond) throws IOException {
    try (EventReader r = new EventReader(file, from, end)) {
      long txStart = -1;
      while (r.next()) {
        txStart = track(r, txStart);
        if (BinlogEvents.timestamp(r.buffer(), 0) >= stopSecond) {
          return txStart >= 0 ? txStart : r.offset();
        }
      }
      return -1;
    }
  }

  /**
   * For a position target: the last transaction boundary at or before {@code position} (the
   * position itself when it is one, as positions from {@code SHOW MASTER STATUS} are).
   *
   * @return the offset to stop at, or -1 if the file ends at or before {@code position}
   */
  static long atOrBefore(Path file, long from, long position) throws IOException {
    return atOrBefore(file, from, Long.MAX_VALUE, position);
  }

  /** As {@link #atOrBefore(Path, long, long)}, reading no event at or past {@code end}. */
  static long atOrBefore(Path file, long from, long end, long position) throws IOException {
    try (EventReader r = new EventReader(file, from, end)) {
      long boundary = from;
      long txStart = -1;
      while (r.next()) {
        if (r.offset() > position) {
          return boundary;
        }
        txStart = track(r, txStart);
        if (txStart < 0 || txStart == r.offset()) {
          boundary = r.offset();
        }
        if (r.end() > position) {
          return boundary;
        }
      }
      return -1;
    }
  }

  /** The offset where the transaction holding the current event started, or -1 outside one. */
  private static long track(EventReader r, long txStart) {
    int type = BinlogEvents.type(r.buffer(), 0);
    if (Events.startsTransaction(type)) {
      return r.offset();
    }
    if (Events.outsideTransactions(type)) {
      return -1;
    }
    if (type == BinlogEvents.QUERY && txStart < 0
        && BinlogEvents.queryPrefix(r.buffer(), 0, r.length(), false).startsWith("BEGIN")) {
      return r.offset();
    }
    return txStart;
  }
}
