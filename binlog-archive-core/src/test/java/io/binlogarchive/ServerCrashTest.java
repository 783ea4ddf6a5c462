package io.binlogarchive;

import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.binlog.BinlogScanner;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.internal.binlog.ScannerAccess;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.restore.PitrFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.restore.VerifyOptions;
import io.binlogarchive.restore.VerifyReport;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database server itself crashes: {@code mariadbd} is killed with SIGKILL while it writes a
 * large transaction into its binlog, under a running archiver and a writer, then restarted on the
 * same data directory. What MariaDB's crash recovery does to the crashed binlog is checked byte for
 * byte; the archive must end complete, continuous and restorable to the recovered server's state.
 */
@CrashTest
@MariaDbTest
@DisplayName("A server crash in the middle of a binlog write")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerCrashTest {
  /** LOG_EVENT_BINLOG_IN_USE_F in the FORMAT_DESCRIPTION_EVENT's header flags. */
  private static final int IN_USE_FLAG = 0x1;
  private static final long BIG_ROWS = 100;
  private static final long BIG_ROW_BYTES = 1_000_000;
  private static final Duration DEADLINE = Duration.ofSeconds(120);

  @TempDir static Path tmp;
  MariaDbServer source;
  FileSystemSink sink;
  Archiver archiver;
  final LinkedBlockingQueue<String> committed = new LinkedBlockingQueue<>();
  final LinkedBlockingQueue<RunSummary> runs = new LinkedBlockingQueue<>();
  final List<String> failures = new CopyOnWriteArrayList<>();

  Path dump;
  int killExit;
  String crashed;
  long crashedSize;
  String crashedSha;
  byte crashedFlags;
  BinlogInfo crashedScan;
  String recoveredGtidPos;
  long bigRowsAfterRestart;
  String restartedSha;
  byte restartedFlags;
  RunSummary runAfterRestart;
  Optional<Cursor> cursorAfterRestart;
  List<String> closedAtEnd;
  Map<String, Long> checksumsAtEnd;
  int smallCommittedBeforeCrash;

  @BeforeAll
  void crashAndRecover() throws Exception {
    PitrFixture.requireTools();
    source = MariaDbServer.start(tmp.resolve("source"));
    source.exec("CREATE DATABASE shop",
        "CREATE TABLE shop.u (id INT PRIMARY KEY AUTO_INCREMENT, n INT, note VARCHAR(100)) ENGINE=InnoDB",
        "CREATE TABLE shop.big (id INT PRIMARY KEY AUTO_INCREMENT, v LONGTEXT) ENGINE=InnoDB");
    source.load("shop", 500, 1);
    dump = tmp.resolve("base.sql");
    BaseBackup base = PitrFixture.dump(source, "base", dump);

    sink = FileSystemSink.of(tmp.resolve("archive"));
    archiver = Archiver.builder().source(BinlogSource.indexFile(source.indexFile())).sink(sink).prefix("crash")
        .serverId("src").cursorFile(tmp.resolve("cursor.json")).compression(Transform.zstd(3))
        .retryPolicy(RetryPolicy.none())
        .pollInterval(Duration.ofHours(1)) // runs come from the directory watch and wakeUp() only
        .listener(new ArchiveListener() {
          @Override
          public void cursorCommitted(Cursor c) {
            committed.add(c.lastSyncedFile());
          }

          @Override
          public void fileFailed(BinlogFile file, Throwable error) {
            failures.add(file.name() + ": " + error);
          }

          @Override
          public void runFinished(RunSummary summary) {
            if (summary.failure() != null) {
              failures.add("run: " + summary.failure());
            }
            runs.add(summary);
          }
        })
        .build();
    archiver.start();

    source.load("shop", 3000, 2);
    source.flushLogs();
    awaitArchivedThroughClosed();
    // the workload: small transactions on one connection until the server dies under them
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger smallCommitted = new AtomicInteger();
    java.util.concurrent.CountDownLatch fiftyCommitted = new java.util.concurrent.CountDownLatch(50);
    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
      try (var c = source.connection(); var st = c.createStatement()) {
        for (int i = 0; writing.get(); i++) {
          st.execute("INSERT INTO shop.u (n, note) VALUES (" + i + ", 'during-" + i + "')");
          smallCommitted.incrementAndGet();
          fiftyCommitted.countDown();
        }
      } catch (SQLException e) {
        // the server was killed under this connection
      }
    });
    assertThat(fiftyCommitted.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("the writer commits").isTrue();

    // one large transaction; SIGKILL as soon as its events reach the binlog (no small transaction
    // makes a binlog larger than max-binlog-size (1 MiB) plus a few hundred bytes)
    CompletableFuture<SQLException> big = CompletableFuture.supplyAsync(() -> {
      try {
        source.exec("INSERT INTO shop.big (v) SELECT REPEAT('z', " + BIG_ROW_BYTES + ") FROM shop.seq_1_to_" + BIG_ROWS);
        return null;
      } catch (SQLException e) {
        return e; // expected: the server is killed under the statement
      }
    });
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    Path active;
    while (true) {
      active = newestListed();
      if (Files.size(active) > 3 * BIG_ROW_BYTES) {
        killExit = source.kill();
        break;
      }
      if (System.nanoTime() > deadline || big.isDone()) {
        throw new AssertionError("the large transaction never reached the binlog"
            + (big.isDone() ? "; it ended with " + big.getNow(null) : " before the deadline"));
      }
      Thread.onSpinWait();
    }
    writing.set(false);
    big.get(60, TimeUnit.SECONDS);
    writer.get(60, TimeUnit.SECONDS);
    smallCommittedBeforeCrash = smallCommitted.get();

    crashed = active.getFileName().toString();
    crashedSize = Files.size(active);
    crashedSha = TestArchive.sha256(active);
    byte[] bytes = Files.readAllBytes(active);
    crashedFlags = bytes[21]; // the FORMAT_DESCRIPTION_EVENT's flags, low byte
    BinlogScanner scanner = new BinlogScanner(crashed, true);
    scanner.update(bytes, 0, bytes.length);
    crashedScan = ScannerAccess.finishCrashed(scanner);

    source.restart();
    recoveredGtidPos = PitrFixture.gtidBinlogPos(source);
    bigRowsAfterRestart = count("SELECT COUNT(*) FROM shop.big");
    restartedSha = TestArchive.sha256(active);
    restartedFlags = Files.readAllBytes(active)[21];

    // the crashed file is the newest closed one now: the archiver waits for it
    archiver.wakeUp();
    runAfterRestart = awaitRun(s -> s.results().stream()
        .anyMatch(r -> r.file().name().equals(crashed) && r.status() == FileResult.Status.NOT_CLOSED));
    cursorAfterRestart = archiver.cursor();

    // the workload goes on; the first binlog after the restart closes, then another
    source.load("shop", 3000, 3);
    source.exec("UPDATE shop.u SET n = n + 1 WHERE id % 7 = 0", "DELETE FROM shop.t WHERE id % 5 = 0");
    source.flushLogs();
    source.load("shop", 200, 4);
    checksumsAtEnd = PitrFixture.checksums(source);
    source.flushLogs();
    closedAtEnd = awaitArchivedThroughClosed();
    archiver.close();

    ArchiveReader reader = reader();
    reader.maintenance().registerBaseBackup(base);
  }

  @AfterAll
  void stop() throws Exception {
    if (archiver != null) {
      archiver.close();
    }
    if (source != null) {
      source.close();
    }
  }

  ArchiveReader reader() {
    return ArchiveReader.builder().sink(sink).prefix("crash").serverId("src").retryPolicy(RetryPolicy.none()).build();
  }

  @Test
  @DisplayName("MariaDB's crash recovery leaves the crashed binlog byte for byte as the crash did: in-use flag set, cut inside an event and a transaction")
  void recoveryLeavesTheFile() {
    assertThat(killExit).as("mariadbd died of SIGKILL").isEqualTo(137);
    assertThat(crashedFlags & IN_USE_FLAG).as("in-use flag at the crash").isEqualTo(1);
    assertThat(restartedFlags & IN_USE_FLAG).as("in-use flag after recovery").isEqualTo(1);
    assertThat(restartedSha).as("SHA-256 of %s after the restart", crashed).isEqualTo(crashedSha);
    assertThat(crashedScan.endPosition()).as("complete events end before the file does").isLessThan(crashedSize);
    assertThat(bigRowsAfterRestart).as("the large transaction was rolled back").isZero();
    assertThat(GtidSet.parse(crashedScan.gtids()).lastSequences())
        .as("the crashed file's committed GTIDs end where the recovered server's binlog state does")
        .isEqualTo(GtidSet.parse(recoveredGtidPos).lastSequences());
    assertThat(smallCommittedBeforeCrash).isGreaterThanOrEqualTo(50);
  }

  @Test
  @DisplayName("while the crashed binlog is the newest closed one, the archiver waits for it without failing")
  void waitsWhileNewestClosed() {
    assertThat(runAfterRestart.failure()).isNull();
    assertThat(cursorAfterRestart).get().extracting(Cursor::sequence)
        .isEqualTo(BinlogNames.sequence(crashed) - 1);
  }

  @Test
  @DisplayName("every closed binlog ends archived with the local SHA-256, the crashed one included as recovery left it, and no run failed")
  void everyClosedFileArchived() throws Exception {
    assertThat(failures).isEmpty();
    List<Sidecar> sidecars = binlogSidecars();
    assertThat(sidecars).extracting(Sidecar::file).containsExactlyElementsOf(closedAtEnd);
    assertThat(closedAtEnd).contains(crashed);
    for (Sidecar s : sidecars) {
      assertThat(s.sha256()).as(s.file()).isEqualTo(TestArchive.sha256(source.dataDir().resolve(s.file())));
    }
    Sidecar c = sidecars.stream().filter(s -> s.file().equals(crashed)).findFirst().orElseThrow();
    assertThat(c.sha256()).isEqualTo(crashedSha);
    assertThat(c.size()).isEqualTo(crashedSize);
    assertThat(c.binlog().inUse()).isTrue();
    assertThat(c.binlog().closed()).isFalse();
    assertThat(c.binlog().endPosition()).isEqualTo(crashedScan.endPosition());
    assertThat(TestArchive.decode(sink, c)).isEqualTo(Files.readAllBytes(source.dataDir().resolve(crashed)));
  }

  @Test
  @DisplayName("the chain is continuous: sequence numbers without gaps, each GTID_LIST continuing the file before, a full verify clean with one window")
  void chainContinuous() throws Exception {
    List<Sidecar> sidecars = binlogSidecars();
    for (int i = 1; i < sidecars.size(); i++) {
      Sidecar prev = sidecars.get(i - 1);
      Sidecar next = sidecars.get(i);
      assertThat(next.sequence()).as(next.file()).isEqualTo(prev.sequence() + 1);
      assertThat(BinlogInfo.continuityProblem(prev.binlog(), next.binlog())).as(prev.file() + " -> " + next.file())
          .isEmpty();
    }
    VerifyReport report = reader().verify(VerifyOptions.defaults().withFull());
    assertThat(report.problems()).isEmpty();
    assertThat(report.windows()).hasSize(1);
    assertThat(report.windows().get(0).lastFile()).isEqualTo(closedAtEnd.get(closedAtEnd.size() - 1));
  }

  @Test
  @DisplayName("a point-in-time restore to the latest point through the crashed binlog reproduces the recovered server's checksums")
  void restoresToLatest() throws Exception {
    ArchiveReader reader = reader();
    RestorePlan plan = reader.plan("base", RestoreTarget.latest());
    assertThat(plan.problems()).isEmpty();
    assertThat(plan.files()).extracting(Sidecar::file).contains(crashed);
    assertThat(plan.lastFile()).isEqualTo(closedAtEnd.get(closedAtEnd.size() - 1));
    FetchResult f = reader.fetch(plan, tmp.resolve("fetch"));
    Path work = Files.createDirectories(tmp.resolve("restore"));
    try (MariaDbServer target = MariaDbServer.start(work.resolve("server"), "--skip-log-bin")) {
      PitrFixture.load(target, dump);
      PitrFixture.replay(f, target, work); // mariadb-binlog and mariadb must both exit 0
      assertThat(checksumsAtEnd).containsKeys("t", "u", "big");
      assertThat(PitrFixture.checksums(target)).isEqualTo(checksumsAtEnd);
    }
    // what lets mariadb-binlog read past the rolled-back transaction's GTID, given to the next one
    assertThat(f.replayCommand()).contains("--loose-skip-gtid-strict-mode");
  }

  // ---- helpers -------------------------------------------------------------------------------

  private Path newestListed() throws Exception {
    List<String> lines = Files.readAllLines(source.indexFile());
    String last = lines.get(lines.size() - 1).strip();
    return source.dataDir().resolve(last).normalize();
  }

  /** Wakes the archiver and waits until its cursor reaches the newest closed binlog; @return the closed names */
  private List<String> awaitArchivedThroughClosed() throws Exception {
    List<String> listed = new ArrayList<>();
    for (String line : Files.readAllLines(source.indexFile())) {
      if (!line.isBlank()) {
        listed.add(Path.of(line.strip()).getFileName().toString());
      }
    }
    List<String> closed = listed.subList(0, listed.size() - 1);
    String target = closed.get(closed.size() - 1);
    if (archiver.cursor().map(Cursor::lastSyncedFile).filter(target::equals).isPresent()) {
      return closed;
    }
    archiver.wakeUp();
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (true) {
      String c = committed.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (c == null) {
        throw new AssertionError("the archiver did not commit " + target + " within " + DEADLINE + "; "
            + failures.size() + " failure(s), the first: " + failures.stream().findFirst().orElse("none"));
      }
      if (c.equals(target)) {
        return List.copyOf(closed);
      }
    }
  }

  private RunSummary awaitRun(java.util.function.Predicate<RunSummary> p) throws InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (true) {
      RunSummary s = runs.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (s == null) {
        throw new AssertionError("no archive run as expected within " + DEADLINE + "; " + failures.size()
            + " failure(s), the first: " + failures.stream().findFirst().orElse("none"));
      }
      if (p.test(s)) {
        return s;
      }
    }
  }

  private long count(String sql) throws SQLException {
    try (var c = source.connection(); var st = c.createStatement(); var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** @return the binlog sidecars of the archive (not the base backup registry), in sequence order */
  private List<Sidecar> binlogSidecars() throws Exception {
    List<Sidecar> out = new ArrayList<>();
    for (Sidecar s : TestArchive.sidecars(sink, "crash/src/t")) {
      if (s.file() != null && s.binlog() != null) {
        out.add(s);
      }
    }
    out.sort(java.util.Comparator.comparingLong(Sidecar::sequence));
    return out;
  }
}
