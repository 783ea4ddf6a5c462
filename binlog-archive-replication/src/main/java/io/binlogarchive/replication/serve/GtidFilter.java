package io.binlogarchive.replication.serve;

import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.replication.internal.BinlogEvents;
import io.binlogarchive.replication.internal.PayloadReader;
import java.util.HashMap;
import java.util.Map;

/**
 * The transactions a replica already has, from its GTID position: MariaDB's {@code
 * @slave_connect_state} (per domain, the last sequence number applied) or the GTID set of MySQL's
 * {@code COM_BINLOG_DUMP_GTID}. A dump skips them.
 */
abstract class GtidFilter {
  /** Whether the replica already has {@code gtid} ({@code domain-server-seq} or {@code uuid:gno}). */
  abstract boolean has(String gtid);

  /** @param state MariaDB's list form, {@code 0-1-100,1-2-7}; empty for none */
  static GtidFilter mariaDb(String state) {
    Map<Long, Long> last = new HashMap<>();
    for (String part : state.split(",")) {
      String p = part.strip();
      if (p.isEmpty()) {
        continue;
      }
      String[] f = p.split("-");
      if (f.length != 3) {
        throw new IllegalArgumentException("malformed GTID '" + p + "' in the replica's connect state");
      }
      last.merge(Long.parseLong(f[0]), Long.parseUnsignedLong(f[2]), Math::max);
    }
    return new GtidFilter() {
      @Override
      boolean has(String gtid) {
        String[] f = gtid.split("-");
        if (f.length != 3) {
          return false;
        }
        Long seq = last.get(Long.parseLong(f[0]));
        return seq != null && Long.compareUnsigned(Long.parseUnsignedLong(f[2]), seq) <= 0;
      }
    };
  }

  /**
   * @param encoded the GTID set of {@code COM_BINLOG_DUMP_GTID}: the number of sources, then per
   *     source its UUID, the number of intervals and each interval as [start, end)
   */
  static GtidFilter mySql(byte[] encoded) {
    StringBuilder text = new StringBuilder();
    if (encoded.length > 0) {
      PayloadReader r = new PayloadReader(encoded);
      long sources = r.fixed(8);
      if ((sources >>> 56) != 0) {
        throw new IllegalArgumentException("the replica sent its GTID set in the tagged-GTID encoding of MySQL 8.3+,"
            + " which binlog-archive serve does not read yet");
      }
      for (long s = 0; s < sources; s++) {
        String uuid = BinlogEvents.uuid(r.bytes(16), 0);
        long intervals = r.fixed(8);
        for (long k = 0; k < intervals; k++) {
          long start = r.fixed(8);
          long end = r.fixed(8) - 1;
          if (end < start) {
            continue;
          }
          if (text.length() > 0) {
            text.append(',');
          }
          text.append(uuid).append(':').append(start).append(start == end ? "" : "-" + end);
        }
      }
    }
    GtidSet set = GtidSet.parse(text.toString());
    return new GtidFilter() {
      @Override
      boolean has(String gtid) {
        return set.contains(gtid);
      }
    };
  }
}
