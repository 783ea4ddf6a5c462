package io.binlogarchive.replication.live;

import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.replication.internal.PayloadWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary form of a MySQL GTID set in {@code COM_BINLOG_DUMP_GTID}.
 *
 * <p>Untagged: the number of entries (8 bytes), then per server UUID: the 16 UUID bytes, the number
 * of intervals (8 bytes) and each interval as start and end-exclusive (8 bytes each), all
 * little-endian. When any entry has a tag (MySQL 8.3+), the first 8 bytes become {@code (1 << 56) |
 * (entries << 8) | 1} and each entry carries its tag after the UUID: one byte {@code length << 1}
 * (the serialization library's variable-length form of a number below 128) and the tag's bytes, an
 * untagged entry having length 0. Each (UUID, tag) pair is its own entry.
 */
final class MySqlGtidSetEncoding {
  private MySqlGtidSetEncoding() {}

  private record Entry(String uuid, String tag, List<long[]> intervals) {}

  static byte[] encode(String text) {
    GtidSet set = GtidSet.parse(text);
    List<Entry> entries = entries(set.toString());
    boolean tagged = entries.stream().anyMatch(e -> !e.tag.isEmpty());
    PayloadWriter w = new PayloadWriter();
    long n = entries.size();
    w.fixed(tagged ? (1L << 56) | (n << 8) | 1 : n, 8);
    for (Entry e : entries) {
      w.bytes(uuidBytes(e.uuid));
      if (tagged) {
        byte[] tag = e.tag.getBytes(StandardCharsets.US_ASCII);
        w.u8(tag.length << 1).bytes(tag);
      }
      w.fixed(e.intervals.size(), 8);
      for (long[] iv : e.intervals) {
        w.fixed(iv[0], 8).fixed(iv[1] + 1, 8);
      }
    }
    return w.toByteArray();
  }

  /** Splits the canonical text ({@code uuid:1-5:7:tag:1-3,uuid2:...}) into (uuid, tag) entries. */
  private static List<Entry> entries(String canonical) {
    List<Entry> out = new ArrayList<>();
    if (canonical.isEmpty()) {
      return out;
    }
    for (String element : canonical.split(",")) {
      String[] parts = element.strip().split(":");
      String uuid = parts[0];
      if (!uuid.contains("-") || uuid.length() != 36) {
        throw new IllegalArgumentException("'" + element + "' is not a MySQL GTID set element (a MariaDB GTID"
            + " position is given with @slave_connect_state, not COM_BINLOG_DUMP_GTID)");
      }
      String tag = "";
      List<long[]> intervals = new ArrayList<>();
      for (int i = 1; i < parts.length; i++) {
        String p = parts[i];
        if (Character.isDigit(p.charAt(0))) {
          int dash = p.indexOf('-');
          long start = Long.parseLong(dash < 0 ? p : p.substring(0, dash));
          long end = dash < 0 ? start : Long.parseLong(p.substring(dash + 1));
          intervals.add(new long[] {start, end});
        } else {
          if (!intervals.isEmpty() || !tag.isEmpty()) {
            out.add(new Entry(uuid, tag, intervals));
          }
          tag = p;
          intervals = new ArrayList<>();
        }
      }
      out.add(new Entry(uuid, tag, intervals));
    }
    return out;
  }

  private static byte[] uuidBytes(String uuid) {
    String hex = uuid.replace("-", "");
    byte[] b = new byte[16];
    for (int i = 0; i < 16; i++) {
      b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    return b;
  }
}
