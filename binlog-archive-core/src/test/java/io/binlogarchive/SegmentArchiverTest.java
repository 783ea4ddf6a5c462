package io.binlogarchive;

import io.binlogarchive.binlog.BinlogScanner;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.internal.Segments;
import io.binlogarchive.internal.binlog.ScannerAccess;
import io.binlogarchive.internal.decode.ArtifactDecoder;
import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.restore.ArchiveProblem;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.ArchiveStatus;
import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.restore.PitrFixture;
import io.binlogarchive.restore.PruneResult;
import io.binlogarchive.restore.RestoreFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.restore.RetentionPolicy;
import io.binlogarchive.restore.VerifyOptions;
import io.binlogarchive.restore.VerifyReport;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segments of a real MariaDB 10.11 server's open binlog, cut from the server's own binlog
 * directory while the server writes it (one throwaway {@code mariadbd} for the class).
 */
@MariaDbTest
@DisplayName("SegmentArchiver against a running MariaDB server's open binlog")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SegmentArchiverTest {
  @TempDir static Path serverDir;
  MariaDbServer server;
  @TempDir Path work;
  JournalSink sink;
  String serverId;
  static int run;

  @BeforeAll
  void startServer() throws Exception {
    server = MariaDbServer.start(serverDir.resolve("mariadb"));
    server.load("shop", 500, 1);
  }

  @AfterAll
  void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @BeforeEach
  void freshArchive() throws Exception {
    sink = new JournalSink(FileSystemSink.of(work.resolve("archive")));
    serverId = "db" + (++run);
    server.flushLogs(); // each test starts on a fresh open binlog
  }

  Archiver archiver(Verifier verifier) throws IOException {
    return archiver(verifier, null);
  }

  Archiver archiver(Verifier verifier, Transform encryption) throws IOException {
    return Archiver.builder()
        .source(BinlogSource.indexFile(server.indexFile()))
        .sink(sink)
        .serverId(serverId)
        .compression(Transform.zstd(3))
        .encryption(encryption)
        .verifier(verifier)
        .retryPolicy(RetryPolicy.none())
        .cursorFile(work.resolve(serverId + ".cursor.json"))
        .build();
  }

  SegmentArchiver segments(Archiver archiver) {
    return SegmentArchiver.builder(archiver).directory(server.dataDir()).maxBytes(16 * 1024).build();
  }

  String openFile() throws Exception {
    List<String> logs = server.binaryLogs();
    return logs.get(logs.size() - 1);
  }

  Path local(String file) {
    return server.dataDir().resolve(file);
  }

  List<Sidecar> segmentSidecars(String file) throws IOException {
    List<Sidecar> out = new ArrayList<>();
    for (StoredObject o : sink.list(serverId + "/t0001/segments/" + file + ".")) {
      if (o.key().endsWith(".json")) {
        try (var in = sink.open(o.key())) {
          out.add(Sidecar.parse(in.readAllBytes(), o.key()));
        }
      }
    }
    out.sort(Comparator.comparingLong(s -> s.segment().start()));
    return out;
  }

  Sink plainSink() {
    return sink.plain();
  }

  long segmentObjects(String file) throws IOException {
    return sink.list(serverId + "/t0001/segments/" + file + ".").size();
  }

  byte[] decode(List<Sidecar> segments) throws IOException {
    return decode(segments, null);
  }

  byte[] decode(List<Sidecar> segments, Transform decryption) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Sidecar s : segments) {
      ArtifactDecoder.decode(sink, s, decryption, chunk -> {
        byte[] b = new byte[chunk.remaining()];
        chunk.get(b);
        out.write(b, 0, b.length);
      }, false);
    }
    return out.toByteArray();
  }

  static void assertContiguous(List<Sidecar> segments) {
    assertThat(segments).isNotEmpty();
    assertThat(segments.get(0).segment().start()).as("the first segment starts at the file's start").isZero();
    for (int i = 1; i < segments.size(); i++) {
      assertThat(segments.get(i).segment().start()).as("segment %d starts where %d ends", i, i - 1)
          .isEqualTo(segments.get(i - 1).segment().end());
    }
  }

  @Test
  @DisplayName("cuts contiguous segments on transaction boundaries that decode to the server's bytes, each proven before its sidecar")
  void contiguousAndExact() throws Exception {
    List<String> verified = new CopyOnWriteArrayList<>();
    Verifier recording = upload -> {
      Verifier.storeChecksums().verify(upload);
      verified.add(upload.key());
      sink.journal.add("verified " + upload.key());
    };
    String file = openFile();
    try (Archiver archiver = archiver(recording); SegmentArchiver live = segments(archiver)) {
      for (int round = 0; round < 6; round++) {
        server.load("shop", 150, 100 + round);
        long size = Files.size(local(file));
        // odd rounds report a length inside the last event: the segment must end before it
        live.durable(file, round % 2 == 1 ? size - 7 : size);
        live.flush();
      }
      live.durable(file, Files.size(local(file)));
      Sidecar last = live.flush().orElseThrow();
      assertThat(last.segment().end()).isEqualTo(Files.size(local(file)));
    }
    List<Sidecar> segments = segmentSidecars(file);
    assertContiguous(segments);
    assertThat(segments.size()).as("several segments (16 KiB cap)").isGreaterThan(6);
    long end = segments.get(segments.size() - 1).segment().end();
    byte[] server = Files.readAllBytes(local(file));
    assertThat(decode(segments)).as("segments concatenated").isEqualTo(Arrays.copyOf(server, (int) end));
    ArchiveStatus status = ArchiveStatus.of(ArchiveCatalog.of(sink, "", serverId), null, null, java.time.Clock.systemUTC());
    assertThat(status.liveSegment()).as("status: the live position").hasValueSatisfying(g -> {
      assertThat(g.file()).isEqualTo(file);
      assertThat(g.segment().end()).isEqualTo(end);
    });
    assertThat(status.liveAge()).isPresent();
    // every segment ends where a scan of the server's bytes finds a transaction boundary
    for (Sidecar s : segments) {
      BinlogScanner scanner = new BinlogScanner(file, true);
      scanner.update(server, 0, (int) s.segment().end());
      assertThat(ScannerAccess.atTransactionBoundary(scanner)).as("end of %s", s.segment()).isTrue();
      assertThat(s.binlog().endPosition()).isEqualTo(s.segment().end());
    }
    // the segments' GTIDs add up to what the file holds
    GtidSet union = GtidSet.parse("");
    for (Sidecar s : segments) {
      union = union.union(GtidSet.parse(s.segment().gtids()));
    }
    assertThat(union).isEqualTo(GtidSet.parse(segments.get(segments.size() - 1).binlog().gtids()));
    assertThat(union.isEmpty()).isFalse();
    // proof before sidecar: committed, verified, then the sidecar committed
    for (Sidecar s : segments) {
      String key = s.artifact().key();
      int committed = sink.journal.indexOf("commit " + key);
      int proven = sink.journal.indexOf("verified " + key);
      int sidecar = sink.journal.indexOf("commit " + key.replaceAll("\\.zst$", ".json"));
      assertThat(committed).as("%s committed", key).isNotNegative();
      assertThat(proven).as("%s proven after its upload", key).isGreaterThan(committed);
      assertThat(sidecar).as("%s's sidecar after its proof", key).isGreaterThan(proven);
    }
  }

  @Test
  @DisplayName("a crash between a segment's upload and its sidecar, then a restart: no gap, no duplicate")
  void crashBeforeSidecar() throws Exception {
    String file = openFile();
    for (boolean moreData : new boolean[] {false, true}) {
      try (Archiver archiver = archiver(Verifier.storeChecksums())) {
        SegmentArchiver live = segments(archiver);
        server.load("shop", 100, moreData ? 7 : 8);
        live.durable(file, Files.size(local(file)));
        sink.failCreate = k -> k.contains("/segments/") && k.endsWith(".json");
        assertThatThrownBy(live::flush).hasMessageContaining("injected");
        // left as a crash leaves it: the instance is dropped without close
      }
      assertThat(segmentObjects(file)).as("an artifact without its sidecar").isEqualTo(segmentSidecars(file).size() * 2L + 1);
      if (moreData) {
        server.load("shop", 40, 9); // the restart cuts a longer range at the same offset
      }
      try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
        live.durable(file, Files.size(local(file)));
        assertThat(live.flush()).isPresent();
      }
      List<Sidecar> segments = segmentSidecars(file);
      assertContiguous(segments);
      assertThat(segmentObjects(file)).as("one artifact per sidecar").isEqualTo(segments.size() * 2L);
      long end = segments.get(segments.size() - 1).segment().end();
      assertThat(end).isEqualTo(Files.size(local(file)));
      assertThat(decode(segments)).isEqualTo(Arrays.copyOf(Files.readAllBytes(local(file)), (int) end));
    }
  }

  @Test
  @DisplayName("a restart goes on from the stored segments and refuses a local file that differs from them")
  void restartChecksTheLocalFile() throws Exception {
    String file = openFile();
    server.load("shop", 100, 11);
    try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
      live.durable(file, Files.size(local(file)));
      live.flush();
    }
    int before = segmentSidecars(file).size();
    server.load("shop", 100, 12);
    try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
      live.durable(file, Files.size(local(file)));
      Sidecar last = live.flush().orElseThrow();
      assertThat(last.segment().end()).isEqualTo(Files.size(local(file)));
    }
    List<Sidecar> segments = segmentSidecars(file);
    assertContiguous(segments);
    assertThat(segments.size()).isGreaterThan(before);

    // a copy of the file with one byte changed inside the archived range is refused
    Path other = work.resolve("other-" + serverId);
    Files.createDirectories(other);
    byte[] bytes = Files.readAllBytes(local(file));
    bytes[300] ^= 0x55;
    Files.write(other.resolve(file), bytes);
    try (Archiver archiver = archiver(Verifier.storeChecksums());
        SegmentArchiver live = SegmentArchiver.builder(archiver).directory(other).build()) {
      live.durable(file, bytes.length);
      assertThatThrownBy(live::flush).isInstanceOf(ChainBreakException.class)
          .hasMessageContaining(file).hasMessageContaining("not the one archived");
    }
    assertThat(segmentSidecars(file)).hasSameSizeAs(segments);
  }

  @Test
  @DisplayName("once the file is closed and archived whole, its segments are gone")
  void segmentsRemovedAfterWholeFile() throws Exception {
    String file = openFile();
    try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
      server.load("shop", 100, 21);
      live.durable(file, Files.size(local(file)));
      live.flush();
      assertThat(segmentSidecars(file)).isNotEmpty();
      server.flushLogs();
      live.durable(file, Files.size(local(file))); // its final length, the ROTATE included
      String next = openFile();
      live.durable(next, Files.size(local(next)));
      live.flush();
      List<Sidecar> segments = segmentSidecars(file);
      assertThat(segments.get(segments.size() - 1).segment().end()).as("the closed file's last segment reaches its end")
          .isEqualTo(Files.size(local(file)));
      RunSummary s = archiver.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.results()).extracting(r -> r.file().name()).contains(file);
      assertThat(segmentObjects(file)).as("segments of the archived file").isZero();
      assertThat(sink.stat(serverId + "/t0001/binlog/" + file + ".json")).isPresent();
    }
  }

  /** Where a crash is injected: before or after a sink call on a segment object. */
  enum CrashPoint {
    BEFORE_ARTIFACT_COMMIT, AFTER_ARTIFACT_COMMIT, BEFORE_SIDECAR_COMMIT, AFTER_SIDECAR_COMMIT
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}, restart: {1}")
  @org.junit.jupiter.params.provider.CsvSource({
      "BEFORE_ARTIFACT_COMMIT, true", "AFTER_ARTIFACT_COMMIT, true", "BEFORE_SIDECAR_COMMIT, true",
      "AFTER_SIDECAR_COMMIT, true", "AFTER_ARTIFACT_COMMIT, false", "AFTER_SIDECAR_COMMIT, false"})
  @DisplayName("a failure at each step of storing a segment, then a restart or a retry: no gap, no duplicate")
  void failureAtEachStep(CrashPoint point, boolean restart) throws Exception {
    String file = openFile();
    server.load("shop", 60, 70);
    try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
      live.durable(file, Files.size(local(file)));
      live.flush();
    }
    int before = segmentSidecars(file).size();
    server.load("shop", 60, 71);
    boolean[] armed = {true};
    JournalSink crashing = new JournalSink(plainSink()) {
      @Override
      public void beforeCommit(String key) throws IOException {
        if (armed[0] && key.contains("/segments/") && key.endsWith(".json") == (point == CrashPoint.BEFORE_SIDECAR_COMMIT)
            && point.name().startsWith("BEFORE")) {
          armed[0] = false;
          throw new IOException("injected crash before committing " + key);
        }
      }

      @Override
      public void afterCommit(String key, StoredObject stored) throws IOException {
        if (armed[0] && key.contains("/segments/") && key.endsWith(".json") == (point == CrashPoint.AFTER_SIDECAR_COMMIT)
            && point.name().startsWith("AFTER")) {
          armed[0] = false;
          throw new IOException("injected crash after committing " + key);
        }
      }
    };
    JournalSink plain = sink;
    sink = crashing;
    try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
      live.durable(file, Files.size(local(file)));
      assertThatThrownBy(live::flush).hasMessageContaining("injected crash");
      if (!restart) {
        assertThat(live.flush()).as("the same instance tries again").isPresent();
      }
    } finally {
      sink = plain;
    }
    assertThat(armed[0]).as("the crash point was reached").isFalse();
    try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
      live.durable(file, Files.size(local(file)));
      assertThat(live.flush()).isPresent();
    }
    List<Sidecar> segments = segmentSidecars(file);
    assertContiguous(segments);
    assertThat(segments.size()).isGreaterThan(before);
    assertThat(segmentObjects(file)).as("one artifact per sidecar, nothing else").isEqualTo(segments.size() * 2L);
    long end = segments.get(segments.size() - 1).segment().end();
    assertThat(end).isEqualTo(Files.size(local(file)));
    assertThat(decode(segments)).isEqualTo(Arrays.copyOf(Files.readAllBytes(local(file)), (int) end));
  }

  @Test
  @DisplayName("encrypted segments decode with the key, and the sidecar names the cipher and key id")
  void encryptedSegments() throws Exception {
    String file = openFile();
    server.load("shop", 80, 80);
    try (Archiver archiver = archiver(Verifier.readBack(), Transform.aesGcm(RestoreFixture.keys()));
        SegmentArchiver live = segments(archiver)) {
      live.durable(file, Files.size(local(file)));
      live.flush();
    }
    List<Sidecar> segments = segmentSidecars(file);
    assertContiguous(segments);
    assertThat(segments).allSatisfy(s -> {
      assertThat(s.artifact().key()).endsWith(".zst.aes");
      assertThat(s.artifact().cipher()).isNotNull();
      assertThat(s.artifact().keyId()).isEqualTo("k1");
    });
    long end = segments.get(segments.size() - 1).segment().end();
    assertThat(decode(segments, Transform.aesGcm(RestoreFixture.keys())))
        .isEqualTo(Arrays.copyOf(Files.readAllBytes(local(file)), (int) end));
    assertThatThrownBy(() -> decode(segments.subList(0, 1), Transform.aesGcm(StaticKeyProvider.builder()
        .key("k1", new byte[32]).primary("k1").build()))).isInstanceOf(IntegrityException.class);
  }

  /** The server's open file has its in-use flag set; the spool of a live source has it clear. */
  static byte[] maskInUse(byte[] b) {
    byte[] c = b.clone();
    c[21] &= (byte) ~1;
    return c;
  }

  @Test
  @DisplayName("restore of a timeline whose last file is open: closed files plus the concatenated segments, byte-identical,"
      + " and a replay into a fresh server reaches the last segment")
  void restoreReachesTheLastSegment(@TempDir Path t) throws Exception {
    PitrFixture.requireTools();
    Path dump = t.resolve("base.sql");
    BaseBackup backup;
    String file = openFile();
    try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
      backup = PitrFixture.dump(server, "base", dump); // its coordinates are in the open file
      server.load("shop", 300, 41);
      server.exec("CREATE TABLE IF NOT EXISTS shop.marker (v VARCHAR(40))",
          "INSERT INTO shop.marker VALUES ('in-the-last-segment')");
      assertThat(archiver.runOnce().failure()).isNull();
      live.durable(file, Files.size(local(file)));
      live.flush();
    }
    ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId(serverId).build();
    reader.maintenance().registerBaseBackup(backup);
    List<Sidecar> segments = segmentSidecars(file);
    long end = segments.get(segments.size() - 1).segment().end();

    RestorePlan plan = reader.plan("base", RestoreTarget.latest());
    assertThat(plan.startFile()).isEqualTo(file);
    assertThat(plan.lastFile()).isEqualTo(file);
    assertThat(plan.files().get(plan.files().size() - 1).segment().end()).isEqualTo(end);
    assertThat(plan.segments()).hasSameSizeAs(segments);
    assertThat(plan.describe()).contains("open file: " + file + " up to offset " + end);
    assertThat(plan.problems()).isEmpty();

    // from the archive's first file: every closed file whole, then the open one from its segments
    RestorePlan all = reader.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    FetchResult fetched = reader.fetch(all, t.resolve("all"));
    assertThat(fetched.files()).hasSizeGreaterThan(2);
    for (Path p : fetched.files()) {
      byte[] want = Files.readAllBytes(local(p.getFileName().toString()));
      byte[] got = Files.readAllBytes(p);
      if (p.getFileName().toString().equals(file)) {
        assertThat(maskInUse(got)).as("the open file up to its last segment")
            .isEqualTo(maskInUse(Arrays.copyOf(want, (int) end)));
      } else {
        assertThat(got).as("closed %s", p.getFileName()).isEqualTo(want);
      }
    }
    assertThat(reader.fetch(all, t.resolve("all")).reused()).as("a second fetch reuses every file")
        .isEqualTo(all.files().size());

    VerifyReport report = reader.verify(VerifyOptions.defaults().withFull());
    assertThat(report.problems()).isEmpty();
    assertThat(report.windows()).hasSize(1);
    assertThat(report.windows().get(0).lastFile()).isEqualTo(file);

    FetchResult f = reader.fetch(plan, t.resolve("pitr"));
    Map<String, Long> want = PitrFixture.checksums(server);
    PitrFixture.restoreFresh(f, dump, t, fresh -> {
      assertThat(PitrFixture.firstValue(fresh, "SELECT v FROM shop.marker")).isEqualTo("in-the-last-segment");
      assertThat(PitrFixture.checksums(fresh)).isEqualTo(want);
      return null;
    });
  }

  @Test
  @DisplayName("a gap between segments is reported and the restore stops before it; prune deletes segments with their file")
  void gapReportedAndPruned(@TempDir Path t) throws Exception {
    String file = openFile();
    try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
      for (int round = 0; round < 3; round++) {
        server.load("shop", 150, 50 + round);
        live.durable(file, Files.size(local(file)));
        live.flush();
      }
      assertThat(archiver.runOnce().failure()).isNull();
    }
    List<Sidecar> segments = segmentSidecars(file);
    assertThat(segments.size()).isGreaterThan(3);
    Sidecar hole = segments.get(2);
    sink.delete(hole.artifact().key().replaceAll("\\.zst$", ".json"));
    sink.delete(hole.artifact().key());
    ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId(serverId).build();
    VerifyReport report = reader.verify(VerifyOptions.defaults());
    assertThat(report.problems()).extracting(ArchiveProblem::kind).contains(ArchiveProblem.Kind.SEGMENT_GAP);
    assertThat(report.problems()).filteredOn(p -> p.kind() == ArchiveProblem.Kind.SEGMENT_GAP).first()
        .satisfies(p -> assertThat(p.message()).contains("[" + hole.segment().start() + ", " + hole.segment().end() + ")"));
    RestorePlan plan = reader.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    assertThat(plan.lastFile()).isEqualTo(file);
    assertThat(plan.files().get(plan.files().size() - 1).size()).as("the chain ends at the gap")
        .isEqualTo(hole.segment().start());
    FetchResult fetched = reader.fetch(plan, t.resolve("fetch"));
    assertThat(Files.readAllBytes(fetched.files().get(fetched.files().size() - 1)))
        .isEqualTo(Arrays.copyOf(Files.readAllBytes(local(file)), (int) hole.segment().start()));

    // a backup in the next file makes the open file's segments (and every closed file) prunable
    server.flushLogs();
    String next = openFile();
    server.load("shop", 20, 59);
    try (Archiver archiver = archiver(Verifier.storeChecksums()); SegmentArchiver live = segments(archiver)) {
      live.durable(next, Files.size(local(next)));
      live.flush();
    }
    reader.maintenance().registerBaseBackup(BaseBackup.of("later", next, 4));
    PruneResult pruned = reader.maintenance().prune(RetentionPolicy.keepNewestBackups(1), true);
    assertThat(pruned.deletedFiles()).contains("t0001/" + file);
    assertThat(segmentObjects(file)).isZero();
    assertThat(segmentSidecars(next)).isNotEmpty();
  }

  /** Records commits in order and injects one failure on request. */
  static class JournalSink extends TestArchive.DelegatingSink {
    final List<String> journal = new CopyOnWriteArrayList<>();
    volatile Predicate<String> failCreate;

    JournalSink(Sink delegate) {
      super(delegate);
    }

    @Override
    public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
      Predicate<String> fail = failCreate;
      if (fail != null && fail.test(key)) {
        failCreate = null;
        throw new IOException("injected crash before " + key);
      }
      return super.create(key, metadata);
    }

    @Override
    public void afterCommit(String key, StoredObject stored) throws IOException {
      journal.add("commit " + key);
    }

    Sink plain() {
      return delegate;
    }
  }
}
