package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Archiver;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.binlog.GtidState;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.testing.MariaDbTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restore planning from the sidecars of the real 13-file MariaDB 10.11 chain (12 closed files archived). */
@MariaDbTest
@DisplayName("Restore planning on the fixture chain")
class RestorePlanTest {
  @TempDir Path tmp;
  FileSystemSink sink;
  ArchiveReader reader;
  Path binlogs;

  @BeforeEach
  void archiveChain() throws Exception {
    binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    sink = FileSystemSink.of(tmp.resolve("archive"));
    archive(tmp.resolve("cursor.json"), false);
    reader = ArchiveReader.builder().sink(sink).prefix("prod").serverId("db1").retryPolicy(RetryPolicy.none()).build();
  }

  void archive(Path cursor, boolean newTimeline) throws Exception {
    Archiver.Builder b = Archiver.builder()
        .source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink).serverId("db1").prefix("prod").cursorFile(cursor).retryPolicy(RetryPolicy.none())
        .compression(Transform.zstd(3)).parallelism(2);
    if (newTimeline) {
      b.newTimeline();
    }
    try (Archiver a = b.build()) {
      assertThat(a.runOnce().failure()).isNull();
    }
  }

  Sidecar sidecar(int n) throws IOException {
    return ArchiveCatalog.of(sink, "prod", "db1").readSidecar(key(n, ".json"));
  }

  static String name(int n) {
    return String.format("mysql-bin.%06d", n);
  }

  static String key(int n, String ext) {
    return "prod/db1/t0001/binlog/" + name(n) + ext;
  }

  static List<String> files(RestorePlan p) {
    return p.files().stream().map(Sidecar::file).toList();
  }

  @Test
  @DisplayName("the whole chain is one window from mysql-bin.000001 to mysql-bin.000012 with GTIDs up to 0-3-3233 or so")
  void oneWindow() throws IOException {
    List<RestoreWindow> w = reader.windows();
    assertThat(w).hasSize(1);
    assertThat(w.get(0).firstFile()).isEqualTo(name(1));
    assertThat(w.get(0).lastFile()).isEqualTo(name(12));
    assertThat(w.get(0).fileCount()).isEqualTo(12);
    assertThat(w.get(0).endGtids()).isEqualTo(GtidState.text(GtidState.end(sidecar(12).binlog()), true));
    RestorePlan all = reader.planFrom(name(1), 4, RestoreTarget.latest());
    assertThat(all.files()).hasSize(12);
    assertThat(all.problems()).isEmpty();
    assertThat(all.totalBytes()).isEqualTo(all.files().stream().mapToLong(Sidecar::size).sum());
  }

  @Test
  @DisplayName("a time at the exact second a file ends also takes the next file, whose first events share that second")
  void timeAtExactSecond() throws IOException {
    Instant t = sidecar(4).binlog().lastEventTime();
    assertThat(sidecar(5).binlog().firstEventTime()).isEqualTo(t);
    RestorePlan p = reader.planFrom(name(2), 4, RestoreTarget.time(t));
    assertThat(files(p)).containsExactly(name(2), name(3), name(4), name(5));
    assertThat(p.stopDatetime()).isEqualTo(t.plusSeconds(1));
    assertThat(p.startPosition()).isEqualTo(4);
  }

  @Test
  @DisplayName("a time before the start file's first event, or at/after the newest archived second, fails naming the window")
  void timeOutsideWindow() throws IOException {
    Instant first = sidecar(1).binlog().firstEventTime();
    assertThatThrownBy(() -> reader.planFrom(name(1), 4, RestoreTarget.time(first.minusSeconds(1))))
        .isInstanceOf(ArchiveException.class).hasMessageContaining("before").hasMessageContaining(name(1));
    Instant last = sidecar(12).binlog().lastEventTime();
    assertThatThrownBy(() -> reader.planFrom(name(1), 4, RestoreTarget.time(last)))
        .isInstanceOf(ArchiveException.class)
        .hasMessageContaining("beyond the window t0001 " + name(1) + ".." + name(12))
        .hasMessageContaining("restorable window(s)");
    assertThat(files(reader.planFrom(name(1), 4, RestoreTarget.time(last.minusSeconds(1))))).endsWith(name(12));
  }

  @Test
  @DisplayName("a GTID in the middle picks the file holding it, and the fetched stop position ends replay right after it (mariadb-binlog agrees)")
  void gtidInTheMiddle() throws Exception {
    BinlogInfo six = sidecar(6).binlog();
    long firstSeq = GtidSet.parse(six.previousGtids()).lastSequences().get("0-3") + 1;
    long target = firstSeq + 40;
    RestorePlan p = reader.planFrom(name(3), 4, RestoreTarget.gtid("0-3-" + target));
    assertThat(files(p)).containsExactly(name(3), name(4), name(5), name(6));
    assertThat(p.stopAfterGtid()).isEqualTo("0-3:" + target);
    FetchResult f = reader.fetch(p, tmp.resolve("restore"));
    assertThat(f.plan().stopPosition()).isGreaterThan(4);
    List<String> gtids = gtidsReplayed(f.replayCommand());
    assertThat(gtids.get(gtids.size() - 1)).isEqualTo("0-3-" + target);
    assertThat(gtids.get(0)).isEqualTo("0-3-" + (GtidSet.parse(sidecar(3).binlog().previousGtids()).lastSequences().get("0-3") + 1));
  }

  @Test
  @DisplayName("a GTID already in the base backup, or past the archive, fails clearly")
  void gtidOutside() throws IOException {
    BaseBackup b = BaseBackup.of("b1", name(4), 4).withGtid(sidecar(4).binlog().previousGtids());
    String inBackup = sidecar(4).binlog().previousGtids();
    assertThatThrownBy(() -> reader.plan(b, RestoreTarget.gtid(inBackup)))
        .isInstanceOf(ArchiveException.class).hasMessageContaining("already includes");
    assertThatThrownBy(() -> reader.plan(b, RestoreTarget.gtid("0-3-999999")))
        .isInstanceOf(ArchiveException.class).hasMessageContaining("window ends at GTID state");
  }

  @Test
  @DisplayName("a missing file splits the archive into two windows; a target past the gap fails naming both")
  void missingFile() throws IOException {
    sink.delete(key(7, ".json"));
    sink.delete(key(7, ".zst"));
    List<RestoreWindow> w = reader.windows();
    assertThat(w).extracting(RestoreWindow::firstFile, RestoreWindow::lastFile)
        .containsExactly(org.assertj.core.api.Assertions.tuple(name(1), name(6)),
            org.assertj.core.api.Assertions.tuple(name(8), name(12)));
    RestorePlan ok = reader.planFrom(name(8), 4, RestoreTarget.latest());
    assertThat(ok.problems()).extracting(ArchiveProblem::kind).containsExactly(ArchiveProblem.Kind.MISSING_FILE);
    Instant past = sidecar(9).binlog().lastEventTime();
    assertThatThrownBy(() -> reader.planFrom(name(2), 4, RestoreTarget.time(past)))
        .isInstanceOf(ArchiveException.class)
        .hasMessageContaining("has no sequence 7 between " + name(6) + " and " + name(8))
        .hasMessageContaining(name(1) + ".." + name(6))
        .hasMessageContaining(name(8) + ".." + name(12));
  }

  @Test
  @DisplayName("a sidecar deleted (artifact left), a sidecar garbled, and a missing artifact each end a window and are named")
  void brokenObjects() throws IOException {
    sink.delete(key(3, ".json"));
    Files.writeString(sink.root().resolve(key(6, ".json")), "{ not json");
    sink.delete(key(9, ".zst"));
    List<ArchiveProblem> problems = reader.planFrom(name(1), 4, RestoreTarget.latest()).problems();
    assertThat(problems).extracting(ArchiveProblem::kind, ArchiveProblem::objectKey).containsExactly(
        org.assertj.core.api.Assertions.tuple(ArchiveProblem.Kind.ORPHAN_ARTIFACT, key(3, ".zst")),
        org.assertj.core.api.Assertions.tuple(ArchiveProblem.Kind.INVALID_SIDECAR, key(6, ".json")),
        org.assertj.core.api.Assertions.tuple(ArchiveProblem.Kind.MISSING_ARTIFACT, key(9, ".zst")));
    assertThat(reader.windows()).extracting(RestoreWindow::firstFile, RestoreWindow::lastFile).containsExactly(
        org.assertj.core.api.Assertions.tuple(name(1), name(2)), org.assertj.core.api.Assertions.tuple(name(4), name(5)),
        org.assertj.core.api.Assertions.tuple(name(7), name(8)), org.assertj.core.api.Assertions.tuple(name(10), name(12)));
  }

  @Test
  @DisplayName("a sidecar whose GTID state does not continue the previous file's is a chain break")
  void chainBreak() throws IOException {
    Sidecar s = sidecar(5);
    BinlogInfo i = s.binlog();
    BinlogInfo bad = new BinlogInfo(i.flavor(), i.serverVersion(), i.binlogVersion(), i.checksumAlgorithm(), i.inUse(),
        i.closed(), i.firstEventTime(), i.lastEventTime(), i.firstCommitTime(), i.lastCommitTime(), "0-3-5",
        i.gtids(), i.serverIds(), i.eventCount(), i.transactionCount(), i.compressedTransactionCount(),
        i.unknownEventCount(), i.checksumFailures(), i.endPosition(), i.unparsedGtidEventCount());
    Sidecar forged = new Sidecar(s.formatVersion(), s.file(), s.sequence(), s.serverId(), s.timeline(), s.size(),
        s.sha256(), s.artifact(), bad, s.archivedAt(), s.archiver());
    Files.write(sink.root().resolve(key(5, ".json")), forged.toJson());
    RestorePlan p = reader.planFrom(name(5), 4, RestoreTarget.latest());
    assertThat(p.problems()).extracting(ArchiveProblem::kind).containsExactly(ArchiveProblem.Kind.CHAIN_BREAK);
    assertThat(p.problems().get(0).message()).contains(name(4)).contains(name(5));
    assertThat(reader.windows()).extracting(RestoreWindow::lastFile).containsExactly(name(4), name(12));
  }

  @Test
  @DisplayName("a new timeline is its own window; a start file name found in both resolves to the newest unless the backup names its timeline")
  void timelines() throws Exception {
    archive(tmp.resolve("cursor2.json"), true);
    List<RestoreWindow> w = reader.windows();
    assertThat(w).extracting(RestoreWindow::timeline).containsExactly("t0001", "t0002");
    RestorePlan p = reader.planFrom(name(2), 4, RestoreTarget.latest());
    assertThat(p.timeline()).isEqualTo("t0002");
    assertThat(p.problems()).extracting(ArchiveProblem::kind).containsExactly(ArchiveProblem.Kind.NEW_TIMELINE);
    RestorePlan old = reader.plan(BaseBackup.of("b", name(2), 4).withTimeline("t0001"), RestoreTarget.latest());
    assertThat(old.timeline()).isEqualTo("t0001");
    assertThat(old.files().get(0).artifact().key()).startsWith("prod/db1/t0001/");
  }

  @Test
  @DisplayName("a position target stops in its file; a start position is kept for the first file only")
  void positionTarget() throws IOException {
    RestorePlan p = reader.planFrom(name(2), 1000, RestoreTarget.position(name(4), 5000));
    assertThat(files(p)).containsExactly(name(2), name(3), name(4));
    assertThat(p.startPosition()).isEqualTo(1000);
    assertThat(p.stopPosition()).isEqualTo(5000);
    assertThatThrownBy(() -> reader.planFrom(name(2), 4, RestoreTarget.position(name(4), 1L << 40)))
        .hasMessageContaining("bytes long");
  }

  @Test
  @DisplayName("base backups register once, list in order, and are never overwritten with other coordinates")
  void backupRegistry() throws IOException {
    BaseBackup a = BaseBackup.of("nightly-1", name(3), 256).withGtid("0-3-100").withTakenAt(Instant.parse("2026-11-22T03:53:30Z"));
    reader.maintenance().registerBaseBackup(a);
    reader.maintenance().registerBaseBackup(a);
    reader.maintenance().registerBaseBackup(BaseBackup.of("nightly-0", name(1), 4));
    assertThat(reader.maintenance().baseBackups()).extracting(BaseBackup::name).containsExactly("nightly-0", "nightly-1");
    assertThat(reader.maintenance().baseBackup("nightly-1")).isEqualTo(a);
    assertThat(sink.stat("prod/db1/backups/nightly-1.json")).isPresent();
    assertThatThrownBy(() -> reader.maintenance().registerBaseBackup(BaseBackup.of("nightly-1", name(4), 4)))
        .isInstanceOf(ObjectExistsException.class).hasMessageContaining("never overwritten");
    assertThatThrownBy(() -> reader.plan("nope", RestoreTarget.latest())).isInstanceOf(NotFoundException.class);
  }

  /** Runs the replay command's mariadb-binlog and lists the GTIDs it would apply. */
  static List<String> gtidsReplayed(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("mariadb-binlog failed: %s", err).isZero();
    List<String> gtids = new ArrayList<>();
    Matcher m = Pattern.compile("(?m)^#.*\\tGTID (\\d+-\\d+-\\d+)").matcher(new String(out, StandardCharsets.UTF_8));
    while (m.find()) {
      gtids.add(m.group(1));
    }
    return gtids;
  }
}
