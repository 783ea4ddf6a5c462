package io.binlogarchive.binlog;

import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The scan of a binlog a server crash cut short ({@link BinlogScanner#finishCrashed()}), on a real
 * MariaDB 10.11 binlog cut where a crash could cut it: at a transaction boundary, inside the last
 * transaction's XID event, and inside an event header.
 */
@DisplayName("BinlogScanner on a file a server crash cut short")
class BinlogScannerCrashedFileTest {
  byte[] whole;
  BinlogInfo full;
  int lastXid;
  int rotate;

  @BeforeEach
  void readFixture() throws Exception {
    whole = Files.readAllBytes(Fixtures.chain().resolve("mysql-bin.000002"));
    whole[21] |= BinlogScanner.LOG_EVENT_BINLOG_IN_USE_F; // as the crash leaves it
    full = BinlogScanner.scan(Fixtures.chain().resolve("mysql-bin.000002"));
    assertThat(full.gtids()).as("the fixture's GTIDs").isNotEmpty();
    for (int at = 4; at < whole.length; at += u32(whole, at + 9)) {
      int type = whole[at + 4] & 0xff;
      if (type == BinlogScanner.XID_EVENT) {
        lastXid = at;
      } else if (type == BinlogScanner.ROTATE_EVENT) {
        rotate = at;
      }
    }
    assertThat(rotate).as("the fixture ends with a ROTATE after its last XID").isGreaterThan(lastXid).isPositive();
  }

  @Test
  @DisplayName("cut at a transaction boundary: every transaction and GTID counts, the end is the cut")
  void atBoundary() {
    BinlogInfo info = scanCrashed(rotate);
    assertThat(info.gtids()).isEqualTo(full.gtids());
    assertThat(info.transactionCount()).isEqualTo(full.transactionCount());
    assertThat(info.endPosition()).isEqualTo(rotate);
    assertThat(info.inUse()).isTrue();
    assertThat(info.closed()).isFalse();
  }

  @Test
  @DisplayName("cut inside the last XID event: that transaction was rolled back, so neither it nor its GTID counts")
  void insideLastCommit() {
    BinlogInfo info = scanCrashed(lastXid + 10);
    java.util.Map<String, Long> before = new java.util.TreeMap<>(GtidSet.parse(full.gtids()).lastSequences());
    before.replaceAll((source, seq) -> seq - 1); // one server, one domain: the last GTID is the one lost
    assertThat(GtidSet.parse(info.gtids()).lastSequences()).isEqualTo(before);
    assertThat(info.transactionCount()).isEqualTo(full.transactionCount() - 1);
    assertThat(info.endPosition()).isEqualTo(lastXid);
    assertThat(info.eventCount()).isLessThan(full.eventCount());
  }

  @Test
  @DisplayName("cut inside an event header after the last commit: the end is where that header starts")
  void insideHeader() {
    BinlogInfo info = scanCrashed(rotate + 7);
    assertThat(info.endPosition()).isEqualTo(rotate);
    assertThat(info.gtids()).isEqualTo(full.gtids());
  }

  @Test
  @DisplayName("the ordinary finish still refuses the same cut file as truncated")
  void ordinaryFinishRefuses() {
    BinlogScanner s = new BinlogScanner("cut", true);
    s.update(whole, 0, lastXid + 10);
    assertThatThrownBy(s::finish).isInstanceOf(InvalidBinlogException.class).hasMessageContaining("truncated");
  }

  private BinlogInfo scanCrashed(int length) {
    BinlogScanner s = new BinlogScanner("cut", true);
    byte[] cut = Arrays.copyOf(whole, length);
    s.update(cut, 0, cut.length);
    return s.finishCrashed();
  }

  static int u32(byte[] b, int i) {
    return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (b[i + 3] & 0xff) << 24;
  }
}
