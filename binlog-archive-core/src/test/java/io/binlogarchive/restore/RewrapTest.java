package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.SegmentArchiver;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.ForwardingSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key rotation of a whole archive ({@link ArchiveMaintenance#rewrap}): the 12 closed files of the real
 * MariaDB 10.11 fixture chain, archived with zstd + AES under key A to a local directory, moved to
 * key B.
 */
@DisplayName("Rewrapping an encrypted archive to a new key")
class RewrapTest {
  static final String PREFIX = "prod/db1/t0001/binlog/";
  static final byte[] BINLOG_MAGIC = {(byte) 0xfe, 'b', 'i', 'n'};
  static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};

  @TempDir Path tmp;
  Path binlogs;
  Path archive;
  FileSystemSink sink;
  StaticKeyProvider keyA = keys("key-a", 1);
  StaticKeyProvider keyB = keys("key-b", 2);

  static StaticKeyProvider keys(String id, int seed) {
    byte[] k = new byte[32];
    new Random(seed).nextBytes(k);
    return StaticKeyProvider.builder().key(id, k).build();
  }

  @BeforeEach
  void archiveUnderKeyA() throws Exception {
    binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    archive = tmp.resolve("archive");
    sink = FileSystemSink.of(archive);
    try (Archiver a = archiverUnderKeyA()) {
      RunSummary run = a.runOnce();
      assertThat(run.failure()).isNull();
      assertThat(run.archivedCount()).isEqualTo(12);
    }
  }

  Archiver archiverUnderKeyA() throws IOException {
    return Archiver.builder().source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink).serverId("db1").prefix("prod").cursorFile(tmp.resolve("cursor.json"))
        .retryPolicy(RetryPolicy.none()).compression(Transform.zstd(3)).encryption(Transform.aesGcm(keyA))
        .parallelism(2).build();
  }

  static final String SEGMENTS = "prod/db1/t0001/segments/";
  static final String OPEN = "mysql-bin.000013";

  /** Stores the open file, mysql-bin.000013, as segments of at least 64 KiB under key A. */
  List<Sidecar> segmentsUnderKeyA() throws IOException {
    try (Archiver a = archiverUnderKeyA();
        SegmentArchiver live = SegmentArchiver.builder(a).directory(binlogs).maxBytes(64 << 10).build()) {
      live.durable(OPEN, Files.size(binlogs.resolve(OPEN)));
      live.flush();
    }
    return segmentSidecars();
  }

  List<Sidecar> segmentSidecars() throws IOException {
    return TestArchive.sidecars(sink, SEGMENTS);
  }

  /** Fetches the archive with {@code keys}: the closed files whole, the open one up to its last segment. */
  void restoresWithSegments(KeyProvider keys, String dirName, long end) throws IOException {
    ArchiveReader r = reader(sink, keys);
    RestorePlan plan = r.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    assertThat(plan.lastFile()).isEqualTo(OPEN);
    Path dir = tmp.resolve(dirName);
    FetchResult fetched = r.fetch(plan, dir);
    assertThat(fetched.files()).hasSize(13);
    for (Path p : fetched.files()) {
      byte[] want = Files.readAllBytes(binlogs.resolve(p.getFileName().toString()));
      assertThat(Files.readAllBytes(p)).as("%s", p.getFileName())
          .isEqualTo(p.getFileName().toString().equals(OPEN) ? Arrays.copyOf(want, (int) end) : want);
    }
  }

  ArchiveReader reader(Sink s, KeyProvider keys) {
    return ArchiveReader.builder().sink(s).prefix("prod").serverId("db1").keyProvider(keys)
        .retryPolicy(RetryPolicy.none()).parallelism(2).build();
  }

  static Predicate<Sidecar> all() {
    return s -> true;
  }

  List<String> keys() throws IOException {
    return sink.list(PREFIX).stream().map(StoredObject::key).toList();
  }

  /** Fetches the whole archive with {@code keys} and compares every file with the original. */
  void restoresByteForByte(KeyProvider keys, String dirName) throws IOException {
    ArchiveReader r = reader(sink, keys);
    RestorePlan plan = r.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    assertThat(plan.files()).hasSize(12);
    Path dir = tmp.resolve(dirName);
    r.fetch(plan, dir);
    for (Sidecar s : plan.files()) {
      assertThat(Files.readAllBytes(dir.resolve(s.file()))).as(s.file())
          .isEqualTo(Files.readAllBytes(binlogs.resolve(s.file())));
    }
  }

  /** Keys A and B in one provider, for the archive between two runs (some files moved, some not). */
  static StaticKeyProvider keysAandB() {
    byte[] a = new byte[32];
    byte[] b = new byte[32];
    new Random(1).nextBytes(a);
    new Random(2).nextBytes(b);
    return StaticKeyProvider.builder().key("key-a", a).key("key-b", b).primary("key-b").build();
  }

  @Test
  @DisplayName("moves every artifact to key B: each file restores byte for byte with only key B, sidecars name key B, the old artifacts are gone and verify is clean")
  void movesEverything() throws Exception {
    RewrapResult r = reader(sink, keyA).maintenance().rewrap(keyB, all(), true);

    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.applied()).isTrue();
    assertThat(r.moved()).hasSize(12).allSatisfy(m -> {
      assertThat(m.fromKeyId()).isEqualTo("key-a");
      assertThat(m.toKeyId()).isEqualTo("key-b");
      assertThat(m.toArtifact()).isEqualTo(PREFIX + m.file() + ".k1.zst.aes");
      assertThat(m.fromArtifact()).isEqualTo(PREFIX + m.file() + ".zst.aes");
      assertThat(m.resumed()).isFalse();
    });
    assertThat(TestArchive.sidecars(sink, PREFIX)).hasSize(12).allSatisfy(s -> {
      assertThat(s.artifact().keyId()).isEqualTo("key-b");
      assertThat(s.artifact().key()).endsWith(".k1.zst.aes");
      Map<String, Object> cipher = s.artifact().transforms().get(s.artifact().transforms().size() - 1);
      assertThat(cipher).containsEntry("key_id", "key-b").containsEntry("rewrapped_from_key_id", "key-a");
    });
    assertThat(keys()).hasSize(24).allMatch(k -> k.endsWith(".json") || k.endsWith(".k1.zst.aes"));

    restoresByteForByte(keyB, "restore");
    VerifyReport v = reader(sink, keyB).verify(VerifyOptions.defaults().withFull());
    assertThat(v.problems()).isEmpty();
    assertThat(v.windows()).hasSize(1);
  }

  @Test
  @DisplayName("moves the open file's segments too: each keeps its range and names .k1, the archive restores to the"
      + " last segment with key B alone, and verify is clean")
  void movesSegments() throws Exception {
    List<Sidecar> before = segmentsUnderKeyA();
    assertThat(before).hasSizeGreaterThan(1).allSatisfy(g -> assertThat(g.artifact().keyId()).isEqualTo("key-a"));
    long end = before.get(before.size() - 1).segment().end();

    RewrapResult r = reader(sink, keyA).maintenance().rewrap(keyB, all(), true);
    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.moved()).hasSize(12 + before.size());
    assertThat(r.moved()).filteredOn(m -> m.file().equals(OPEN)).hasSize(before.size())
        .allSatisfy(m -> assertThat(m.toArtifact()).isEqualTo(m.fromArtifact().replace(".zst.aes", ".k1.zst.aes")));
    List<Sidecar> after = segmentSidecars();
    assertThat(after).extracting(Sidecar::segment).isEqualTo(before.stream().map(Sidecar::segment).toList());
    assertThat(after).allSatisfy(g -> {
      assertThat(g.artifact().keyId()).isEqualTo("key-b");
      assertThat(g.artifact().key()).isEqualTo(SEGMENTS + OPEN + "." + String.format("%020d", g.segment().start())
          + ".k1.zst.aes");
    });
    assertThat(sink.list(SEGMENTS)).hasSize(2 * before.size())
        .allMatch(o -> o.key().endsWith(".json") || o.key().endsWith(".k1.zst.aes"));

    restoresWithSegments(keyB, "restore", end);
    VerifyReport v = reader(sink, keyB).verify(VerifyOptions.defaults().withFull());
    assertThat(v.problems()).isEmpty();
    assertThat(v.windows()).hasSize(1);
    assertThat(reader(sink, keyA).maintenance().rewrap(keyB, all(), true).moved()).as("nothing left to move").isEmpty();
  }

  @Test
  @DisplayName("a crash between the steps of a segment's move leaves it restorable, verify reports only leftovers, and"
      + " a re-run completes")
  void crashBetweenStepsOfSegments() throws Exception {
    List<Sidecar> before = segmentsUnderKeyA();
    assertThat(before).hasSizeGreaterThan(1);
    long end = before.get(before.size() - 1).segment().end();
    String first = OPEN + "." + String.format("%020d", before.get(0).segment().start());
    String last = OPEN + "." + String.format("%020d", before.get(before.size() - 1).segment().start());
    Sink crashing = new ForwardingSink(sink) {
      @Override
      public StoredObject replace(String key, String version, byte[] content) throws IOException {
        if (name(key).equals(first + ".json")) {
          throw new IOException("simulated crash before replacing " + key);
        }
        return super.replace(key, version, content);
      }

      @Override
      public void delete(String key, String version) throws IOException {
        if (name(key).equals(last + ".zst.aes")) {
          throw new IOException("simulated crash before deleting " + key);
        }
        super.delete(key, version);
      }
    };
    RewrapResult interruptedRun = reader(crashing, keyA).maintenance().rewrap(keyB, all(), true);
    assertThat(interruptedRun.failures()).hasSize(2).allSatisfy(f -> assertThat(f.file()).isEqualTo(OPEN));

    StaticKeyProvider aAndB = keysAandB();
    VerifyReport interrupted = reader(sink, aAndB).verify(VerifyOptions.defaults().withFull());
    assertThat(interrupted.ok()).as("%s", interrupted.problems()).isTrue();
    assertThat(interrupted.problems()).hasSize(2)
        .allSatisfy(p -> assertThat(p.kind()).isEqualTo(ArchiveProblem.Kind.REWRAP_LEFTOVER))
        .extracting(ArchiveProblem::objectKey)
        .containsExactlyInAnyOrder(SEGMENTS + first + ".k1.zst.aes", SEGMENTS + last + ".zst.aes");
    restoresWithSegments(aAndB, "restore-interrupted", end);

    RewrapResult again = reader(sink, keyA).maintenance().rewrap(keyB, all(), true);
    assertThat(again.ok()).as("%s", again).isTrue();
    assertThat(again.moved()).as("the segment whose sidecar was not switched: its new artifact adopted").hasSize(1)
        .allSatisfy(m -> {
          assertThat(m.toArtifact()).isEqualTo(SEGMENTS + first + ".k1.zst.aes");
          assertThat(m.resumed()).isTrue();
        });
    assertThat(again.leftoversRemoved()).containsExactly(SEGMENTS + last + ".zst.aes");
    assertThat(sink.list(SEGMENTS)).hasSize(2 * before.size())
        .allMatch(o -> o.key().endsWith(".json") || o.key().endsWith(".k1.zst.aes"));
    VerifyReport clean = reader(sink, keyB).verify(VerifyOptions.defaults().withFull());
    assertThat(clean.problems()).isEmpty();
    restoresWithSegments(keyB, "restore", end);
  }

  @Test
  @DisplayName("never writes plaintext to disk: no file in the archive, and no new temporary file, ever holds binlog or zstd bytes")
  void noPlaintextOnDisk() throws Exception {
    long start = System.currentTimeMillis() - 1000;
    PlaintextWatch watch = new PlaintextWatch(sink, archive, start, Set.of(binlogs, Fixtures.dir()));
    RewrapResult r = reader(watch, keyA).maintenance().rewrap(keyB, all(), true);
    assertThat(r.ok()).as("%s", r).isTrue();
    watch.scan("after the rewrap");
    assertThat(watch.scans).as("scans while writing, reading back and replacing").isGreaterThanOrEqualTo(36);
    assertThat(watch.found).isEmpty();
  }

  @Test
  @DisplayName("a dry run lists what would move under which names and changes nothing")
  void dryRun() throws Exception {
    Map<String, String> before = TestArchive.snapshot(sink, "");
    RewrapResult r = reader(sink, keyA).maintenance().rewrap(keyB, all(), false);
    assertThat(r.applied()).isFalse();
    assertThat(r.moved()).hasSize(12)
        .allSatisfy(m -> assertThat(m.toArtifact()).isEqualTo(PREFIX + m.file() + ".k1.zst.aes"));
    assertThat(TestArchive.snapshot(sink, "")).isEqualTo(before);
  }

  @Test
  @DisplayName("a crash before the sidecar switch or before the old artifact's deletion leaves every file restorable, verify reports only leftovers, and a re-run completes")
  void crashBetweenSteps() throws Exception {
    Set<String> replaceFails = Set.of("mysql-bin.000003.json", "mysql-bin.000007.json");
    Set<String> deleteFails = Set.of("mysql-bin.000005.zst.aes", "mysql-bin.000009.zst.aes");
    Sink crashing = new ForwardingSink(sink) {
      @Override
      public StoredObject replace(String key, String version, byte[] content) throws IOException {
        if (replaceFails.contains(name(key))) {
          throw new IOException("simulated crash before replacing " + key);
        }
        return super.replace(key, version, content);
      }

      @Override
      public void delete(String key, String version) throws IOException {
        if (deleteFails.contains(name(key))) {
          throw new IOException("simulated crash before deleting " + key);
        }
        super.delete(key, version);
      }
    };
    RewrapResult first = reader(crashing, keyA).maintenance().rewrap(keyB, all(), true);
    assertThat(first.failures()).extracting(RewrapResult.Failure::file)
        .containsExactlyInAnyOrder("mysql-bin.000003", "mysql-bin.000005", "mysql-bin.000007", "mysql-bin.000009");
    assertThat(first.moved()).hasSize(8);

    StaticKeyProvider aAndB = keysAandB();
    VerifyReport interrupted = reader(sink, aAndB).verify(VerifyOptions.defaults().withFull());
    assertThat(interrupted.ok()).as("%s", interrupted.problems()).isTrue();
    assertThat(interrupted.windows()).hasSize(1);
    assertThat(interrupted.problems()).hasSize(4)
        .allSatisfy(p -> assertThat(p.kind()).isEqualTo(ArchiveProblem.Kind.REWRAP_LEFTOVER))
        .extracting(ArchiveProblem::objectKey).containsExactlyInAnyOrder(
            PREFIX + "mysql-bin.000003.k1.zst.aes", PREFIX + "mysql-bin.000007.k1.zst.aes",
            PREFIX + "mysql-bin.000005.zst.aes", PREFIX + "mysql-bin.000009.zst.aes");
    restoresByteForByte(aAndB, "restore-interrupted");

    RewrapResult again = reader(sink, keyA).maintenance().rewrap(keyB, all(), true);
    assertThat(again.ok()).as("%s", again).isTrue();
    assertThat(again.moved()).extracting(RewrapResult.Move::file)
        .containsExactlyInAnyOrder("mysql-bin.000003", "mysql-bin.000007");
    assertThat(again.moved()).allMatch(RewrapResult.Move::resumed);
    assertThat(again.leftoversRemoved()).containsExactlyInAnyOrder(
        PREFIX + "mysql-bin.000005.zst.aes", PREFIX + "mysql-bin.000009.zst.aes");
    assertThat(again.alreadyOnTarget()).isEqualTo(10);

    assertThat(keys()).hasSize(24).allMatch(k -> k.endsWith(".json") || k.endsWith(".k1.zst.aes"));
    VerifyReport clean = reader(sink, keyB).verify(VerifyOptions.defaults().withFull());
    assertThat(clean.problems()).isEmpty();
    restoresByteForByte(keyB, "restore");
  }

  @Test
  @DisplayName("moves only what the predicate selects, skips files already under the new key, and a second rotation names the artifacts .k2")
  void selectionAndSecondRotation() throws Exception {
    RewrapResult some = reader(sink, keyA).maintenance().rewrap(keyB, s -> s.sequence() <= 4, true);
    assertThat(some.moved()).hasSize(4);
    assertThat(some.notSelected()).isEqualTo(8);
    RewrapResult rest = reader(sink, keyA).maintenance().rewrap(keyB, all(), true);
    assertThat(rest.moved()).hasSize(8);
    assertThat(rest.alreadyOnTarget()).isEqualTo(4);
    assertThat(reader(sink, keyA).maintenance().rewrap(keyB, all(), true).moved()).isEmpty();

    StaticKeyProvider keyC = keys("key-c", 3);
    RewrapResult toC = reader(sink, keyB).maintenance().rewrap(keyC, all(), true);
    assertThat(toC.ok()).as("%s", toC).isTrue();
    assertThat(toC.moved()).hasSize(12).allSatisfy(m -> {
      assertThat(m.fromArtifact()).endsWith(".k1.zst.aes");
      assertThat(m.toArtifact()).isEqualTo(PREFIX + m.file() + ".k2.zst.aes");
    });
    assertThat(keys()).hasSize(24).allMatch(k -> k.endsWith(".json") || k.endsWith(".k2.zst.aes"));
    restoresByteForByte(keyC, "restore");
  }

  @Test
  @DisplayName("a tampered artifact is not moved and nothing is written for it; the other files move")
  void tamperedArtifact() throws Exception {
    Path victim = archive.resolve(PREFIX + "mysql-bin.000006.zst.aes");
    byte[] b = Files.readAllBytes(victim);
    b[b.length / 2] ^= 1;
    FileTime mtime = Files.getLastModifiedTime(victim);
    Files.write(victim, b);
    Files.setLastModifiedTime(victim, mtime);
    RewrapResult r = reader(sink, keyA).maintenance().rewrap(keyB, all(), true);
    assertThat(r.moved()).hasSize(11);
    assertThat(r.failures()).singleElement().satisfies(f -> {
      assertThat(f.file()).isEqualTo("mysql-bin.000006");
      assertThat(f.message()).contains("mysql-bin.000006.zst.aes");
    });
    assertThat(keys()).contains(PREFIX + "mysql-bin.000006.zst.aes")
        .doesNotContain(PREFIX + "mysql-bin.000006.k1.zst.aes");
    assertThat(ArchiveCatalog.of(sink, "prod", "db1").readSidecar(PREFIX + "mysql-bin.000006.json").artifact().keyId())
        .isEqualTo("key-a");
  }

  @Test
  @DisplayName("refuses to apply without the old keys or on a sink without conditional writes; a dry run needs neither")
  void refusals() throws Exception {
    ArchiveReader noKeys = ArchiveReader.builder().sink(sink).prefix("prod").serverId("db1").build();
    assertThatThrownBy(() -> noKeys.maintenance().rewrap(keyB, all(), true)).isInstanceOf(ArchiveException.class)
        .hasMessageContaining("no KeyProvider");
    assertThat(noKeys.maintenance().rewrap(keyB, all(), false).moved()).hasSize(12);
    Sink noConditionalWrites = new ForwardingSink(sink) {
      @Override
      public boolean supportsConditionalWrites() {
        return false;
      }
    };
    assertThatThrownBy(() -> reader(noConditionalWrites, keyA).maintenance().rewrap(keyB, all(), true))
        .isInstanceOf(ArchiveException.class).hasMessageContaining("conditional writes");
  }

  static String name(String key) {
    return key.substring(key.lastIndexOf('/') + 1);
  }

  /**
   * Scans for plaintext on disk at every step the rewrap takes: before each commit (when the new
   * artifact's hidden temporary file is complete), when each read stream closes, and around each
   * replace and delete. Looks at every file in the archive directory (hidden ones included), at new
   * top-level files in {@code java.io.tmpdir}, and (on Linux) at every file this JVM holds open,
   * except the source binlogs and the shared fixtures.
   */
  static final class PlaintextWatch extends ForwardingSink {
    final Path archive;
    final long since;
    final Set<Path> allowed;
    final List<String> found = new ArrayList<>();
    int scans;

    PlaintextWatch(Sink delegate, Path archive, long since, Set<Path> allowed) {
      super(delegate);
      this.archive = archive;
      this.since = since;
      this.allowed = new HashSet<>();
      for (Path p : allowed) {
        this.allowed.add(p.toAbsolutePath().normalize());
      }
    }

    @Override
    public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
      SinkWriter w = delegate.create(key, metadata);
      return new SinkWriter() {
        boolean committed;

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          w.write(b, off, len);
        }

        @Override
        public StoredObject commit() throws IOException {
          scan("before committing " + key);
          StoredObject o = w.commit();
          committed = true;
          return o;
        }

        @Override
        public void abort() {
          w.abort();
        }

        @Override
        protected boolean isCommitted() {
          return committed;
        }
      };
    }

    @Override
    public InputStream open(String key, long offset) throws IOException {
      return new FilterInputStream(delegate.open(key, offset)) {
        @Override
        public void close() throws IOException {
          scan("while reading " + key);
          super.close();
        }
      };
    }

    @Override
    public StoredObject replace(String key, String version, byte[] content) throws IOException {
      scan("before replacing " + key);
      return super.replace(key, version, content);
    }

    @Override
    public void delete(String key, String version) throws IOException {
      scan("before deleting " + key);
      super.delete(key, version);
    }

    synchronized void scan(String when) throws IOException {
      scans++;
      List<Path> candidates = new ArrayList<>();
      for (int attempt = 0; ; attempt++) {
        // another file's rewrap may delete an object while the tree is walked: walk again
        List<Path> walked = new ArrayList<>();
        try (Stream<Path> s = Files.walk(archive)) {
          s.filter(Files::isRegularFile).forEach(walked::add);
          candidates.addAll(walked);
          break;
        } catch (java.io.UncheckedIOException | java.nio.file.NoSuchFileException e) {
          if (attempt >= 20) {
            throw e;
          }
        }
      }
      try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
        s.filter(p -> isNewFile(p)).forEach(candidates::add);
      }
      Path fds = Path.of("/proc/self/fd");
      if (Files.isDirectory(fds)) {
        try (Stream<Path> s = Files.list(fds)) {
          s.forEach(fd -> {
            try {
              Path target = Files.readSymbolicLink(fd);
              if (target.isAbsolute() && Files.isRegularFile(target) && !target.toString().endsWith(".jar")) {
                candidates.add(target);
              }
            } catch (IOException | UnsupportedOperationException e) {
              // closed meanwhile, or not a file
            }
          });
        }
      }
      for (Path p : candidates) {
        Path n = p.toAbsolutePath().normalize();
        if (allowed.stream().anyMatch(n::startsWith)) {
          continue;
        }
        byte[] head = head(n);
        if (Arrays.equals(head, BINLOG_MAGIC) || Arrays.equals(head, ZSTD_MAGIC)) {
          found.add(n + " (" + when + ")");
        }
      }
    }

    private boolean isNewFile(Path p) {
      try {
        return Files.isRegularFile(p) && Files.getLastModifiedTime(p).toMillis() >= since;
      } catch (IOException e) {
        return false;
      }
    }

    private static byte[] head(Path p) {
      try (InputStream in = Files.newInputStream(p)) {
        return in.readNBytes(4);
      } catch (IOException e) {
        return new byte[0]; // vanished meanwhile
      }
    }
  }
}
