package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.DataKey;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.FileSystemSinkTest;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoreLease;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.testing.StoreTests;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive pipeline over the real MariaDB 10.11 binlog chain from the shared fixtures. */
@DisplayName("Archiver")
class ArchiverTest {
  @TempDir Path tmp;

  Archiver.Builder builder(Path binlogs, Sink sink) {
    return Archiver.builder()
        .source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink)
        .serverId("db1")
        .prefix("prod")
        .cursorFile(tmp.resolve("cursor.json"))
        .retryPolicy(RetryPolicy.none());
  }

  static byte[] restore(Sink sink, Sidecar s, List<Transform> transforms) throws IOException {
    InputStream in = sink.open(s.artifact().key());
    for (int i = transforms.size() - 1; i >= 0; i--) {
      in = transforms.get(i).unwrap(in);
    }
    try (InputStream d = in) {
      return d.readAllBytes();
    }
  }

  @Test
  @DisplayName("a builder used twice builds a second working archiver, but never hands one lease to two archivers")
  void builderReuse() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    Archiver.Builder b = builder(binlogs, sink);
    try (Archiver first = b.build()) {
      assertThat(first.runOnce().archivedCount()).isEqualTo(12);
    }
    try (Archiver second = b.build()) {
      RunSummary s = second.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.archivedCount()).isZero();
      assertThat(second.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000012");
    }
    StoreLease lease = StoreLease.builder(sink, StoreLease.keyFor("prod", "db1")).heartbeat(false).build();
    try (Archiver withLease = b.lease(lease).build()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(b::build)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("lease")
          .hasMessageContaining("archiver built before");
      assertThat(withLease.runOnce().failure()).isNull();
      assertThat(lease.isHeld()).as("the refused build left the first archiver's lease alone").isTrue();
    }
  }

  @Test
  @DisplayName("build() is configuration only: the preflight, the cursor file and its lock wait for open()")
  void buildDoesNoIo() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    AtomicInteger connections = new AtomicInteger();
    javax.sql.DataSource server = (javax.sql.DataSource) java.lang.reflect.Proxy.newProxyInstance(
        getClass().getClassLoader(), new Class<?>[] {javax.sql.DataSource.class}, (proxy, method, args) -> {
          if (method.getName().equals("getConnection")) {
            connections.incrementAndGet();
            throw new java.sql.SQLException("no server here");
          }
          throw new UnsupportedOperationException(method.getName());
        });
    Path cursor = tmp.resolve("state/cursor.json");
    try (Archiver a = builder(binlogs, sink).cursorFile(cursor).preflight(server, Preflight.OnProblem.WARN).build()) {
      assertThat(connections).as("connections by build()").hasValue(0);
      assertThat(tmp.resolve("state")).as("build() creates no cursor file nor lock").doesNotExist();
      org.assertj.core.api.Assertions.assertThatThrownBy(a::open)
          .isInstanceOf(ArchiveException.class)
          .hasMessageContaining("preflight could not read the server's settings");
      assertThat(connections).as("connections by open()").hasValue(1);
      assertThat(tmp.resolve("state")).as("a refused open takes no lock").doesNotExist();
    }
    try (Archiver a = builder(binlogs, sink).cursorFile(cursor).build()) {
      assertThat(tmp.resolve("state")).doesNotExist();
      assertThat(a.runOnce().archivedCount()).as("the first run opens it").isEqualTo(12);
      assertThat(tmp.resolve("state/cursor.json.lock")).exists();
    }
  }

  @Test
  @DisplayName("archives every closed binlog but the active one, in order, and moves the cursor to the last")
  void archivesChain() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    try (Archiver archiver = builder(binlogs, sink).parallelism(3).build()) {
      RunSummary s = archiver.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.results()).extracting(r -> r.file().name())
          .containsExactly(names(1, 12).toArray(String[]::new));
      assertThat(s.results()).allMatch(r -> r.status() == FileResult.Status.ARCHIVED);
      assertThat(archiver.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000012");
      for (FileResult r : s.results()) {
        byte[] original = Files.readAllBytes(binlogs.resolve(r.file().name()));
        Sidecar sc = r.sidecar();
        assertThat(sc.artifact().key()).isEqualTo("prod/db1/t0001/binlog/" + r.file().name() + ".zst");
        assertThat(sc.sha256()).isEqualTo(StoreTests.sha256(original));
        assertThat(sc.size()).isEqualTo(original.length);
        assertThat(restore(sink, sc, List.of(Transform.zstd(3)))).isEqualTo(original);
        assertThat(sink.stat("prod/db1/t0001/binlog/" + r.file().name() + ".json")).isPresent();
      }
      assertThat(sink.stat("prod/db1/t0001/binlog/mysql-bin.000013.zst")).isEmpty();
    }
  }

  @Test
  @DisplayName("removes the temporary files of killed uploads in its own archive, whatever their age, and only those, before it archives")
  void removesStaleParts() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    Path dir = sink.root().resolve("prod/db1/t0001/binlog");
    Files.createDirectories(dir);
    Path stale = dir.resolve(".mysql-bin.000001.zst." + java.util.UUID.randomUUID() + ".part");
    Path fresh = dir.resolve(".mysql-bin.000002.zst." + java.util.UUID.randomUUID() + ".part");
    Path otherServer = sink.root().resolve("prod/db2/t0001/binlog/.mysql-bin.000001.zst." + java.util.UUID.randomUUID()
        + ".part");
    Files.createDirectories(otherServer.getParent());
    java.nio.file.attribute.FileTime old = java.nio.file.attribute.FileTime.from(
        java.time.Instant.now().minus(java.time.Duration.ofMinutes(16)));
    for (Path p : List.of(stale, fresh, otherServer)) {
      Files.write(p, new byte[1000]);
      Files.setLastModifiedTime(p, p == fresh
          ? java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(java.time.Duration.ofMinutes(14)))
          : old);
    }
    try (Archiver archiver = builder(binlogs, sink).build()) {
      assertThat(archiver.runOnce().succeeded()).isTrue();
    }
    assertThat(stale).as("unmodified for 16 minutes").doesNotExist();
    assertThat(fresh).as("unmodified for 14 minutes, but no writer holds it").doesNotExist();
    assertThat(otherServer).as("another server's archive").exists();
  }

  /** Every visible object in the sink with the SHA-256 of its bytes, and each file's modification time. */
  static Map<String, String> state(FileSystemSink sink) throws IOException {
    Map<String, String> m = new java.util.TreeMap<>(TestArchive.snapshot(sink, ""));
    for (String f : TestArchive.allFiles(sink.root())) {
      m.merge(f, "", (a, b) -> a);
      m.put(f, m.get(f) + " mtime " + Files.getLastModifiedTime(sink.root().resolve(f)).toMillis()
          + " inode " + Files.getAttribute(sink.root().resolve(f), "unix:ino"));
    }
    return m;
  }

  @Nested
  @DisplayName("run again")
  class Rerun {
    @Test
    @DisplayName("does nothing the second time: no file handled, nothing written, the cursor file unchanged")
    void secondRunDoesNothing() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      try (Archiver archiver = builder(binlogs, sink).build()) {
        assertThat(archiver.runOnce().archivedCount()).isEqualTo(12);
        Map<String, String> before = state(sink);
        byte[] cursorBefore = Files.readAllBytes(tmp.resolve("cursor.json"));
        RunSummary second = archiver.runOnce();
        assertThat(second.failure()).isNull();
        assertThat(second.results()).isEmpty();
        assertThat(state(sink)).isEqualTo(before);
        assertThat(Files.readAllBytes(tmp.resolve("cursor.json"))).isEqualTo(cursorBefore);
      }
    }

    @Test
    @DisplayName("without its cursor reports every file ALREADY_ARCHIVED, rewrites nothing and rebuilds the cursor")
    void lostCursorIsRebuilt() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      Cursor original;
      try (Archiver archiver = builder(binlogs, sink).build()) {
        archiver.runOnce();
        original = archiver.cursor().orElseThrow();
      }
      Map<String, String> before = state(sink);
      Files.delete(tmp.resolve("cursor.json"));
      try (Archiver archiver = builder(binlogs, sink).parallelism(4).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(names(1, 12));
        assertThat(s.results()).extracting(FileResult::status).containsOnly(FileResult.Status.ALREADY_ARCHIVED);
        assertThat(state(sink)).isEqualTo(before);
        Cursor rebuilt = archiver.cursor().orElseThrow();
        assertThat(rebuilt.lastSyncedFile()).isEqualTo("mysql-bin.000012");
        assertThat(rebuilt.sequence()).isEqualTo(original.sequence());
        assertThat(rebuilt.sha256Checksum()).isEqualTo(original.sha256Checksum());
        assertThat(rebuilt.timeline()).isEqualTo(original.timeline());
        assertThat(rebuilt.lastTimestamp()).isEqualTo(original.lastTimestamp());
      }
    }

    @Test
    @DisplayName("halts with a chain break when a local file differs from the one archived under its name, overwriting nothing")
    void changedLocalFileIsChainBreak() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      try (Archiver archiver = builder(binlogs, sink).build()) {
        archiver.runOnce();
      }
      Map<String, String> before = state(sink);
      Files.delete(tmp.resolve("cursor.json"));
      // a different, valid, closed binlog now lives under the name mysql-bin.000005
      Files.copy(Fixtures.chain().resolve("mysql-bin.000006"), binlogs.resolve("mysql-bin.000005"),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      try (Archiver archiver = builder(binlogs, sink).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isInstanceOf(ChainBreakException.class)
            .hasMessageContaining("mysql-bin.000005")
            .hasMessageContaining("differs from the archived")
            .hasMessageContaining("nothing was overwritten");
        assertThat(s.failedFile().name()).isEqualTo("mysql-bin.000005");
        assertThat(s.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(names(1, 4));
        assertThat(archiver.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000004");
      }
      assertThat(state(sink)).isEqualTo(before);
    }

    @Test
    @DisplayName("adopts an artifact stored without its sidecar (a crash between the two) when it decodes to the local file")
    void adoptsOrphanArtifact() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      try (Archiver archiver = builder(binlogs, sink).build()) {
        archiver.runOnce();
      }
      String artifact = "prod/db1/t0001/binlog/mysql-bin.000012.zst";
      String artifactState = state(sink).get(artifact);
      // the state a crash after the artifact's commit leaves: no sidecar, cursor before the file
      sink.delete("prod/db1/t0001/binlog/mysql-bin.000012.json");
      Files.delete(tmp.resolve("cursor.json"));
      try (Archiver archiver = builder(binlogs, sink).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).hasSize(12);
        assertThat(s.results().subList(0, 11)).extracting(FileResult::status)
            .containsOnly(FileResult.Status.ALREADY_ARCHIVED);
        FileResult r = s.results().get(11);
        assertThat(r.status()).isEqualTo(FileResult.Status.ARCHIVED);
        assertThat(r.sidecar().sha256()).isEqualTo(TestArchive.sha256(binlogs.resolve("mysql-bin.000012")));
        assertThat(archiver.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000012");
      }
      assertThat(state(sink).get(artifact)).as("the artifact was kept, not rewritten").isEqualTo(artifactState);
      assertThat(sink.stat("prod/db1/t0001/binlog/mysql-bin.000012.json")).isPresent();
    }

    @Test
    @DisplayName("halts with a chain break, touching nothing, when an artifact without a sidecar holds other content")
    void orphanWithOtherContentIsChainBreak() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      // someone else's object sits where 000002's artifact goes
      try (SinkWriter w = sink.create("prod/db1/t0001/binlog/mysql-bin.000002.zst", Map.of())) {
        try (java.io.OutputStream z = Transform.zstd(3).wrap(new java.io.FilterOutputStream(w) {
          @Override
          public void close() throws IOException {
            flush();
          }
        })) {
          z.write(Files.readAllBytes(binlogs.resolve("mysql-bin.000003")));
        }
        w.commit();
      }
      Map<String, String> before = state(sink);
      try (Archiver archiver = builder(binlogs, sink).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isInstanceOf(ChainBreakException.class)
            .hasMessageContaining("prod/db1/t0001/binlog/mysql-bin.000002.zst")
            .hasMessageContaining("different content")
            .hasMessageContaining("left untouched");
        assertThat(archiver.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000001");
      }
      assertThat(state(sink).get("prod/db1/t0001/binlog/mysql-bin.000002.zst"))
          .isEqualTo(before.get("prod/db1/t0001/binlog/mysql-bin.000002.zst"));
      assertThat(sink.stat("prod/db1/t0001/binlog/mysql-bin.000002.json")).isEmpty();
    }
  }

  @Nested
  @DisplayName("with several files in flight")
  class Ordering {
    @Test
    @DisplayName("commits the cursor strictly in sequence order, one file at a time, even when later files finish first")
    void cursorInOrder() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      // 000001 (the largest file) may not commit its artifact until 000002..000004 have their sidecars
      java.util.concurrent.CountDownLatch laterDone = new java.util.concurrent.CountDownLatch(3);
      List<String> sidecarOrder = Collections.synchronizedList(new ArrayList<>());
      Sink sink = new TestArchive.DelegatingSink(FileSystemSink.of(tmp.resolve("archive"))) {
        @Override
        public void beforeCommit(String key) throws IOException {
          if (key.endsWith("mysql-bin.000001.zst")) {
            try {
              assertThat(laterDone.await(60, java.util.concurrent.TimeUnit.SECONDS))
                  .as("files 2-4 finished while file 1 was held").isTrue();
            } catch (InterruptedException e) {
              throw new java.io.InterruptedIOException();
            }
          }
        }

        @Override
        public void afterCommit(String key, StoredObject stored) {
          if (key.endsWith(".json")) {
            sidecarOrder.add(key.substring(key.lastIndexOf('/') + 1));
            if (key.matches(".*mysql-bin\\.00000[234]\\.json")) {
              laterDone.countDown();
            }
          }
        }
      };
      List<Long> commits = Collections.synchronizedList(new ArrayList<>());
      ArchiveListener listener = new ArchiveListener() {
        @Override
        public void cursorCommitted(Cursor cursor) {
          commits.add(cursor.sequence());
        }
      };
      try (Archiver archiver = builder(binlogs, sink).parallelism(4).listener(listener).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(names(1, 12));
      }
      assertThat(sidecarOrder.indexOf("mysql-bin.000001.json")).as("file 1 finished after files 2-4")
          .isGreaterThan(sidecarOrder.indexOf("mysql-bin.000004.json"));
      assertThat(commits).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L);
    }

    @Test
    @DisplayName("orders files by numeric sequence: .999999 before .1000000")
    void numericOrder() throws Exception {
      Path binlogs = Files.createDirectories(tmp.resolve("binlogs"));
      Files.copy(Fixtures.chain().resolve("mysql-bin.000002"), binlogs.resolve("mysql-bin.999999"));
      Files.copy(Fixtures.chain().resolve("mysql-bin.000003"), binlogs.resolve("mysql-bin.1000000"));
      Files.copy(Fixtures.chain().resolve("mysql-bin.000004"), binlogs.resolve("mysql-bin.1000001"));
      // listed in string order, as a careless sort would leave them
      TestArchive.writeIndex(binlogs, "mysql-bin.index", List.of("mysql-bin.1000000", "mysql-bin.1000001", "mysql-bin.999999"));
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      List<String> commits = Collections.synchronizedList(new ArrayList<>());
      ArchiveListener listener = new ArchiveListener() {
        @Override
        public void cursorCommitted(Cursor cursor) {
          commits.add(cursor.lastSyncedFile());
        }
      };
      try (Archiver archiver = builder(binlogs, sink).parallelism(4).listener(listener).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).extracting(r -> r.file().name()).containsExactly("mysql-bin.999999", "mysql-bin.1000000");
        assertThat(commits).containsExactly("mysql-bin.999999", "mysql-bin.1000000");
        assertThat(archiver.cursor()).get().extracting(Cursor::sequence).isEqualTo(1_000_000L);
        assertThat(archiver.runOnce().results()).as("a second run finds nothing new").isEmpty();
      }
      assertThat(sink.stat("prod/db1/t0001/binlog/mysql-bin.1000001.zst")).as("the active file").isEmpty();
      assertThat(TestArchive.decode(sink, "prod/db1/t0001/binlog/mysql-bin.1000000.zst", Transform.zstd(3)))
          .isEqualTo(Files.readAllBytes(binlogs.resolve("mysql-bin.1000000")));
    }
  }

  @Nested
  @DisplayName("in dry-run and shadow mode")
  class Modes {
    @Test
    @DisplayName("a dry run plans every closed file and writes nothing to the sink or the cursor")
    void dryRun() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      try (Archiver archiver = builder(binlogs, sink).mode(Archiver.Mode.DRY_RUN).parallelism(3).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(names(1, 12));
        assertThat(s.results()).extracting(FileResult::status).containsOnly(FileResult.Status.PLANNED);
        assertThat(archiver.cursor()).isEmpty();
      }
      assertThat(TestArchive.allFiles(sink.root())).isEmpty();
      assertThat(tmp.resolve("cursor.json")).doesNotExist();
    }

    @Test
    @DisplayName("shadow mode runs the whole pipeline over every byte but commits nothing and leaves no temporary files")
    void shadow() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      FileSystemSink fs = FileSystemSink.of(tmp.resolve("archive"));
      AtomicInteger written = new AtomicInteger();
      Sink sink = new TestArchive.DelegatingSink(fs) {
        @Override
        public void beforeWrite(String key, int len) {
          written.addAndGet(len);
        }
      };
      long total = 0;
      for (String n : names(1, 12)) {
        total += Files.size(binlogs.resolve(n));
      }
      try (Archiver archiver = builder(binlogs, sink).mode(Archiver.Mode.SHADOW).parallelism(3).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).extracting(FileResult::status).hasSize(12).containsOnly(FileResult.Status.SHADOWED);
        assertThat(s.bytesRead()).as("every byte was read").isEqualTo(total);
        assertThat(archiver.cursor()).isEmpty();
      }
      assertThat(written.get()).as("compressed bytes went to the sink's writers").isPositive();
      assertThat(TestArchive.allFiles(fs.root())).as("no object, no temporary file").isEmpty();
      assertThat(FileSystemSinkTest.directoriesBelow(fs.root())).as("no directory").isEmpty();
      assertThat(fs.list("")).isEmpty();
      assertThat(tmp.resolve("cursor.json")).doesNotExist();
      assertThat(tmp.resolve("cursor.json.tmp")).doesNotExist();
    }

    @Test
    @DisplayName("shadow mode still finds a truncated binlog")
    void shadowFindsTruncation() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      byte[] b = Files.readAllBytes(binlogs.resolve("mysql-bin.000003"));
      Files.write(binlogs.resolve("mysql-bin.000003"), java.util.Arrays.copyOf(b, b.length - 100));
      FileSystemSink fs = FileSystemSink.of(tmp.resolve("archive"));
      try (Archiver archiver = builder(binlogs, fs).mode(Archiver.Mode.SHADOW).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isInstanceOf(InvalidBinlogException.class).hasMessageContaining("mysql-bin.000003");
      }
      assertThat(TestArchive.allFiles(fs.root())).isEmpty();
      assertThat(FileSystemSinkTest.directoriesBelow(fs.root())).isEmpty();
    }
  }

  @Nested
  @DisplayName("over every shared fixture file")
  class AllFixtures {
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"zstd", "gzip", "none"})
    @DisplayName("archives the closed mysql/ files byte for byte and reports the in-use ones NOT_CLOSED without archiving them")
    void mysqlFixtures(String codec) throws Exception {
      Set<String> inUse = Set.of("json-opaque.binlog", "mariadb-bin.000001", "mysql-enum-string-set.000001",
          "mysql_type_bit.000001");
      List<Path> files = Fixtures.mysqlFiles();
      assertThat(files).hasSize(9);
      int i = 0;
      for (Path fixture : files) {
        i++;
        // each file gets its own binlog directory, under a binlog name, followed by an active file
        Path dir = Files.createDirectories(tmp.resolve(codec + "-" + i));
        Files.copy(fixture, dir.resolve("fx.000001"));
        TestArchive.writeIndex(dir, "fx.index", List.of("fx.000001", "fx.000002"));
        FileSystemSink sink = FileSystemSink.of(dir.resolve("archive"));
        String fixtureName = fixture.getFileName().toString();
        try (Archiver archiver = Archiver.builder()
            .source(BinlogSource.indexFile(dir.resolve("fx.index")))
            .sink(sink)
            .serverId("fx")
            .compression(TestArchive.codec(codec))
            .cursorFile(dir.resolve("cursor.json"))
            .retryPolicy(RetryPolicy.none())
            .build()) {
          RunSummary s = archiver.runOnce();
          assertThat(s.failure()).as(fixtureName).isNull();
          assertThat(s.results()).as(fixtureName).hasSize(1);
          FileResult r = s.results().get(0);
          if (inUse.contains(fixtureName)) {
            assertThat(r.status()).as(fixtureName).isEqualTo(FileResult.Status.NOT_CLOSED);
            assertThat(sink.list("")).as(fixtureName).isEmpty();
            assertThat(archiver.cursor()).as(fixtureName).isEmpty();
          } else {
            assertThat(r.status()).as(fixtureName).isEqualTo(FileResult.Status.ARCHIVED);
            assertThat(r.sidecar().artifact().codec()).isEqualTo(codec);
            assertThat(TestArchive.decode(sink, r.sidecar())).as(fixtureName).isEqualTo(Files.readAllBytes(fixture));
            assertThat(r.sidecar().binlog().closed()).as(fixtureName).isTrue();
            assertThat(archiver.cursor()).as(fixtureName).get().extracting(Cursor::lastSyncedFile).isEqualTo("fx.000001");
          }
        }
      }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"zstd", "gzip", "none"})
    @DisplayName("archives all 13 files of the MariaDB chain byte for byte once a newer file is listed after them")
    void chain(String codec) throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
      List<String> listed = new ArrayList<>(names(1, 14));
      TestArchive.writeIndex(binlogs, "mysql-bin.index", listed);
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      try (Archiver archiver = builder(binlogs, sink).compression(TestArchive.codec(codec)).parallelism(2).build()) {
        RunSummary s = archiver.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(names(1, 13));
        for (FileResult r : s.results()) {
          assertThat(r.status()).isEqualTo(FileResult.Status.ARCHIVED);
          assertThat(TestArchive.decode(sink, r.sidecar())).as(r.file().name())
              .isEqualTo(Files.readAllBytes(binlogs.resolve(r.file().name())));
        }
      }
      assertThat(TestArchive.sidecars(sink, "")).hasSize(13);
    }
  }

  static List<String> names(int from, int to) {
    List<String> n = new ArrayList<>();
    for (int i = from; i <= to; i++) {
      n.add(String.format("mysql-bin.%06d", i));
    }
    return n;
  }

  static void setInUseFlag(Path binlog) throws IOException {
    byte[] b = Files.readAllBytes(binlog);
    b[21] |= 0x01; // flags of the FORMAT_DESCRIPTION_EVENT; its CRC32 is computed with this bit masked
    Files.write(binlog, b);
  }

  @Test
  @DisplayName("waits quietly for the newest closed file while the server still marks it in use")
  void inUseNewestWaits() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("inuse-newest"), 5);
    setInUseFlag(binlogs.resolve("mysql-bin.000004"));
    try (Archiver archiver = builder(binlogs, FileSystemSink.of(tmp.resolve("a1"))).build()) {
      RunSummary s = archiver.runOnce();
      assertThat(s.succeeded()).isTrue();
      assertThat(s.results()).extracting(FileResult::status).containsExactly(FileResult.Status.ARCHIVED,
          FileResult.Status.ARCHIVED, FileResult.Status.ARCHIVED, FileResult.Status.NOT_CLOSED);
    }
  }

  @Test
  @DisplayName("archives an in-use file as it is once a newer binlog is closed (a crashed server's file), recording the flag in its sidecar")
  void crashedInUseArchived() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("inuse-crashed"), 5);
    setInUseFlag(binlogs.resolve("mysql-bin.000002"));
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("a2"));
    try (Archiver archiver = builder(binlogs, sink).build()) {
      RunSummary s = archiver.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.results()).extracting(FileResult::status).containsOnly(FileResult.Status.ARCHIVED).hasSize(4);
      assertThat(archiver.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000004");
    }
    Sidecar crashed = TestArchive.sidecars(sink, "").stream().filter(x -> x.file().equals("mysql-bin.000002"))
        .findFirst().orElseThrow();
    assertThat(crashed.binlog().inUse()).isTrue();
    assertThat(crashed.binlog().closed()).isFalse();
    assertThat(TestArchive.decode(sink, crashed)).isEqualTo(Files.readAllBytes(binlogs.resolve("mysql-bin.000002")));
  }

  @Test
  @DisplayName("records in the sidecar the id of the key that wrapped each artifact, even when the provider is configured by an alias")
  void sidecarKeyIdIsTheWrappingKey() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("alias"), 3);
    KeyProvider real = StaticKeyProvider.builder().key("arn:key/1234", new byte[32]).primary("arn:key/1234").build();
    KeyProvider alias = new KeyProvider() {
      @Override
      public String primaryKeyId() {
        return "alias/binlogs"; // what the operator configured; the KMS answers with the key's ARN
      }

      @Override
      public DataKey wrap(byte[] plaintextKey) {
        return real.wrap(plaintextKey);
      }

      @Override
      public DataKey unwrap(String keyId, byte[] wrappedKey) {
        return real.unwrap(keyId, wrappedKey);
      }
    };
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("alias-archive"));
    try (Archiver archiver = builder(binlogs, sink).encryption(Transform.aesGcm(alias)).build()) {
      RunSummary s = archiver.runOnce();
      assertThat(s.succeeded()).isTrue();
      for (FileResult r : s.results()) {
        assertThat(r.sidecar().artifact().keyId()).isEqualTo("arn:key/1234");
        assertThat(restore(sink, r.sidecar(), List.of(Transform.zstd(3), Transform.aesGcm(real))))
            .isEqualTo(Files.readAllBytes(r.file().path()));
      }
    }
  }

}
