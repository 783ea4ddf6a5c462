package io.binlogarchive.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.storage.Storage;
import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.FileResult;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.store.Sink;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import io.binlogarchive.testing.StoreTests;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.codec.Transform;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole archive pipeline from a real, throwaway MariaDB server ({@code mariadbd} from the
 * system's packages, started by {@link MariaDbServer}) to {@link GcsSink}, then every artifact read
 * back through its sidecar and compared byte for byte with the server's binlog.
 *
 * <p>The store is {@link GcsJsonApiTestServer} and the KMS is {@link GcpKmsTestServer}: local test
 * doubles of the GCS JSON API and of the Cloud KMS {@code encrypt}/{@code decrypt} REST methods,
 * because neither service can run on a build machine. What this proves is that the pieces fit and
 * lose nothing under faults those doubles inject, not how Google's services behave.
 */
@SlowTest
@MariaDbTest
@DisplayName("archiving a live MariaDB server's binlogs to GCS and reading them back")
class GcsArchiveEndToEndTest {
  static final String SERVER_ID = "mariadb-e2e";
  static final String KMS_KEY = "projects/p/locations/europe-west1/keyRings/backups/cryptoKeys/binlogs";

  @TempDir static Path tmp;
  static MariaDbServer mariadb;
  static List<String> closedBinlogs;
  static GcsJsonApiTestServer gcs;
  static Storage storage;
  static GcpKmsTestServer kms;

  @BeforeAll
  static void start() throws Exception {
    mariadb = MariaDbServer.start(tmp.resolve("mariadb"));
    mariadb.exec("CREATE DATABASE shop", "CREATE TABLE shop.blobs (id INT AUTO_INCREMENT PRIMARY KEY, b BLOB)");
    Random random = new Random(2026);
    for (int round = 0; round < 4; round++) {
      mariadb.load("shop", 2000, round);
      insertRandomBlobs(random, 600);
      mariadb.flushLogs();
    }
    List<String> all = mariadb.binaryLogs();
    closedBinlogs = all.subList(0, all.size() - 1);
    gcs = GcsJsonApiTestServer.start();
    storage = GcsTestClients.storage(gcs.endpoint(), 3);
    kms = GcpKmsTestServer.start();
    kms.createKey(KMS_KEY);
  }

  /** Incompressible rows, so that compressed artifacts still span several upload chunks. */
  static void insertRandomBlobs(Random random, int rows) throws SQLException {
    try (Connection c = mariadb.connection();
        PreparedStatement st = c.prepareStatement("INSERT INTO shop.blobs (b) VALUES (?)")) {
      for (int i = 0; i < rows; i++) {
        byte[] b = new byte[1024];
        random.nextBytes(b);
        st.setBytes(1, b);
        st.executeUpdate();
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (storage != null) {
      storage.close();
    }
    if (gcs != null) {
      gcs.close();
    }
    if (kms != null) {
      kms.close();
    }
    if (mariadb != null) {
      mariadb.close();
    }
  }

  static GcsSink sink(Storage client, String bucket) {
    return GcsSink.builder()
        .storage(client)
        .bucket(bucket)
        .chunkSize(GcsSink.MIN_CHUNK_SIZE)
        .retryPolicy(StoreTests.noSleepRetries(10))
        .build();
  }

  static RunSummary archive(Sink sink, String name, Transform encryption) throws IOException {
    Archiver.Builder b =
        Archiver.builder()
            .source(BinlogSource.directory(mariadb.dataDir()))
            .sink(sink)
            .prefix("prod/" + name)
            .serverId(SERVER_ID)
            .compression(Transform.zstd(3))
            .cursorFile(tmp.resolve(name + ".cursor.json"))
            .retryPolicy(StoreTests.noSleepRetries(20));
    if (encryption != null) {
      b.encryption(encryption);
    }
    try (Archiver archiver = b.build()) {
      return archiver.runOnce();
    }
  }

  /**
   * Reads every sidecar, opens its artifact, undoes the transforms it names and compares the result
   * with the server's binlog.
   *
   * @return the sidecars, in sequence order
   */
  static List<Sidecar> assertEveryBinlogRestores(Sink sink, String name, KeyProvider keys) throws IOException {
    ArchiveCatalog catalog = ArchiveCatalog.of(sink, "prod/" + name, SERVER_ID);
    assertThat(catalog.timelines()).hasSize(1);
    String timeline = catalog.timelines().get(0);
    List<Sidecar> sidecars = catalog.sidecars(timeline);
    assertThat(sidecars).extracting(Sidecar::file).containsExactlyElementsOf(closedBinlogs);
    List<String> expectedKeys = new ArrayList<>();
    for (Sidecar s : sidecars) {
      expectedKeys.add(s.artifact().key());
      expectedKeys.add(s.artifact().key().substring(0, s.artifact().key().indexOf(s.file()) + s.file().length()) + ".json");
      List<Transform> chain = new ArrayList<>();
      assertThat(s.artifact().codec()).isEqualTo("zstd");
      chain.add(Transform.zstd(3));
      if (s.artifact().cipher() != null) {
        chain.add(Transform.aesGcm(keys));
      }
      InputStream in = sink.open(s.artifact().key());
      for (int i = chain.size() - 1; i >= 0; i--) {
        in = chain.get(i).unwrap(in);
      }
      byte[] restored;
      try (InputStream decoded = in) {
        restored = decoded.readAllBytes();
      }
      byte[] original = Files.readAllBytes(mariadb.dataDir().resolve(s.file()));
      assertThat(restored).as("restored %s", s.file()).isEqualTo(original);
      assertThat(s.sha256()).isEqualTo(StoreTests.sha256(original));
      assertThat(s.size()).isEqualTo(original.length);
    }
    assertThat(catalog.objects(timeline)).extracting(StoredObject::key)
        .as("an artifact and a sidecar per binlog, nothing else")
        .containsExactlyInAnyOrderElementsOf(expectedKeys);
    return sidecars;
  }

  static void assertArchivedAll(RunSummary summary) {
    assertThat(summary.failure()).isNull();
    assertThat(summary.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(closedBinlogs);
    assertThat(summary.results()).allMatch(r -> r.status() == FileResult.Status.ARCHIVED);
    assertThat(summary.cursor()).get().satisfies(c ->
        assertThat(c.lastSyncedFile()).isEqualTo(closedBinlogs.get(closedBinlogs.size() - 1)));
  }

  @Test
  @DisplayName("the server wrote several closed binlogs, most of them larger than two upload chunks")
  void fixtureIsMeaningful() throws IOException {
    assertThat(closedBinlogs).hasSizeGreaterThanOrEqualTo(4);
    long large = 0;
    for (String name : closedBinlogs) {
      if (Files.size(mariadb.dataDir().resolve(name)) > 2L * GcsSink.MIN_CHUNK_SIZE) {
        large++;
      }
    }
    assertThat(large).isGreaterThanOrEqualTo(4);
  }

  @Test
  @DisplayName("zstd: every closed binlog restores byte for byte")
  void zstd() throws IOException {
    gcs.createBucket("e2e-zstd");
    try (GcsSink sink = sink(storage, "e2e-zstd")) {
      assertArchivedAll(archive(sink, "zstd", null));
      List<Sidecar> sidecars = assertEveryBinlogRestores(sink, "zstd", null);
      assertThat(sidecars).allSatisfy(s -> assertThat(s.artifact().cipher()).isNull());
    }
  }

  @Test
  @DisplayName("zstd + AES-256-GCM under a static key: every closed binlog restores byte for byte")
  void zstdAesStaticKey() throws IOException {
    byte[] master = new byte[32];
    new Random(11).nextBytes(master);
    StaticKeyProvider keys = StaticKeyProvider.builder().key("e2e-2026", master).build();
    gcs.createBucket("e2e-static");
    try (GcsSink sink = sink(storage, "e2e-static")) {
      assertArchivedAll(archive(sink, "static", Transform.aesGcm(keys)));
      List<Sidecar> sidecars = assertEveryBinlogRestores(sink, "static", keys);
      assertThat(sidecars).allSatisfy(s -> {
        assertThat(s.artifact().cipher()).isNotNull();
        assertThat(s.artifact().keyId()).isEqualTo("e2e-2026");
      });
    }
  }

  @Test
  @DisplayName("zstd + AES-256-GCM under Cloud KMS: every closed binlog restores byte for byte, one KMS Encrypt per file")
  void zstdAesKms() throws IOException {
    GcpKmsKeyProvider keys =
        GcpKmsKeyProvider.builder()
            .keyName(KMS_KEY)
            .credentials(GcpKmsTestServer.credentials())
            .endpoint(kms.endpoint())
            .retryPolicy(StoreTests.noSleepRetries(5))
            .build();
    gcs.createBucket("e2e-kms");
    int encrypts = kms.encrypts();
    try (GcsSink sink = sink(storage, "e2e-kms")) {
      assertArchivedAll(archive(sink, "kms", Transform.aesGcm(keys)));
      assertThat(kms.encrypts() - encrypts).isEqualTo(closedBinlogs.size());
      // a reader with a fresh provider: the artifacts carry everything but the KMS permission
      GcpKmsKeyProvider reader =
          GcpKmsKeyProvider.builder()
              .keyName(KMS_KEY)
              .credentials(GcpKmsTestServer.credentials())
              .endpoint(kms.endpoint())
              .build();
      List<Sidecar> sidecars = assertEveryBinlogRestores(sink, "kms", reader);
      assertThat(sidecars).allSatisfy(s -> assertThat(s.artifact().keyId()).isEqualTo(KMS_KEY));
    }
  }

  @Test
  @DisplayName("under injected 503s, dropped upload connections, a lost commit answer and KMS outages, a run still archives every binlog with no loss")
  void faults() throws Exception {
    try (GcsJsonApiTestServer faulty = GcsJsonApiTestServer.start();
        Storage client = GcsTestClients.storage(faulty.endpoint(), 3)) {
      faulty.createBucket("e2e-faults");
      GcpKmsKeyProvider keys =
          GcpKmsKeyProvider.builder()
              .keyName(KMS_KEY)
              .credentials(GcpKmsTestServer.credentials())
              .endpoint(kms.endpoint())
              .retryPolicy(StoreTests.noSleepRetries(5))
              .build();
      faulty.failShare(0.15, 20261114L);
      faulty.dropChunkPuts(4);
      faulty.loseFinalizeResponses(1);
      kms.failNext(503, 503, 429);
      int kmsFaults = kms.faults();
      try (GcsSink sink = sink(client, "e2e-faults")) {
        RunSummary summary = archive(sink, "faults", Transform.aesGcm(keys));

        assertThat(faulty.injected503()).as("503s were injected").isGreaterThan(0);
        assertThat(faulty.droppedConnections()).as("connections were dropped, one after finalising").isEqualTo(5);
        assertThat(kms.faults() - kmsFaults).as("KMS failed").isEqualTo(3);
        assertArchivedAll(summary);
        faulty.failShare(0, 0);
        assertEveryBinlogRestores(sink, "faults", keys);
      }
    }
  }
}
