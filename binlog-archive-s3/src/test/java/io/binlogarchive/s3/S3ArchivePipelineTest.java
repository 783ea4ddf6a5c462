package io.binlogarchive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.FileResult;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.store.Sink;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.StoreTests;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.s3.FaultProxy.Fault;
import io.binlogarchive.s3.FaultProxy.Plan;
import io.binlogarchive.s3.FaultProxy.Request;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The whole archive pipeline from a real, running MariaDB 10.11 server ({@link MariaDbServer}: a
 * throwaway {@code mariadbd}, loaded and rotated with {@code FLUSH BINARY LOGS}) to {@link S3Sink}
 * on embedded s3proxy, then every artifact read back the way a restore does (catalog sidecars,
 * {@code Sink.open}, decrypt, decompress) and compared byte for byte with the server's binlogs.
 * Encryption runs with a static key and with {@link AwsKmsKeyProvider} against {@link
 * KmsTestServer}, a local stand-in that speaks the KMS JSON protocol (no AWS KMS can run here).
 */
@MariaDbTest
@DisplayName("The archive pipeline from a running MariaDB server to S3Sink on s3proxy")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3ArchivePipelineTest {
  @RegisterExtension static final S3ProxyServer s3 = new S3ProxyServer();

  private static final String SERVER_ID = "db1";
  private static final String PREFIX = "prod/mysql";
  private static final String KMS_ARN = "arn:aws:kms:us-east-1:111122223333:key/1a2b3c4d-0000-4000-8000-00000000e2e0";

  @TempDir Path work;
  MariaDbServer server;
  List<String> closed;
  ExecutorService parts;
  S3Client client;
  KmsTestServer kms;
  KmsClient kmsClient;

  @BeforeAll
  void start(@TempDir Path serverDir) throws Exception {
    server = MariaDbServer.start(serverDir.resolve("mariadb"));
    // several closed binlogs: the fault test aims at the first three
    for (int i = 0; i < 4; i++) {
      server.load("shop", 3000, i); // rotates by size too (max_binlog_size=1M)
      server.flushLogs();
    }
    List<String> logs = server.binaryLogs();
    closed = logs.subList(0, logs.size() - 1);
    assertThat(closed).as("rotated several times").hasSizeGreaterThanOrEqualTo(4);
    parts = Executors.newFixedThreadPool(4);
    client = S3ProxyServer.client(s3.endpoint(), Duration.ofSeconds(60));
    kms = new KmsTestServer();
    kms.createKey(KMS_ARN, "alias/binlog-archive-e2e");
    kmsClient = kms.client();
  }

  @AfterAll
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    parts.shutdownNow();
    client.close();
    kmsClient.close();
    kms.close();
  }

  S3Sink sink(S3Client via, String bucket, RetryPolicy retry) {
    return S3Sink.builder()
        .client(via)
        .bucket(bucket)
        .executor(parts)
        .partSize(S3Sink.MIN_PART_SIZE)
        .singlePutThreshold(64 * 1024) // artifacts go multipart, sidecars in one PUT
        .retryPolicy(retry)
        .build();
  }

  KeyProvider keys(String kind) {
    return switch (kind) {
      case "zstd+aes-static" -> {
        byte[] key = new byte[32];
        new Random(7).nextBytes(key);
        yield StaticKeyProvider.builder().key("static-1", key).build();
      }
      case "zstd+aes-kms" -> AwsKmsKeyProvider.builder().client(kmsClient).keyId("alias/binlog-archive-e2e").build();
      default -> null;
    };
  }

  RunSummary archive(Sink sink, KeyProvider keys, RetryPolicy retry, String cursor) throws Exception {
    Archiver.Builder b =
        Archiver.builder()
            .source(BinlogSource.indexFile(server.indexFile()))
            .sink(sink)
            .prefix(PREFIX)
            .serverId(SERVER_ID)
            .compression(Transform.zstd(3))
            .cursorFile(work.resolve(cursor))
            .retryPolicy(retry)
            .parallelism(2);
    if (keys != null) {
      b.encryption(Transform.aesGcm(keys));
    }
    try (Archiver archiver = b.build()) {
      return archiver.runOnce();
    }
  }

  /** Reads every artifact back through the catalog and compares it with the server's file. */
  void assertRestoresByteForByte(Sink sink, KeyProvider keys) throws Exception {
    ArchiveCatalog catalog = ArchiveCatalog.of(sink, PREFIX, SERVER_ID);
    assertThat(ArchiveCatalog.serverIds(sink, PREFIX)).containsExactly(SERVER_ID);
    assertThat(catalog.timelines()).containsExactly("t0001");
    List<Sidecar> sidecars = catalog.sidecars("t0001");
    assertThat(sidecars).extracting(Sidecar::file).containsExactlyElementsOf(closed);
    for (Sidecar s : sidecars) {
      assertThat(s.artifact().codec()).isEqualTo("zstd");
      InputStream in = sink.open(s.artifact().key());
      if (keys != null) {
        assertThat(s.artifact().cipher()).isNotNull();
        in = Transform.aesGcm(keys).unwrap(in);
      } else {
        assertThat(s.artifact().cipher()).isNull();
      }
      byte[] restored;
      try (InputStream plain = Transform.zstd(3).unwrap(in)) {
        restored = plain.readAllBytes();
      }
      assertThat(restored).as("%s restored from %s", s.file(), s.artifact().key())
          .isEqualTo(Files.readAllBytes(server.dataDir().resolve(s.file())));
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"zstd", "zstd+aes-static", "zstd+aes-kms"})
  @DisplayName("archives every closed binlog, and each one reads back through its sidecar byte for byte")
  void archivesAndRestores(String kind) throws Exception {
    String bucket = s3.newBucket();
    S3Sink sink = sink(client, bucket, RetryPolicy.none());
    KeyProvider keys = keys(kind);

    RunSummary run = archive(sink, keys, RetryPolicy.none(), kind + ".cursor.json");

    assertThat(run.failure()).isNull();
    assertThat(run.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(closed);
    assertThat(run.results()).extracting(FileResult::status).containsOnly(FileResult.Status.ARCHIVED);
    int callsBefore = kms.calls().size();
    assertRestoresByteForByte(sink, keys);
    if (kind.equals("zstd+aes-kms")) {
      // artifact headers carry the key ARN KMS reported, not the alias: Decrypt names that key
      assertThat(kms.calls().subList(callsBefore, kms.calls().size()))
          .hasSize(closed.size())
          .allSatisfy(c -> {
            assertThat(c.operation()).isEqualTo("Decrypt");
            assertThat(c.body().path("KeyId").asText()).isEqualTo(KMS_ARN);
          });
    }
    assertThat(s3.uploads(bucket)).isEmpty();
  }

  @Test
  @DisplayName("completes through injected 503s, 500s, resets and slow responses with no loss and no multipart upload left behind")
  void survivesStoreFaults() throws Exception {
    String bucket = s3.newBucket();
    RetryPolicy retry = StoreTests.noSleepRetries(10);
    Duration attemptTimeout = Duration.ofSeconds(2);
    KeyProvider keys = keys("zstd+aes-static");
    try (FaultProxy proxy = new FaultProxy(s3.endpoint(), 50, (int) attemptTimeout.toMillis() + 1000);
        S3Client faulty = S3ProxyServer.client(proxy.endpoint(), attemptTimeout)) {
      Plan anyCall =
          Plan.seeded(20261123L, 0.2, r -> !r.isCreateMultipart(),
              Fault.SLOW_DOWN, Fault.INTERNAL_ERROR, Fault.RESET_BEFORE, Fault.RESET_AFTER, Fault.DELAY);
      // a lost CreateMultipartUpload response would orphan an upload (see the README): only faults
      // the store never saw are injected there
      Plan creates = Plan.seeded(11L, 0.3, Request::isCreateMultipart, Fault.SLOW_DOWN, Fault.RESET_BEFORE);
      // every kind at least once, on first attempts of chosen calls; the seeded share on top
      Map<Predicate<Request>, Fault> chosen = Map.of(
          r -> r.isPutObject() && r.target().contains(closed.get(0) + ".json"), Fault.SLOW_DOWN,
          r -> r.isCompleteMultipart() && r.target().contains(closed.get(0) + "."), Fault.INTERNAL_ERROR,
          r -> r.isUploadPart() && r.target().contains(closed.get(0) + "."), Fault.DELAY,
          r -> r.isUploadPart() && r.target().contains(closed.get(1) + "."), Fault.STALL, // past the attempt timeout
          r -> r.isPutObject() && r.target().contains(closed.get(1) + ".json"), Fault.RESET_AFTER, // a lost response
          r -> r.isUploadPart() && r.target().contains(closed.get(2) + "."), Fault.RESET_BEFORE);
      proxy.plan(
          r -> {
            if (r.attempt() == 1) {
              for (Map.Entry<Predicate<Request>, Fault> e : chosen.entrySet()) {
                if (e.getKey().test(r)) {
                  return e.getValue();
                }
              }
            }
            Fault f = creates.choose(r);
            return f != Fault.NONE ? f : anyCall.choose(r);
          });

      RunSummary run = archive(sink(faulty, bucket, retry), keys, retry, "faults.cursor.json");

      assertThat(run.failure()).isNull();
      assertThat(run.results()).extracting(FileResult::status).containsOnly(FileResult.Status.ARCHIVED);
      assertThat(run.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(closed);
      for (Fault f : List.of(Fault.SLOW_DOWN, Fault.INTERNAL_ERROR, Fault.RESET_BEFORE, Fault.RESET_AFTER, Fault.DELAY, Fault.STALL)) {
        assertThat(proxy.injected(f)).as("injected %s", f).isPositive();
      }
    }
    // read back directly from the store, not through the faults
    assertRestoresByteForByte(sink(client, bucket, RetryPolicy.none()), keys);
    assertThat(s3.uploads(bucket)).isEmpty();
    assertThat(s3.admin().listObjectsV2(r -> r.bucket(bucket)).contents())
        .as("one artifact and one sidecar per binlog, nothing else")
        .hasSize(2 * closed.size());
  }

  @Test
  @DisplayName("a second run finds everything archived and writes nothing")
  void rerunIsIdempotent() throws Exception {
    String bucket = s3.newBucket();
    S3Sink sink = sink(client, bucket, RetryPolicy.none());
    assertThat(archive(sink, null, RetryPolicy.none(), "rerun-1.cursor.json").failure()).isNull();
    Map<String, Long> before = objects(bucket);

    RunSummary again = archive(sink, null, RetryPolicy.none(), "rerun-2.cursor.json");

    assertThat(again.failure()).isNull();
    assertThat(again.results()).extracting(FileResult::status).containsOnly(FileResult.Status.ALREADY_ARCHIVED);
    assertThat(objects(bucket)).isEqualTo(before);
  }

  private Map<String, Long> objects(String bucket) {
    Map<String, Long> out = new java.util.TreeMap<>();
    s3.admin().listObjectsV2(r -> r.bucket(bucket)).contents().forEach(o -> out.put(o.key(), o.lastModified().toEpochMilli()));
    return out;
  }
}
