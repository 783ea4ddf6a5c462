package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.store.Sink;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plain-http endpoints on the network are refused before any connection: {@value #REMOTE} is an
 * address nothing here listens on, and no command below gets as far as sending a request to it
 * (a refused command fails at once, one that is allowed stops before the store or KMS is called).
 */
@DisplayName("The runner and plain http endpoints")
class InsecureEndpointCliTest {
  static final String REMOTE = "http://10.1.2.3:9000";
  static final String KEY = "projects/p/locations/l/keyRings/r/cryptoKeys/k";
  static final Map<String, String> TOKEN_ENV = Map.of(Keys.ACCESS_TOKEN_ENV, "a-bearer-token");

  @TempDir Path tmp;

  static MainTest.Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), TOKEN_ENV::get).run(args);
    return new MainTest.Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static void assertRefused(MainTest.Result r) {
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).startsWith("binlog-archive: ")
        .contains("refusing the plain http endpoint " + REMOTE, "--allow-insecure-endpoint")
        .doesNotContain("a-bearer-token");
  }

  static StoreSettings args(String endpoint, boolean allowInsecureEndpoint) {
    return new StoreSettings(endpoint, null, allowInsecureEndpoint, null, null);
  }

  @Test
  @DisplayName("refuses a remote http --endpoint for s3:// and gs://, --gcp-kms-endpoint and --to-gcp-kms-endpoint")
  void refused() throws Exception {
    assertRefused(run("status", "--from", "s3://bucket/p", "--endpoint", REMOTE, "--region", "us-east-1"));
    assertRefused(run("status", "--from", "gs://bucket/p", "--endpoint", REMOTE));
    String archive = "file://" + tmp.resolve("archive");
    assertRefused(run("verify", "--from", archive, "--gcp-kms-key", KEY, "--gcp-kms-endpoint", REMOTE));
    Path oldKey = Files.write(tmp.resolve("old.key"), new byte[32]);
    assertRefused(run("rewrap", "--from", archive, "--key-file", oldKey.toString(), "--to-gcp-kms-key", KEY,
        "--to-gcp-kms-endpoint", REMOTE));
  }

  @Test
  @DisplayName("refuses a remote http KMS endpoint from the AWS SDK's settings (AWS_ENDPOINT_URL_KMS, aws.endpointUrlKms)")
  void refusedAwsKmsEndpointFromEnvironment() {
    System.setProperty("aws.endpointUrlKms", REMOTE);
    try {
      assertRefused(run("verify", "--from", "file://" + tmp.resolve("archive"), "--kms-key-id", "alias/k",
          "--region", "us-east-1"));
      StoreSettings allowed = new StoreSettings(null, "us-east-1", true, null, null);
      try (S3Sinks.Kms kms = S3Sinks.kms("alias/k", allowed)) {
        assertThat(kms.keys().primaryKeyId()).isEqualTo("alias/k");
      }
    } finally {
      System.clearProperty("aws.endpointUrlKms");
    }
  }

  @Test
  @DisplayName("refuses a remote http AWS_ENDPOINT_URL_KMS set in the environment of a runner process")
  void refusedAwsKmsEndpointFromEnvironmentVariable() throws Exception {
    Process p = ChildJvm.builder(Map.of("AWS_ENDPOINT_URL_KMS", REMOTE), "verify", "--from",
        "file://" + tmp.resolve("archive"), "--kms-key-id", "alias/k", "--region", "us-east-1")
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(output).isEqualTo(1);
    assertThat(output).contains("refusing the plain http endpoint " + REMOTE, "the KMS client",
        "--allow-insecure-endpoint");
  }

  @Test
  @DisplayName("accepts a remote http endpoint with --allow-insecure-endpoint, and a loopback one without")
  void allowed() throws Exception {
    try (Sink s = S3Sinks.open("bucket", args(REMOTE, true))) {
      assertThat(s.describe()).isEqualTo("s3://bucket/");
    }
    try (Sink s = S3Sinks.open("bucket", args("http://127.0.0.1:9000", false))) {
      assertThat(s.describe()).isEqualTo("s3://bucket/");
    }
    assertThat(CloudSinks.open("gs", "bucket", args(REMOTE, true)).describe())
        .isEqualTo("gs://bucket/");
    assertThat(Keys.gcpKms(KEY, REMOTE, true, TOKEN_ENV::get).primaryKeyId()).isEqualTo(KEY);
    assertThat(Keys.gcpKms(KEY, "http://localhost:9000", false, TOKEN_ENV::get).primaryKeyId()).isEqualTo(KEY);
    // the whole command line: the flag passes the check; planning reads no key and no store
    MainTest.Result plan = run("restore", "plan", "--from", "file://" + tmp.resolve("archive"), "--start",
        "mysql-bin.000001:4", "--gcp-kms-key", KEY, "--gcp-kms-endpoint", REMOTE, "--allow-insecure-endpoint");
    assertThat(plan.err()).doesNotContain("refusing", "unknown option");
  }
}
