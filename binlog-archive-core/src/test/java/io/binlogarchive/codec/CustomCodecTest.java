package io.binlogarchive.codec;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.Verifier;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.restore.RewrapResult;
import io.binlogarchive.restore.VerifyOptions;
import io.binlogarchive.restore.VerifyReport;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.testing.TestArchive;
import io.binlogarchive.testing.XzTransform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A codec written outside the library ({@link XzTransform}, test sources only) goes through the
 * whole cycle on real MariaDB binlogs: archive with the read-back verifier, restore fetch, full
 * verification and, under AES, rewrap to a new key. The reader finds it by the id the sidecar
 * records.
 */
@DisplayName("A custom codec")
class CustomCodecTest {
  /** Another codec under a name of its own choosing. */
  record Renamed(String id, Transform inner) implements Transform {
    @Override
    public String extension() {
      return inner.extension();
    }

    @Override
    public java.util.Map<String, Object> describe() {
      return inner.describe();
    }

    @Override
    public java.io.OutputStream wrap(java.io.OutputStream out) throws IOException {
      return inner.wrap(out);
    }

    @Override
    public java.io.InputStream unwrap(java.io.InputStream in) throws IOException {
      return inner.unwrap(in);
    }
  }

  static final String PREFIX = "prod/db1/t0001/binlog/";
  static final int FILES = 4;

  @TempDir Path tmp;

  static StaticKeyProvider keys(String id, int seed) {
    byte[] k = new byte[32];
    new Random(seed).nextBytes(k);
    return StaticKeyProvider.builder().key(id, k).build();
  }

  /** The local binlogs {@link #archive} archived. */
  Path binlogs;

  /** Archives the first {@link #FILES} fixture binlogs with xz (and {@code encryption} if not null). */
  FileSystemSink archive(Transform encryption) throws Exception {
    binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), FILES);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    try (Archiver a = Archiver.builder().source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink).serverId("db1").prefix("prod").cursorFile(tmp.resolve("cursor.json"))
        .retryPolicy(RetryPolicy.none()).compression(new XzTransform()).encryption(encryption)
        .verifier(Verifier.readBack()).build()) {
      RunSummary run = a.runOnce();
      assertThat(run.failure()).as("archive run with the read-back verifier").isNull();
      assertThat(run.archivedCount()).isGreaterThanOrEqualTo(FILES - 1);
    }
    return sink;
  }

  ArchiveReader.Builder reader(FileSystemSink sink) {
    return ArchiveReader.builder().sink(sink).prefix("prod").serverId("db1").retryPolicy(RetryPolicy.none());
  }

  /** Fetches everything archived and compares each file with the local original. */
  static void fetchesByteForByte(ArchiveReader r, Path binlogs, Path dir) throws IOException {
    RestorePlan plan = r.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    assertThat(plan.files()).hasSizeGreaterThanOrEqualTo(FILES - 1);
    FetchResult fetched = r.fetch(plan, dir);
    assertThat(fetched.files()).hasSize(plan.files().size());
    for (Sidecar s : plan.files()) {
      assertThat(Files.readAllBytes(dir.resolve(s.file()))).as(s.file())
          .isEqualTo(Files.readAllBytes(binlogs.resolve(s.file())));
    }
  }

  @Test
  @DisplayName("under AES archives with read-back, fetches byte for byte, verifies in full, rewraps to a new key,"
      + " and restores with only the new key")
  void wholeCycleUnderAes() throws Exception {
    KeyProvider keyA = keys("key-a", 1);
    KeyProvider keyB = keys("key-b", 2);
    FileSystemSink sink = archive(Transform.aesGcm(keyA));
    List<Sidecar> sidecars = TestArchive.sidecars(sink, PREFIX);
    assertThat(sidecars).isNotEmpty().allSatisfy(s -> {
      assertThat(s.artifact().codec()).isEqualTo("xz");
      assertThat(s.artifact().cipher()).isEqualTo("aes-256-gcm");
      assertThat(s.artifact().key()).endsWith(".xz.aes");
    });

    ArchiveReader underA = reader(sink).keyProvider(keyA).codec(new XzTransform()).build();
    fetchesByteForByte(underA, binlogs, tmp.resolve("restore-a"));
    VerifyReport v = underA.verify(VerifyOptions.defaults().withFull());
    assertThat(v.problems()).isEmpty();
    assertThat(v.filesChecked()).isEqualTo(sidecars.size());

    RewrapResult r = underA.maintenance().rewrap(keyB, s -> true, true);
    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.moved()).hasSize(sidecars.size())
        .allSatisfy(m -> assertThat(m.toArtifact()).endsWith(".k1.xz.aes"));

    ArchiveReader underB = reader(sink).keyProvider(keyB).codec(new XzTransform()).build();
    fetchesByteForByte(underB, binlogs, tmp.resolve("restore-b"));
    assertThat(underB.verify(VerifyOptions.defaults().withFull()).problems()).isEmpty();
  }

  @Test
  @DisplayName("under AES has its id authenticated in the encrypted header: a sidecar naming another codec is"
      + " reported corrupt")
  void idAuthenticated() throws Exception {
    KeyProvider keyA = keys("key-a", 1);
    FileSystemSink sink = archive(Transform.aesGcm(keyA));
    Path sidecar = tmp.resolve("archive").resolve(PREFIX + "mysql-bin.000001.json");
    String json = Files.readString(sidecar);
    assertThat(json).contains("\"codec\" : \"xz\"");
    Files.writeString(sidecar, json.replace("\"codec\" : \"xz\"", "\"codec\" : \"gzip\""));

    ArchiveReader r = reader(sink).keyProvider(keyA).codec(new XzTransform()).build();
    VerifyReport v = r.verify(VerifyOptions.defaults().withFull());
    assertThat(v.problems()).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(io.binlogarchive.restore.ArchiveProblem.Kind.CORRUPT_ARTIFACT);
      assertThat(p.file()).isEqualTo("mysql-bin.000001");
      assertThat(p.message()).contains("records codec 'gzip'").contains("header names 'xz'");
    });
  }

  @Test
  @DisplayName("found through the ServiceLoader opt-in fetches and verifies an unencrypted archive")
  void serviceLoader() throws Exception {
    FileSystemSink sink = archive(null);
    CodecRegistry discovered = CodecRegistry.builtIns().withServiceLoader();
    assertThat(discovered.ids()).contains("xz");

    ArchiveReader r = reader(sink).codecs(discovered).build();
    fetchesByteForByte(r, binlogs, tmp.resolve("restore"));
    assertThat(r.verify(VerifyOptions.defaults().withFull()).problems()).isEmpty();
  }

  @Nested
  @DisplayName("unknown to the reader")
  class Unknown {
    final KeyProvider keyA = keys("key-a", 1);
    FileSystemSink sink;

    /** An xz + AES archive and a reader holding key A but not the xz codec. */
    ArchiveReader encryptedArchiveReader() throws Exception {
      sink = archive(Transform.aesGcm(keyA));
      return reader(sink).keyProvider(keyA).build();
    }

    @Test
    @DisplayName("fails a fetch before anything is written, naming the object, the binlog and the codec id")
    void fetch() throws Exception {
        FileSystemSink sink = archive(null);
      ArchiveReader r = reader(sink).build();
      RestorePlan plan = r.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
      Path dir = tmp.resolve("restore");

      assertThatThrownBy(() -> r.fetch(plan, dir)).isInstanceOf(ArchiveException.class)
          .hasMessageContaining(PREFIX + "mysql-bin.000001.xz")
          .hasMessageContaining("of mysql-bin.000001")
          .hasMessageContaining("codec 'xz'")
          .hasMessageContaining("add the codec to the reader");
      try (var files = Files.list(dir)) {
        assertThat(files).as("nothing written to %s", dir).isEmpty();
      }
    }

    @Test
    @DisplayName("fails a full verification with the same error, and an encrypted archive's too")
    void verifyFull() throws Exception {
      ArchiveReader r = encryptedArchiveReader();

      assertThatThrownBy(() -> r.verify(VerifyOptions.defaults().withFull())).isInstanceOf(ArchiveException.class)
          .hasMessageContaining(PREFIX + "mysql-bin.000001.xz.aes")
          .hasMessageContaining("codec 'xz'")
          .hasMessageContaining("add the codec to the reader");
      assertThat(r.verify(VerifyOptions.defaults()).problems()).as("a quick verify decodes nothing").isEmpty();
    }

    @Test
    @DisplayName("fails a rewrap of each file before anything is written, leaving the archive as it was")
    void rewrap() throws Exception {
      ArchiveReader r = encryptedArchiveReader();
      java.util.Map<String, String> before = TestArchive.snapshot(sink, "");

      RewrapResult result = r.maintenance().rewrap(keys("key-b", 2), s -> true, true);
      assertThat(result.ok()).isFalse();
      assertThat(result.moved()).isEmpty();
      assertThat(result.failures()).isNotEmpty().allSatisfy(f -> assertThat(f.message())
          .contains("codec 'xz'").contains("add the codec to the reader"));
      assertThat(TestArchive.snapshot(sink, "")).as("nothing written or deleted").isEqualTo(before);
    }
  }

  @Nested
  @DisplayName("registration")
  class Registration {
    @Test
    @DisplayName("refuses a codec that takes a built-in id, naming the id")
    void builtInId() {
      Transform fake = new Renamed("zstd", Transform.gzip(6));
      assertThatThrownBy(() -> CodecRegistry.builtIns().with(fake)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'zstd'").hasMessageContaining("built-in");
    }

    @Test
    @DisplayName("refuses two codecs with one id when the reader is built, in its one error")
    void duplicateInBuilder() {
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      assertThatThrownBy(() -> ArchiveReader.builder().sink(sink).codec(new XzTransform()).codec(new XzTransform())
          .build()).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("serverId is required").hasMessageContaining("'xz'");
    }

    @Test
    @DisplayName("keeps codecs added before the registry is set, and the registry is immutable")
    void order() {
      CodecRegistry base = CodecRegistry.builtIns();
      CodecRegistry withXz = base.with(new XzTransform());
      assertThat(base.find("xz")).isEmpty();
      assertThat(withXz.find("xz")).isPresent();
      assertThat(withXz.ids()).containsExactly("zstd", "gzip", "none", "xz");
      assertThat(base.withServiceLoader().withServiceLoader().ids()).as("discovery twice").contains("xz");
    }
  }
}
