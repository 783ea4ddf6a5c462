package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.NoCredentials;
import com.google.cloud.storage.Blob;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.gcs.GcsJsonApiTestServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command-line runner with {@code gs://} targets, run in-process against {@link
 * GcsJsonApiTestServer} (a local test double of the GCS JSON API, from the gcs module's test-jar;
 * no GCS and no credentials are involved: {@code --endpoint} makes the runner's client talk to it
 * without credentials).
 */
@DisplayName("binlog-archive archive/status with gs:// targets")
class GcsCliTest {
  static final String KMS_KEY = "projects/p/locations/europe-west1/keyRings/backups/cryptoKeys/binlogs";
  static GcsJsonApiTestServer gcs;
  static Storage storage;

  @TempDir Path tmp;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeAll
  static void start() throws Exception {
    gcs = GcsJsonApiTestServer.start();
    storage =
        StorageOptions.http()
            .setHost(gcs.endpoint())
            .setProjectId("test")
            .setCredentials(NoCredentials.getInstance())
            .build()
            .getService();
  }

  @AfterAll
  static void stop() throws Exception {
    storage.close();
    gcs.close();
  }

  int run(String... args) {
    out.reset();
    err.reset();
    return new Main(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
        .run(args);
  }

  String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  List<Blob> objects(String bucket, String prefix) {
    List<Blob> blobs = new ArrayList<>();
    storage.list(bucket, Storage.BlobListOption.prefix(prefix)).iterateAll().forEach(blobs::add);
    return blobs;
  }

  String[] archiveArgs(Path binlogs, String bucket) {
    return new String[] {
      "archive", "--binlog-dir", binlogs.toString(), "--to", "gs://" + bucket + "/prod/mysql",
      "--endpoint", gcs.endpoint(), "--kms-key-name", KMS_KEY, "--cursor", tmp.resolve("cursor.json").toString(),
      "--server-id", "db1"
    };
  }

  @Test
  @DisplayName("archive stores every closed binlog with its sidecar under CMEK, and status lists them")
  void archiveThenStatus() throws Exception {
    gcs.createBucket("cli-archive");
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 5);

    int code = run(archiveArgs(binlogs, "cli-archive"));

    assertThat(code).as(err()).isZero();
    assertThat(err())
        .contains("archived mysql-bin.000001", "archived mysql-bin.000004")
        .doesNotContain("mysql-bin.000005")
        .contains("4 archived")
        .contains("cursor t0001/mysql-bin.000004");
    List<Blob> blobs = objects("cli-archive", "prod/mysql/db1/t0001/binlog/");
    assertThat(blobs).extracting(Blob::getName).containsExactlyInAnyOrder(
        "prod/mysql/db1/t0001/binlog/mysql-bin.000001.zst", "prod/mysql/db1/t0001/binlog/mysql-bin.000001.json",
        "prod/mysql/db1/t0001/binlog/mysql-bin.000002.zst", "prod/mysql/db1/t0001/binlog/mysql-bin.000002.json",
        "prod/mysql/db1/t0001/binlog/mysql-bin.000003.zst", "prod/mysql/db1/t0001/binlog/mysql-bin.000003.json",
        "prod/mysql/db1/t0001/binlog/mysql-bin.000004.zst", "prod/mysql/db1/t0001/binlog/mysql-bin.000004.json");
    assertThat(blobs).allSatisfy(b ->
        assertThat(b.getKmsKeyName()).as("CMEK of %s", b.getName()).startsWith(KMS_KEY + "/cryptoKeyVersions/"));

    code = run("status", "--from", "gs://cli-archive/prod/mysql", "--endpoint", gcs.endpoint());

    assertThat(code).as(err()).isZero();
    assertThat(out())
        .contains("server db1 timeline t0001: 4 file(s)")
        .contains("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003", "mysql-bin.000004")
        .doesNotContain("mysql-bin.000005");
  }

  @Test
  @DisplayName("a second archive run with the same cursor uploads nothing and succeeds")
  void rerunIsIdempotent() throws Exception {
    gcs.createBucket("cli-rerun");
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    assertThat(run(archiveArgs(binlogs, "cli-rerun"))).as(err()).isZero();
    List<String> before = objects("cli-rerun", "").stream().map(b -> b.getName() + "@" + b.getGeneration()).toList();

    int code = run(archiveArgs(binlogs, "cli-rerun"));

    assertThat(code).as(err()).isZero();
    assertThat(err()).contains("0 archived");
    assertThat(objects("cli-rerun", "").stream().map(b -> b.getName() + "@" + b.getGeneration()).toList())
        .as("no object rewritten").containsExactlyInAnyOrderElementsOf(before);
  }

  @Test
  @DisplayName("status of an empty prefix says there is no archive")
  void statusOfEmptyPrefix() {
    gcs.createBucket("cli-empty");

    int code = run("status", "--from", "gs://cli-empty/nothing", "--endpoint", gcs.endpoint());

    assertThat(code).as(err()).isZero();
    assertThat(out()).contains("no archive under gs://cli-empty/nothing");
  }

  @Test
  @DisplayName("archiving to a bucket that does not exist fails with exit code 1, naming the bucket")
  void missingBucket() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 2);

    int code = run(archiveArgs(binlogs, "cli-no-such-bucket"));

    assertThat(code).isEqualTo(1);
    assertThat(err()).contains("cli-no-such-bucket").contains("does not exist");
  }
}
