package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.binlogarchive.replication.internal.BinlogEvents;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The spool's restart recovery on real binlogs of MySQL 5.7 to 9.6 and MariaDB (the shared fixtures and
 * core's tagged-GTID file): each file is cut at every event boundary and inside events, and the spool
 * must resume at the start of the transaction the cut falls in. The expected offsets come from a rule
 * simpler than the spool's own: a transaction starts at its GTID event (MySQL 33, 34, 42; MariaDB 162).
 */
@DisplayName("Spool recovery truncates real binlogs to the last whole transaction")
class SpoolRecoveryFixturesTest {
  @TempDir Path tmp;

  static Stream<Named<Path>> fixtures() throws Exception {
    Path shared = sharedFixtures();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(shared.resolve("mysql"))) {
      s.filter(p -> !p.getFileName().toString().endsWith(".md")).sorted().forEach(files::add);
    }
    files.add(shared.resolve("mariadb-10.11-chain").resolve("mysql-bin.000005"));
    files.add(taggedGtidFixture());
    return files.stream().map(p -> Named.of(p.getFileName().toString(), p));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void cuts(Path fixture) throws Exception {
    byte[] file = Files.readAllBytes(fixture);
    List<Long> starts = new ArrayList<>();
    TreeSet<Long> cuts = new TreeSet<>();
    long pos = 4;
    int lastType = -1;
    long lastStart = -1;
    while (pos + BinlogEvents.HEADER <= file.length) {
      int type = BinlogEvents.type(file, (int) pos);
      lastType = type;
      lastStart = pos;
      long size = BinlogEvents.size(file, (int) pos);
      if (type == BinlogEvents.MYSQL_GTID || type == BinlogEvents.MYSQL_ANONYMOUS_GTID || type == BinlogEvents.MYSQL_TAGGED_GTID
          || type == BinlogEvents.MARIADB_GTID) {
        starts.add(pos);
      }
      cuts.add(pos);
      cuts.add(pos + Math.min(size - 1, 7));
      cuts.add(pos + size / 2);
      pos += size;
    }
    assertThat(starts).as("transactions in " + fixture.getFileName()).isNotEmpty();
    assertThat(pos).as("the fixture ends on an event boundary").isEqualTo(file.length);
    // The last transaction ends where a closing ROTATE or STOP starts, or else at the end of the file.
    long lastEnd = lastType == BinlogEvents.ROTATE || lastType == BinlogEvents.STOP ? lastStart : file.length;
    starts.add(lastEnd);
    long first = starts.get(0);
    List<Long> sample = new ArrayList<>(cuts.subSet(first, true, lastEnd, true));
    if (sample.size() > 300) { // keep big files quick: every n-th cut
      int step = sample.size() / 300 + 1;
      List<Long> every = new ArrayList<>();
      for (int i = 0; i < sample.size(); i += step) {
        every.add(sample.get(i));
      }
      sample = every;
    }
    assertThat(sample).isNotEmpty();
    int n = 0;
    for (long cut : sample) {
      Path dir = tmp.resolve("cut" + n++);
      Files.createDirectories(dir);
      Files.write(dir.resolve("bin.000001"), Arrays.copyOf(file, (int) cut));
      Files.writeString(dir.resolve("bin.index"), "./bin.000001\n");
      long expected = starts.stream().filter(s -> s <= cut).mapToLong(Long::longValue).max().orElseThrow();
      try (BinlogSpool spool = BinlogSpool.open(dir, FsyncPolicy.none(), new SpoolListener() {})) {
        assertThat(spool.resumeFile()).isEqualTo("bin.000001");
        assertThat(spool.resumePosition()).as("resume point of %s cut at %d", fixture.getFileName(), cut)
            .isEqualTo(expected);
      }
      assertThat(Files.size(dir.resolve("bin.000001"))).as("truncated to the boundary").isEqualTo(expected);
    }
  }

  @org.junit.jupiter.api.Test
  @DisplayName("the GTID of each transaction as the listener reports it: MySQL, tagged MySQL and MariaDB")
  void gtids() throws Exception {
    assertThat(gtids(taggedGtidFixture()))
        .containsExactly("55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3");
    Path shared = sharedFixtures();
    assertThat(gtids(shared.resolve("mysql").resolve("binlog-invisible-columns.000001")))
        .isNotEmpty().allMatch(g -> g.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:\\d+"));
    List<String> maria = gtids(shared.resolve("mariadb-10.11-chain").resolve("mysql-bin.000005"));
    assertThat(maria).isNotEmpty().allMatch(g -> g.matches("0-3-\\d+"));
    for (int i = 1; i < maria.size(); i++) {
      assertThat(Long.parseLong(maria.get(i).substring(4))).isEqualTo(Long.parseLong(maria.get(i - 1).substring(4)) + 1);
    }
  }

  private static List<String> gtids(Path file) throws Exception {
    byte[] b = Files.readAllBytes(file);
    boolean crc = false;
    TransactionTracker t = new TransactionTracker();
    List<String> out = new ArrayList<>();
    for (int pos = 4; pos + BinlogEvents.HEADER <= b.length; pos += (int) BinlogEvents.size(b, pos)) {
      int len = (int) BinlogEvents.size(b, pos);
      if (BinlogEvents.type(b, pos) == BinlogEvents.FORMAT_DESCRIPTION) {
        crc = BinlogEvents.fdeHasCrc32(b, pos, len);
      }
      if (t.accept(b, pos, len, crc)) {
        out.add(t.lastGtid());
      }
    }
    return out;
  }

  /**
   * The tagged-GTID binlog from core's test resources, copied out: in a reactor build core's test
   * classes arrive as a jar, where a resource is no file.
   */
  static Path taggedGtidFixture() throws IOException {
    Path copy = Files.createTempDirectory("tagged-gtid").resolve("binlog_transaction_with_GTID_TAG.000001");
    try (InputStream in = SpoolRecoveryFixturesTest.class.getResourceAsStream("/binlogs/binlog_transaction_with_GTID_TAG.000001")) {
      assertThat(in).as("core test resource binlogs/binlog_transaction_with_GTID_TAG.000001").isNotNull();
      Files.copy(in, copy);
    }
    copy.toFile().deleteOnExit();
    copy.getParent().toFile().deleteOnExit();
    return copy;
  }

  static Path sharedFixtures() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path candidate = d.resolve("shared").resolve("fixtures");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    return fail("binlog fixtures not found: no shared/fixtures above " + Path.of("").toAbsolutePath());
  }
}
