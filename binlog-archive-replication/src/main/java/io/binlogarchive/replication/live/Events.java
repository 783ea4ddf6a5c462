package io.binlogarchive.replication.live;

import io.binlogarchive.replication.internal.BinlogEvents;
import java.nio.charset.StandardCharsets;

/** What only the spool needs of the binlog layout; the rest is in {@link BinlogEvents}. */
final class Events {
  static final byte[] MAGIC = {(byte) 0xFE, 0x62, 0x69, 0x6E};

  private Events() {}

  /**
   * The statement of a QUERY_EVENT, at most its first 16 bytes (enough to tell BEGIN, COMMIT, ROLLBACK
   * and XA statements apart).
   */
  static String queryPrefix(byte[] b, int off, int len, boolean crc) {
    int p = off + BinlogEvents.HEADER;
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
