package io.binlogarchive.internal.binlog;

import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.binlog.GtidSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * GTID state arithmetic for restores. MySQL states are executed sets ({@code uuid:1-100}); MariaDB
 * states are positions, the last sequence number per domain-server ({@code 0-1-100}), held as a
 * {@link GtidSet} of one number per source.
 */
public final class GtidState {
  private GtidState() {}

  public static boolean isMariaDb(BinlogInfo info) {
    return info != null && "mariadb".equals(info.flavor());
  }

  /** The state before the file's first transaction, or null if unknown. */
  public static GtidSet start(BinlogInfo info) {
    if (info == null || info.previousGtids() == null || info.unparsedGtidEventCount() > 0) {
      return null;
    }
    return GtidSet.parse(info.previousGtids());
  }

  /** The state after the file's last transaction, or null if unknown. */
  public static GtidSet end(BinlogInfo info) {
    GtidSet start = start(info);
    if (start == null || info.gtids() == null) {
      return null;
    }
    GtidSet added = GtidSet.parse(info.gtids());
    if (!isMariaDb(info)) {
      return start.union(added);
    }
    Map<String, Long> last = new TreeMap<>(start.lastSequences());
    added.lastSequences().forEach((s, n) -> last.merge(s, n, Math::max));
    return points(last);
  }

  static GtidSet points(Map<String, Long> last) {
    if (last.isEmpty()) {
      return GtidSet.empty();
    }
    StringBuilder sb = new StringBuilder();
    last.forEach((s, n) -> sb.append(sb.length() == 0 ? "" : ",").append(s).append('-').append(n));
    return GtidSet.parse(sb.toString());
  }

  /** Whether a state includes every transaction of the target. */
  public static boolean reached(GtidSet state, GtidSet target, boolean mariadb) {
    if (state == null) {
      return false;
    }
    if (!mariadb) {
      return state.containsAll(target);
    }
    Map<String, Long> have = state.lastSequences();
    for (var e : target.lastSequences().entrySet()) {
      Long n = have.get(e.getKey());
      if (n == null || n < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** After {@code state}, also {@code gtid} is applied. */
  static GtidSet plus(GtidSet state, GtidSet gtid, boolean mariadb) {
    if (!mariadb) {
      return state.union(gtid);
    }
    Map<String, Long> last = new TreeMap<>(state.lastSequences());
    gtid.lastSequences().forEach((s, n) -> last.merge(s, n, Math::max));
    return points(last);
  }

  /** The state in the server's own text form: MariaDB {@code 0-1-100,1-2-5}, MySQL {@code uuid:1-100}. */
  public static String text(GtidSet state, boolean mariadb) {
    if (state == null) {
      return null;
    }
    return mariadb ? mariaDbList(state) : state.toString();
  }

  /**
   * @param list a MariaDB GTID set
   * @return MariaDB's own GTID list form, {@code domain-server-seq,...}: one GTID per domain-server pair
   */
  public static String mariaDbList(GtidSet list) {
    StringBuilder sb = new StringBuilder();
    list.lastSequences().forEach((source, seq) -> {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(source).append('-').append(seq);
    });
    return sb.toString();
  }
}
