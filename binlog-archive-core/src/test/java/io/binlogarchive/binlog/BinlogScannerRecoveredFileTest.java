package io.binlogarchive.binlog;

import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Files shaped the way MySQL's crash recovery leaves a crashed binlog: truncated to its last
 * complete transaction, in-use flag cleared, no ROTATE or STOP at the end (MYSQL_BIN_LOG::open_binlog
 * in MySQL's sql/binlog.cc). No MySQL server runs here, so the shape is made by cutting real MySQL
 * 8.0 binlogs from the shared fixtures where recovery would cut them.
 */
@DisplayName("BinlogScanner on a file MySQL's crash recovery truncated")
class BinlogScannerRecoveredFileTest {

  static Path fixture(String name) {
    return Fixtures.dir().resolve("mysql").resolve(name);
  }

  static BinlogScanner scanned(byte[] b, int length) {
    BinlogScanner s = new BinlogScanner("cut", true);
    byte[] cut = Arrays.copyOf(b, length);
    cut[21] &= ~BinlogScanner.LOG_EVENT_BINLOG_IN_USE_F; // recovery clears the flag
    s.update(cut, 0, cut.length);
    return s;
  }

  /** @return the offset of the last event of {@code type}, and of the event after it, or -1s */
  static int[] last(byte[] b, int type) {
    int at = -1;
    int next = -1;
    for (int p = 4; p + 19 <= b.length; p += BinlogScannerCrashedFileTest.u32(b, p + 9)) {
      if ((b[p + 4] & 0xff) == type) {
        at = p;
        next = p + BinlogScannerCrashedFileTest.u32(b, p + 9);
      }
    }
    return new int[] {at, next};
  }

  @Test
  @DisplayName("MySQL 8.0.26 file cut before its STOP: ends between transactions, every GTID counts, not closed")
  void betweenTransactions() throws Exception {
    byte[] b = Files.readAllBytes(fixture("binlog-invisible-columns.000001"));
    BinlogInfo full = BinlogScanner.scan(fixture("binlog-invisible-columns.000001"));
    int stop = last(b, BinlogScanner.STOP_EVENT)[0];
    assertThat(stop).as("the fixture ends with a STOP").isPositive();
    BinlogScanner s = scanned(b, stop);
    BinlogInfo info = s.finish();
    assertThat(s.endedInsideTransaction()).isFalse();
    assertThat(info.closed()).isFalse();
    assertThat(info.inUse()).isFalse();
    assertThat(info.endPosition()).isEqualTo(stop);
    assertThat(info.gtids()).isEqualTo(full.gtids()).isNotEmpty();
    assertThat(info.transactionCount()).isEqualTo(full.transactionCount());
  }

  @Test
  @DisplayName("the same file cut right after its last GTID event ends inside a transaction")
  void insideTransaction() throws Exception {
    byte[] b = Files.readAllBytes(fixture("binlog-invisible-columns.000001"));
    int afterGtid = last(b, BinlogScanner.GTID_LOG_EVENT)[1];
    BinlogScanner s = scanned(b, afterGtid);
    s.finish();
    assertThat(s.endedInsideTransaction()).isTrue();
  }

  @Test
  @DisplayName("MySQL 8.0.28 file cut after a compressed transaction (TRANSACTION_PAYLOAD): that transaction is complete")
  void compressedTransaction() throws Exception {
    byte[] b = Files.readAllBytes(fixture("mysql-bin.compressed"));
    int[] payload = last(b, BinlogScanner.TRANSACTION_PAYLOAD_EVENT);
    assertThat(payload[0]).as("the fixture holds a TRANSACTION_PAYLOAD").isPositive();
    BinlogScanner s = scanned(b, payload[1]);
    BinlogInfo info = s.finish();
    assertThat(s.endedInsideTransaction()).isFalse();
    assertThat(info.compressedTransactionCount()).isPositive();
    assertThat(scanned(b, payload[0]).finish()).as("cut before the payload, after its GTID")
        .extracting(BinlogInfo::endPosition).isEqualTo((long) payload[0]);
    BinlogScanner before = scanned(b, payload[0]);
    before.finish();
    assertThat(before.endedInsideTransaction()).isTrue();
  }
}
