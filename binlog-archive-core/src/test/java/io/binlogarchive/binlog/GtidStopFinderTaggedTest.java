package io.binlogarchive.binlog;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.internal.binlog.GtidStopFinder;
import static io.binlogarchive.binlog.BinlogScannerTaggedGtidTest.UUID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("GtidStopFinder on a binlog with tagged GTIDs (MySQL 9.6.0)")
class GtidStopFinderTaggedTest {
  static final GtidSet START = GtidSet.parse(UUID + ":1-13:mytag:1-2");

  @TempDir Path dir;

  Path write(byte[] data) throws IOException {
    return Files.write(dir.resolve("binlog.000005"), data);
  }

  @Test
  @DisplayName("finds that the file's last transaction, the tagged GTID, completes a tagged target")
  void taggedTarget() throws IOException {
    Path f = write(BinlogScannerTaggedGtidTest.fixture());
    assertThat(GtidStopFinder.find(f, START, GtidSet.parse(UUID + ":1-13:mytag:1-3"), false)).isEqualTo(-1);
  }

  @Test
  @DisplayName("says no transaction completes a tagged target beyond the file")
  void targetBeyond() throws IOException {
    Path f = write(BinlogScannerTaggedGtidTest.fixture());
    assertThatThrownBy(() -> GtidStopFinder.find(f, START, GtidSet.parse(UUID + ":mytag:4"), false))
        .isInstanceOf(ArchiveException.class)
        .hasMessageContaining("no transaction of binlog.000005 completes GTID")
        .hasMessageContaining(UUID + ":1-13:mytag:1-3");
  }

  @Test
  @DisplayName("rejects a malformed tagged GTID event, naming the file and offset")
  void malformed() throws IOException {
    byte[] d = BinlogScannerTaggedGtidTest.fixture();
    d[BinlogScannerTaggedGtidTest.TAGGED_BODY + 1] = (byte) (61 << 1);
    Path f = write(d);
    assertThatThrownBy(() -> GtidStopFinder.find(f, START, GtidSet.parse(UUID + ":mytag:3"), false))
        .isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("binlog.000005")
        .hasMessageContaining("offset " + BinlogScannerTaggedGtidTest.TAGGED);
  }
}
