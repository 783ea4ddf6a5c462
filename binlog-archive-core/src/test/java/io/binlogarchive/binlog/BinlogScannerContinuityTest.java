package io.binlogarchive.binlog;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("BinlogInfo.continuityProblem")
class BinlogScannerContinuityTest {
  static final String A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  static List<BinlogInfo> chain;

  @BeforeAll
  static void scanChain() throws IOException {
    chain = new ArrayList<>();
    for (Path p : BinlogFixtures.chain()) {
      chain.add(BinlogScanner.scan(p));
    }
  }

  @Test
  @DisplayName("finds no problem between any two consecutive files of the 13-file MariaDB chain")
  void wholeChain() {
    assertThat(chain).hasSize(13);
    for (int k = 0; k + 1 < chain.size(); k++) {
      assertThat(BinlogInfo.continuityProblem(chain.get(k), chain.get(k + 1))).as("files %d and %d", k + 1, k + 2).isEmpty();
    }
    GtidSet all = GtidSet.empty();
    for (BinlogInfo i : chain) {
      all = all.union(GtidSet.parse(i.gtids()));
    }
    assertThat(all).hasToString("0-3:1-3476");
  }

  @Test
  @DisplayName("reports a skipped file, naming both GTID positions")
  void skippedFile() {
    Optional<String> problem = BinlogInfo.continuityProblem(chain.get(3), chain.get(5));
    assertThat(problem).hasValueSatisfying(m -> assertThat(m)
        .contains("GTID_LIST is [" + chain.get(5).previousGtids() + "]")
        .contains("ends at [" + lastOf(chain.get(3)) + "]")
        .contains("missing or out of order"));
  }

  @Test
  @DisplayName("reports files taken in the wrong order")
  void wrongOrder() {
    assertThat(BinlogInfo.continuityProblem(chain.get(6), chain.get(5))).isPresent();
  }

  private static String lastOf(BinlogInfo i) {
    var last = GtidSet.parse(i.gtids()).lastSequences().entrySet().iterator().next();
    return last.getKey() + "-" + last.getValue();
  }

  static BinlogInfo info(String flavor, String previous, String gtids, long unparsed) {
    return new BinlogInfo(flavor, "8.0.40", 4, "crc32", false, true, null, null, null, null, previous, gtids, List.of(1L),
        3, 1, 0, 0, 0, 1000, unparsed);
  }

  @Test
  @DisplayName("accepts a MySQL file whose PREVIOUS_GTIDS is the previous start plus its GTIDs")
  void mysqlContinues() {
    BinlogInfo k = info("mysql", A + ":1-10", A + ":11-20", 0);
    assertThat(BinlogInfo.continuityProblem(k, info("mysql", A + ":1-20", A + ":21", 0))).isEmpty();
  }

  @Test
  @DisplayName("reports MySQL transactions that neither file accounts for")
  void mysqlGap() {
    BinlogInfo k = info("mysql", A + ":1-10", A + ":11-20", 0);
    assertThat(BinlogInfo.continuityProblem(k, info("mysql", A + ":1-25", "", 0)))
        .hasValueSatisfying(m -> assertThat(m).contains("not in the previous file: " + A + ":21-25"));
    assertThat(BinlogInfo.continuityProblem(k, info("mysql", A + ":1-15", "", 0)))
        .hasValueSatisfying(m -> assertThat(m).contains("does not account for: " + A + ":16-20"));
  }

  @Test
  @DisplayName("refuses to vouch for files it could not fully decode or that lack GTID information")
  void cannotVerify() {
    BinlogInfo ok = info("mysql", "", A + ":1", 0);
    assertThat(BinlogInfo.continuityProblem(ok, info("mysql", A + ":1", "", 2))).hasValueSatisfying(m -> assertThat(m).startsWith("cannot verify"));
    assertThat(BinlogInfo.continuityProblem(ok, info("mysql", null, "", 0))).hasValueSatisfying(m -> assertThat(m).startsWith("cannot verify"));
    assertThat(BinlogInfo.continuityProblem(ok, info("mariadb", "", "", 0))).hasValueSatisfying(m -> assertThat(m).contains("flavours"));
  }
}
