package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Archiver;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testing.MariaDbServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Point-in-time recovery proven on real MariaDB servers: a source under load is archived (zstd, and
 * zstd + AES-256-GCM into a second archive) with two base backups taken by {@code mariadb-dump};
 * then a fresh server loads a dump, replays the fetched binlogs with {@code mariadb-binlog | mariadb},
 * and must hold exactly the checksums the source had at the target.
 */
@SlowTest
@MariaDbTest
@DisplayName("Point-in-time recovery on real MariaDB servers")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class RestorePitrTest {
  @TempDir static Path tmp;
  MariaDbServer source;
  FileSystemSink plain;
  FileSystemSink encrypted;
  KeyProvider keys;
  BaseBackup b1;
  BaseBackup b2;
  Path dump1;
  Path dump2;
  Instant t;
  String gtidAtT;
  Map<String, Long> checksumsAtT;
  Map<String, Long> checksumsAtEnd;

  @BeforeAll
  void runSourceAndArchive() throws Exception {
    PitrFixture.requireTools();
    source = MariaDbServer.start(tmp.resolve("source"));
    plain = FileSystemSink.of(tmp.resolve("archive-plain"));
    encrypted = FileSystemSink.of(tmp.resolve("archive-enc"));
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    keys = StaticKeyProvider.builder().key("k1", key).primary("k1").build();
    source.exec("CREATE DATABASE shop",
        "CREATE TABLE shop.u (id INT PRIMARY KEY, name VARCHAR(50), qty INT) ENGINE=InnoDB");
    for (int i = 0; i < 200; i++) {
      source.exec("INSERT INTO shop.u VALUES (" + i + ", 'item-" + i + "', " + (i * 7 % 13) + ")");
    }
    source.load("shop", 1500, 1);
    rotateAndArchive();
    source.load("shop", 400, 2);
    dump1 = tmp.resolve("b1.sql");
    b1 = PitrFixture.dump(source, "b1", dump1);
    source.load("shop", 2500, 3);
    source.exec("UPDATE shop.u SET qty = qty + 1 WHERE id % 3 = 0");
    rotateAndArchive();
    source.load("shop", 2500, 4);
    rotateAndArchive();
    source.load("shop", 300, 5);
    dump2 = tmp.resolve("b2.sql");
    b2 = PitrFixture.dump(source, "b2", dump2);
    source.load("shop", 2500, 6);
    rotateAndArchive();
    source.load("shop", 600, 7);
    source.exec("UPDATE shop.u SET name = CONCAT(name, '-x') WHERE id < 50", "DELETE FROM shop.u WHERE id >= 190");
    long second = PitrFixture.serverSecond(source);
    t = Instant.ofEpochSecond(second);
    checksumsAtT = PitrFixture.checksums(source);
    gtidAtT = PitrFixture.gtidBinlogPos(source);
    PitrFixture.awaitServerSecondAfter(source, second);
    source.load("shop", 800, 8);
    source.exec("UPDATE shop.u SET qty = 0", "DELETE FROM shop.t WHERE id % 2 = 0", "DROP TABLE shop.u");
    checksumsAtEnd = PitrFixture.checksums(source);
    rotateAndArchive();
    for (ArchiveReader r : List.of(reader(plain, false), reader(encrypted, true))) {
      r.maintenance().registerBaseBackup(b1);
      r.maintenance().registerBaseBackup(b2);
    }
  }

  @AfterAll
  void stopSource() throws Exception {
    if (source != null) {
      source.close();
    }
  }

  void rotateAndArchive() throws Exception {
    source.flushLogs();
    archive(plain, null, tmp.resolve("plain.cursor"));
    archive(encrypted, Transform.aesGcm(keys), tmp.resolve("enc.cursor"));
  }

  void archive(Sink sink, Transform encryption, Path cursor) throws Exception {
    try (Archiver a = Archiver.builder().source(BinlogSource.indexFile(source.indexFile())).sink(sink).prefix("pitr")
        .serverId("src").cursorFile(cursor).compression(Transform.zstd(3)).encryption(encryption)
        .retryPolicy(RetryPolicy.none()).build()) {
      RunSummary s = a.runOnce();
      assertThat(s.failure()).isNull();
    }
  }

  ArchiveReader reader(Sink sink, boolean withKeys) {
    ArchiveReader.Builder b = ArchiveReader.builder().sink(sink).prefix("pitr").serverId("src")
        .retryPolicy(RetryPolicy.none()).parallelism(2);
    if (withKeys) {
      b.keyProvider(keys);
    }
    return b.build();
  }

  /** A fresh server (no binlog of its own) with a dump loaded, the fetched binlogs replayed; its checksums. */
  Map<String, Long> restore(Path dump, FetchResult fetched, String name) throws Exception {
    Path work = Files.createDirectories(tmp.resolve(name));
    try (MariaDbServer target = MariaDbServer.start(work.resolve("server"), "--skip-log-bin")) {
      PitrFixture.load(target, dump);
      PitrFixture.replay(fetched, target, work);
      return PitrFixture.checksums(target);
    }
  }

  @Test
  @DisplayName("restoring base backup b1 to second T (zstd archive) gives the tables' checksums at T; a second fetch reuses every file")
  void toTime() throws Exception {
    assertThat(checksumsAtT).isNotEqualTo(checksumsAtEnd).containsKeys("t", "u");
    ArchiveReader reader = reader(plain, false);
    RestorePlan plan = reader.plan("b1", RestoreTarget.time(t));
    assertThat(plan.startFile()).isEqualTo(b1.file());
    assertThat(plan.startPosition()).isEqualTo(b1.position()).isGreaterThan(4);
    assertThat(plan.files().size()).isGreaterThanOrEqualTo(4);
    assertThat(plan.problems()).isEmpty();
    Path dir = tmp.resolve("fetch-time");
    FetchResult f = reader.fetch(plan, dir);
    assertThat(f.fetched()).isEqualTo(plan.files().size());
    assertThat(f.replayCommand()).contains("--start-position=" + b1.position());
    assertThat(f.replayShellCommand("mariadb")).contains("--stop-datetime='" + FetchResult.datetime(t.plusSeconds(1)) + "'");
    assertThat(restore(dump1, f, "restore-time")).isEqualTo(checksumsAtT);
    FetchResult again = reader.fetch(plan, dir);
    assertThat(again.fetched()).isZero();
    assertThat(again.reused()).isEqualTo(plan.files().size());
  }

  @Test
  @DisplayName("restoring base backup b1 to the GTID state at T (zstd + AES-256-GCM archive) gives the checksums at T")
  void toGtid() throws Exception {
    ArchiveReader reader = reader(encrypted, true);
    RestorePlan plan = reader.plan("b1", RestoreTarget.gtid(gtidAtT));
    assertThat(plan.files().get(0).artifact().cipher()).isEqualTo("aes-256-gcm");
    FetchResult f = reader.fetch(plan, tmp.resolve("fetch-gtid"));
    assertThat(f.plan().stopPosition()).isGreaterThan(4);
    assertThat(restore(dump1, f, "restore-gtid")).isEqualTo(checksumsAtT);
    assertThatThrownBy(() -> reader(encrypted, false).fetch(plan, tmp.resolve("fetch-nokey")))
        .isInstanceOf(ArchiveException.class).hasMessageContaining("KeyProvider");
  }

  @Test
  @DisplayName("verify names a deleted and a tampered artifact and the windows around them; only changed objects are re-checked; a plan past the gap fails")
  void verifyDamage() throws Exception {
    Path copy = tmp.resolve("archive-damaged");
    PitrFixture.copyTree(tmp.resolve("archive-plain"), copy);
    ArchiveReader reader = reader(FileSystemSink.of(copy), false);
    Path state = tmp.resolve("verify-state.json");
    VerifyReport clean = reader.verify(VerifyOptions.defaults().withFull().withStateFile(state));
    assertThat(clean.problems()).isEmpty();
    assertThat(clean.windows()).hasSize(1);
    int n = clean.filesChecked();
    assertThat(n).isGreaterThanOrEqualTo(5);
    VerifyReport rerun = reader.verify(VerifyOptions.defaults().withFull().withStateFile(state));
    assertThat(rerun.filesChecked()).isZero();
    assertThat(rerun.filesUnchanged()).isEqualTo(n);

    RestorePlan all = reader.plan("b1", RestoreTarget.latest());
    Sidecar deleted = all.files().get(1);
    Sidecar tampered = all.files().get(3);
    assertThat(all.files()).hasSize(4);
    Files.delete(copy.resolve(deleted.artifact().key()));
    PitrFixture.tamper(copy.resolve(tampered.artifact().key()));
    VerifyReport quick = reader.verify(VerifyOptions.defaults());
    assertThat(quick.problems()).extracting(ArchiveProblem::objectKey).containsExactly(deleted.artifact().key());

    VerifyReport full = reader.verify(VerifyOptions.defaults().withFull().withStateFile(state));
    assertThat(full.filesChecked()).isEqualTo(2);
    assertThat(full.filesUnchanged()).isEqualTo(n - 2);
    assertThat(full.problems()).extracting(ArchiveProblem::kind, ArchiveProblem::objectKey).containsExactly(
        org.assertj.core.api.Assertions.tuple(ArchiveProblem.Kind.MISSING_ARTIFACT, deleted.artifact().key()),
        org.assertj.core.api.Assertions.tuple(ArchiveProblem.Kind.CORRUPT_ARTIFACT, tampered.artifact().key()));
    assertThat(full.windows()).extracting(RestoreWindow::lastFile)
        .contains(all.files().get(0).file(), all.files().get(2).file());
    assertThat(full.windows()).extracting(RestoreWindow::firstFile).contains(all.files().get(2).file());
    assertThat(full.ok()).isFalse();

    assertThatThrownBy(() -> reader.plan("b1", RestoreTarget.time(t)))
        .isInstanceOf(ArchiveException.class)
        .hasMessageContaining("beyond the window")
        .hasMessageContaining(deleted.artifact().key() + " of " + deleted.file() + " is missing");
    assertThatThrownBy(() -> reader.fetch(reader.planFrom(tampered.file(), 4, RestoreTarget.position(tampered.file(),
        tampered.binlog().endPosition())), tmp.resolve("fetch-tampered")))
        .isInstanceOf(IntegrityException.class).hasMessageContaining(tampered.artifact().key());
    assertThat(tmp.resolve("fetch-tampered").resolve(tampered.file())).doesNotExist();
  }

  @Test
  @DisplayName("pruning to the newest base backup deletes exactly the files before its start file, sidecar first; restoring from it still proves")
  void retention() throws Exception {
    Path copy = tmp.resolve("archive-retention");
    PitrFixture.copyTree(tmp.resolve("archive-plain"), copy);
    FileSystemSink sink = FileSystemSink.of(copy);
    ArchiveReader reader = reader(sink, false);
    List<Sidecar> before = reader.planFrom(reader.windows().get(0).firstFile(), 4, RestoreTarget.latest()).files();
    PruneResult dry = reader.maintenance().prune(RetentionPolicy.keepNewestBackups(1), false);
    assertThat(dry.applied()).isFalse();
    List<String> expectedGone = before.stream().filter(s -> s.sequence() < BinlogNames.sequence(b2.file()))
        .map(s -> s.timeline() + "/" + s.file()).toList();
    assertThat(expectedGone).isNotEmpty();
    assertThat(dry.deletedFiles()).containsExactlyElementsOf(expectedGone);
    assertThat(dry.retainedBackups()).containsExactly("b2");
    assertThat(dry.droppedBackups()).containsExactly("b1");
    assertThat(dry.deletedKeys().get(0)).endsWith(".json");
    assertThat(dry.deletedKeys().get(1)).endsWith(".zst");
    assertThat(reader.windows().get(0).firstFile()).isEqualTo(before.get(0).file());

    PruneResult applied = reader.maintenance().prune(RetentionPolicy.keepNewestBackups(1), true);
    assertThat(applied.deletedKeys()).isEqualTo(dry.deletedKeys());
    for (String k : applied.deletedKeys()) {
      assertThat(sink.stat(k)).isEmpty();
    }
    assertThat(reader.windows()).hasSize(1);
    assertThat(reader.windows().get(0).firstFile()).isEqualTo(b2.file());
    assertThat(reader.maintenance().baseBackups()).extracting(BaseBackup::name).containsExactly("b2");
    assertThat(reader.verify(VerifyOptions.defaults()).problems()).isEmpty();
    assertThatThrownBy(() -> reader.plan(b1, RestoreTarget.time(t))).isInstanceOf(NotFoundException.class);

    FetchResult f = reader.fetch(reader.plan("b2", RestoreTarget.time(t)), tmp.resolve("fetch-retention"));
    assertThat(restore(dump2, f, "restore-retention")).isEqualTo(checksumsAtT);
  }

  @Test
  @DisplayName("the source is purged only up to the last archived and verified file")
  void purgeSource() throws Exception {
    ArchiveReader reader = reader(plain, false);
    VerifyReport report = reader.verify(VerifyOptions.defaults().withFull());
    String last = report.windows().get(report.windows().size() - 1).lastFile();
    List<String> logs = source.binaryLogs();
    String next = logs.get(logs.indexOf(last) + 1);
    assertThat(reader.maintenance().purgeSource(source.dataSource(), source.indexFile().getParent(), report, false))
        .contains("PURGE BINARY LOGS TO '" + next + "'");
    assertThat(source.binaryLogs()).isEqualTo(logs);
  }
}
