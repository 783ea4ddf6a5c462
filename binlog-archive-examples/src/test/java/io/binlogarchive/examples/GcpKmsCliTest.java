package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.binlogarchive.gcs.KmsTestServerAccess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --gcp-kms-key}: client-side envelope encryption under a Cloud KMS key, against the gcs
 * module's local KMS test double (which accepts one bearer token: given to the runner through
 * {@code GOOGLE_OAUTH_ACCESS_TOKEN}), archiving to a local file archive and reading it back.
 */
@DisplayName("The runner with --gcp-kms-key")
class GcpKmsCliTest {
  static final String KEY = "projects/p/locations/europe-west1/keyRings/backups/cryptoKeys/binlogs";
  static final Map<String, String> TOKEN_ENV = Map.of("GOOGLE_OAUTH_ACCESS_TOKEN", KmsTestServerAccess.TOKEN);
  static KmsTestServerAccess kms;

  @TempDir Path tmp;

  @BeforeAll
  static void start() throws Exception {
    kms = KmsTestServerAccess.start();
    kms.createKey(KEY);
  }

  @AfterAll
  static void stop() {
    kms.close();
  }

  static MainTest.Result run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env::get).run(args);
    return new MainTest.Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("archive encrypts each file under a KMS-wrapped data key; restore fetch with the same key gives the binlogs back byte for byte")
  void archiveAndRestore() throws Exception {
    String uri = "file://" + tmp.resolve("archive");
    int encryptsBefore = kms.encrypts();

    MainTest.Result a = run(TOKEN_ENV, "archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", uri,
        "--gcp-kms-key", KEY, "--gcp-kms-endpoint", kms.endpoint());

    assertThat(a.code()).as(a.err()).isZero();
    assertThat(a.err()).contains("4 archived");
    assertThat(kms.encrypts() - encryptsBefore).as("one wrapped data key per file").isEqualTo(4);
    List<Path> sidecars;
    try (Stream<Path> s = Files.walk(tmp.resolve("archive/default"))) {
      sidecars = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertThat(sidecars).hasSize(4).allSatisfy(p -> {
      JsonNode artifact = new ObjectMapper().readTree(p.toFile()).path("artifact");
      assertThat(artifact.path("key_id").asText()).isEqualTo(KEY);
      assertThat(artifact.path("key").asText()).endsWith(".zst.aes");
    });

    Path dir = tmp.resolve("restore");
    int decryptsBefore = kms.decrypts();
    MainTest.Result fetch = run(TOKEN_ENV, "restore", "fetch", "--from", uri, "--start", "mysql-bin.000001:4",
        "--to-dir", dir.toString(), "--gcp-kms-key", KEY, "--gcp-kms-endpoint", kms.endpoint());

    assertThat(fetch.code()).as(fetch.err()).isZero();
    assertThat(kms.decrypts() - decryptsBefore).isEqualTo(4);
    for (int i = 1; i <= 4; i++) {
      String name = String.format("mysql-bin.%06d", i);
      assertThat(Files.readAllBytes(dir.resolve(name))).as(name).isEqualTo(Files.readAllBytes(MainTest.SAMPLE.resolve(name)));
    }

    MainTest.Result verify = run(TOKEN_ENV, "verify", "--from", uri, "--full", "--gcp-kms-key", KEY,
        "--gcp-kms-endpoint", kms.endpoint());
    assertThat(verify.code()).as(verify.out() + verify.err()).isZero();
    assertThat(verify.out()).contains("4 file(s) checked");

    MainTest.Result noKey = run(Map.of(), "restore", "fetch", "--from", uri, "--start", "mysql-bin.000001:4",
        "--to-dir", tmp.resolve("r2").toString());
    assertThat(noKey.code()).isEqualTo(1);
    assertThat(noKey.err()).contains("is encrypted");
  }

  @Test
  @DisplayName("without the token the KMS refuses (401): exit 1 with one line, nothing archived")
  void refused() {
    String uri = "file://" + tmp.resolve("archive");

    MainTest.Result a = run(Map.of(), "archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", uri,
        "--gcp-kms-key", KEY, "--gcp-kms-endpoint", kms.endpoint());

    assertThat(a.code()).isEqualTo(1);
    assertThat(a.err()).contains("0 archived").contains("401");
    assertThat(a.err().lines().filter(l -> l.contains("401")).count()).isEqualTo(1);
  }

  @Test
  @DisplayName("a bad key name, a key file beside it, or an endpoint without a key is bad usage (exit 2)")
  void usage() {
    String uri = "file://" + tmp.resolve("archive");
    String sample = MainTest.SAMPLE.toString();

    MainTest.Result badName = run(TOKEN_ENV, "archive", "--binlog-dir", sample, "--to", uri, "--gcp-kms-key",
        "binlogs");
    assertThat(badName.code()).isEqualTo(2);
    assertThat(badName.err()).startsWith("binlog-archive: not a Cloud KMS CryptoKey name");
    MainTest.Result both = run(TOKEN_ENV, "archive", "--binlog-dir", sample, "--to", uri, "--gcp-kms-key", KEY,
        "--encrypt-key-file", "k.key");
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).startsWith("binlog-archive: --encrypt-key-file and --gcp-kms-key exclude each other");
    MainTest.Result endpointOnly = run(TOKEN_ENV, "restore", "plan", "--from", uri, "--start", "mysql-bin.000001:4",
        "--gcp-kms-endpoint", kms.endpoint());
    assertThat(endpointOnly.code()).isEqualTo(2);
    assertThat(endpointOnly.err()).startsWith("binlog-archive: --gcp-kms-endpoint goes with --gcp-kms-key");
  }
}
