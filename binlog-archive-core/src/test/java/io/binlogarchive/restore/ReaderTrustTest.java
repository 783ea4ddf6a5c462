package io.binlogarchive.restore;

import io.binlogarchive.Archiver;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.Verifier;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.DataKey;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.internal.decode.ArtifactDecoder;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.ForwardingSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read side trusts nothing the store says: whoever can write to the bucket may swap objects and
 * sidecars. Archives of the real fixture chain, attacked as such a writer would.
 */
@DisplayName("A reader refuses what an attacker with write access to the store could plant")
class ReaderTrustTest {
  static final String BINLOG_DIR = "db1/t0001/binlog/";

  @TempDir Path tmp;
  FileSystemSink sink;
  Path binlogs;

  static String name(int n) {
    return String.format("mysql-bin.%06d", n);
  }

  static byte[] zstd(byte[] plain) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream z = Transform.zstd(3).wrap(out)) {
      z.write(plain);
    }
    return out.toByteArray();
  }

  Sidecar sidecar(int n) throws IOException {
    return Sidecar.parse(Files.readAllBytes(sink.root().resolve(BINLOG_DIR + name(n) + ".json")), name(n));
  }

  void writeSidecar(Sidecar s) throws IOException {
    Files.write(sink.root().resolve(BINLOG_DIR + s.file() + ".json"), s.toJson());
  }

  static Sidecar withArtifact(Sidecar s, Sidecar.Artifact a, long size, String sha256) {
    return new Sidecar(s.formatVersion(), s.file(), s.sequence(), s.serverId(), s.timeline(), size, sha256, a,
        s.binlog(), s.archivedAt(), s.archiver());
  }

  /** The largest regular file below {@code dir}, hidden ones included; 0 if none. */
  static long largestFile(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).max().orElse(0);
    }
  }

  @Test
  @DisplayName("the read-back verifier, now on the shared decode, still proves honest zstd + AES uploads")
  void readBackProvesHonestUploads() throws Exception {
    sink = FileSystemSink.of(tmp.resolve("archive"));
    binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 4);
    try (Archiver a = Archiver.builder().source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink).serverId("db1").cursorFile(tmp.resolve("cursor.json")).compression(Transform.zstd(3))
        .encryption(Transform.aesGcm(RestoreFixture.keys())).verifier(Verifier.readBack())
        .retryPolicy(RetryPolicy.none()).build()) {
      RunSummary r = a.runOnce();
      assertThat(r.failure()).isNull();
      assertThat(a.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo(name(3));
    }
    assertThat(RestoreFixture.reader(sink).verify(VerifyOptions.defaults().withFull()).problems()).isEmpty();
  }

  @Nested
  @DisplayName("Downgrade and foreign headers, on an archive encrypted under k1")
  class Downgrade {
    Path forgedBinlog;
    String forgedKey;

    @BeforeEach
    void archiveAndSwap() throws Exception {
      sink = FileSystemSink.of(tmp.resolve("archive"));
      binlogs = RestoreFixture.archiveChain(sink, tmp.resolve("work"), 4);
      // the attacker replaces mysql-bin.000002's encrypted artifact and sidecar with an unencrypted
      // pair holding a modified binlog (one byte changed), consistent in every size and checksum
      Sidecar s = sidecar(2);
      byte[] modified = Files.readAllBytes(binlogs.resolve(name(2)));
      modified[modified.length / 2] ^= 0x01;
      forgedBinlog = tmp.resolve("forged-" + name(2));
      Files.write(forgedBinlog, modified);
      byte[] artifact = zstd(modified);
      forgedKey = BINLOG_DIR + name(2) + ".zst";
      Files.write(sink.root().resolve(forgedKey), artifact);
      Files.delete(sink.root().resolve(s.artifact().key()));
      Sidecar.Artifact a = new Sidecar.Artifact(forgedKey, artifact.length, TestArchive.sha256(artifact), "zstd", 3,
          null, null, null, null);
      writeSidecar(withArtifact(s, a, modified.length, TestArchive.sha256(modified)));
    }

    /** Rewrites file {@code n}'s sidecar to record another cipher and key id; returns the new artifact record. */
    Sidecar.Artifact rewriteCipher(int n, String cipher, String keyId) throws IOException {
      Sidecar s = sidecar(n);
      Sidecar.Artifact a = s.artifact();
      Sidecar.Artifact forged = new Sidecar.Artifact(a.key(), a.size(), a.sha256(), a.codec(), a.codecLevel(), cipher,
          keyId, a.transforms(), a.storeChecksums());
      writeSidecar(withArtifact(s, forged, s.size(), s.sha256()));
      return forged;
    }

    RestorePlan plan(ArchiveReader reader) throws IOException {
      RestorePlan p = reader.planFrom(name(1), 4, RestoreTarget.latest());
      assertThat(p.files()).extracting(Sidecar::file).containsExactly(name(1), name(2), name(3));
      return p;
    }

    @Test
    @DisplayName("fetch with a key refuses the unencrypted artifact, naming it and the binlog, before writing anything")
    void fetchRefuses() throws Exception {
      ArchiveReader reader = RestoreFixture.reader(sink);
      Path dir = tmp.resolve("restore");
      assertThatThrownBy(() -> reader.fetch(plan(reader), dir))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(forgedKey)
          .hasMessageContaining(name(2))
          .hasMessageContaining("not encrypted");
      assertThat(TestArchive.allFiles(dir)).isEmpty();
    }

    @Test
    @DisplayName("with allowUnencrypted(true) the same fetch accepts it (an archive that turned encryption on midway)")
    void allowUnencrypted() throws Exception {
      ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("db1").keyProvider(RestoreFixture.keys())
          .allowUnencrypted(true).retryPolicy(RetryPolicy.none()).build();
      FetchResult f = reader.fetch(plan(reader), tmp.resolve("restore"));
      assertThat(Files.mismatch(f.files().get(1), forgedBinlog)).isEqualTo(-1L);
      assertThat(Files.mismatch(f.files().get(2), binlogs.resolve(name(3)))).isEqualTo(-1L);
      assertThat(reader.verify(VerifyOptions.defaults().withFull()).problems()).isEmpty();
    }

    @Test
    @DisplayName("verify with a key reports it as corrupt, by metadata alone and with full")
    void verifyReports() throws Exception {
      ArchiveReader reader = RestoreFixture.reader(sink);
      for (VerifyOptions o : List.of(VerifyOptions.defaults(), VerifyOptions.defaults().withFull())) {
        VerifyReport r = reader.verify(o);
        assertThat(r.problems()).as(o.toString()).extracting(ArchiveProblem::kind, ArchiveProblem::objectKey)
            .containsExactly(org.assertj.core.api.Assertions.tuple(ArchiveProblem.Kind.CORRUPT_ARTIFACT, forgedKey));
        assertThat(r.problems().get(0).message()).contains("not encrypted", name(2));
      }
    }

    @Test
    @DisplayName("a sidecar whose key id disagrees with the artifact's header is refused, naming the object, before any key is asked")
    void foreignKeyId() throws Exception {
      Sidecar.Artifact a = rewriteCipher(3, "aes-256-gcm", "k2");
      AtomicLong unwraps = new AtomicLong();
      KeyProvider k = RestoreFixture.keys();
      KeyProvider counting = new KeyProvider() {
        @Override
        public DataKey wrap(byte[] plaintextKey) {
          return k.wrap(plaintextKey);
        }

        @Override
        public DataKey unwrap(String keyId, byte[] wrappedKey) {
          unwraps.incrementAndGet();
          return k.unwrap(keyId, wrappedKey);
        }

        @Override
        public String primaryKeyId() {
          return k.primaryKeyId();
        }
      };
      ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("db1").keyProvider(counting)
          .allowUnencrypted(true).retryPolicy(RetryPolicy.none()).build();
      RestorePlan p = reader.planFrom(name(3), 4, RestoreTarget.latest());
      assertThatThrownBy(() -> reader.fetch(p, tmp.resolve("restore")))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(a.key())
          .hasMessageContaining("key id 'k2'")
          .hasMessageContaining("'k1'");
      assertThat(unwraps).hasValue(0);
      assertThat(largestFile(tmp.resolve("restore"))).isZero();
    }

    @Test
    @DisplayName("a sidecar claiming a cipher for an unencrypted artifact is refused, naming the object")
    void claimedCipher() throws Exception {
      rewriteCipher(2, "aes-256-gcm", "k1");
      ArchiveReader reader = RestoreFixture.reader(sink);
      RestorePlan p = reader.planFrom(name(2), 4, RestoreTarget.latest());
      assertThatThrownBy(() -> reader.fetch(p, tmp.resolve("restore")))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(forgedKey)
          .hasMessageContaining("not an encrypted binlog-archive artifact");
    }
  }

  @Nested
  @DisplayName("Decompression bombs: a few KB of zstd that inflate to 400 MB, declared as 1 MiB")
  class Bomb {
    static final long DECLARED = 1 << 20;
    static final long REAL = 400L << 20;
    String bombKey;
    Sidecar bomb;

    @BeforeEach
    void plantBomb() throws Exception {
      sink = FileSystemSink.of(tmp.resolve("archive"));
      binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 4);
      try (Archiver a = Archiver.builder().source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
          .sink(sink).serverId("db1").cursorFile(tmp.resolve("cursor.json")).compression(Transform.zstd(3))
          .retryPolicy(RetryPolicy.none()).build()) {
        assertThat(a.runOnce().failure()).isNull();
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (OutputStream z = Transform.zstd(3).wrap(out)) {
        byte[] zeros = new byte[1 << 20];
        for (long n = 0; n < REAL; n += zeros.length) {
          z.write(zeros);
        }
      }
      byte[] artifact = out.toByteArray();
      assertThat(artifact.length).isLessThan(64 << 10);
      Sidecar s = sidecar(2);
      bombKey = s.artifact().key();
      Files.write(sink.root().resolve(bombKey), artifact);
      bomb = withArtifact(s, new Sidecar.Artifact(bombKey, artifact.length, TestArchive.sha256(artifact), "zstd", 3,
          null, null, null, null), DECLARED, s.sha256());
      writeSidecar(bomb);
    }

    @Test
    @DisplayName("fetch stops one byte past the declared size: a clear error, and no file in the directory ever grew beyond it")
    void fetch() throws Exception {
      Path dir = tmp.resolve("restore");
      long[] largestWhileDecoding = {-1};
      // looks at the directory when the decode closes the artifact's stream: after every plaintext
      // chunk was written, before a failed fetch deletes its temporary file
      Sink watching = new ForwardingSink(sink) {
        @Override
        public InputStream open(String key, long offset) throws IOException {
          InputStream in = super.open(key, offset);
          if (!key.equals(bombKey)) {
            return in;
          }
          return new FilterInputStream(in) {
            @Override
            public void close() throws IOException {
              largestWhileDecoding[0] = largestFile(dir);
              super.close();
            }
          };
        }
      };
      ArchiveReader reader = ArchiveReader.builder().sink(watching).serverId("db1").retryPolicy(RetryPolicy.none())
          .parallelism(1).build();
      RestorePlan p = reader.planFrom(name(2), 4, RestoreTarget.latest());
      assertThatThrownBy(() -> reader.fetch(p, dir))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(bombKey)
          .hasMessageContaining(name(2))
          .hasMessageContaining("decodes to more than the " + DECLARED + " bytes");
      assertThat(largestWhileDecoding[0]).isBetween(0L, DECLARED);
      assertThat(largestFile(dir)).isLessThanOrEqualTo(DECLARED);
      assertThat(dir.resolve(name(2))).doesNotExist();
    }

    @Test
    @DisplayName("the shared decode hands its consumer at most the declared size")
    void decodeHandsOnAtMostDeclared() {
      AtomicLong received = new AtomicLong();
      assertThatThrownBy(() -> ArtifactDecoder.decode(sink, bomb, null, c -> received.addAndGet(c.remaining()), false))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(bombKey)
          .hasMessageContaining("decodes to more than");
      assertThat(received.get()).isLessThanOrEqualTo(DECLARED);
    }

    @Test
    @DisplayName("verify --full reports the bomb as a corrupt artifact with the same reason")
    void verifyFull() throws Exception {
      ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("db1").retryPolicy(RetryPolicy.none())
          .build();
      VerifyReport r = reader.verify(VerifyOptions.defaults().withFull());
      assertThat(r.problems()).extracting(ArchiveProblem::kind, ArchiveProblem::objectKey)
          .containsExactly(org.assertj.core.api.Assertions.tuple(ArchiveProblem.Kind.CORRUPT_ARTIFACT, bombKey));
      assertThat(r.problems().get(0).message()).contains("decodes to more than the " + DECLARED + " bytes", name(2));
    }

    @Test
    @DisplayName("the read-back verifier stops at the local file's size plus one byte")
    void readBack() throws Exception {
      StoredObject stored = sink.stat(bombKey).orElseThrow();
      Verifier.Upload upload = new Verifier.Upload(sink, bombKey, stored, stored.size(), bomb.artifact().sha256(),
          DECLARED, bomb.sha256(), List.of(Transform.zstd(3)));
      assertThatThrownBy(() -> Verifier.readBack().verify(upload))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(bombKey)
          .hasMessageContaining(name(2))
          .hasMessageContaining("decodes to more than the " + DECLARED + " bytes");
    }
  }
}
