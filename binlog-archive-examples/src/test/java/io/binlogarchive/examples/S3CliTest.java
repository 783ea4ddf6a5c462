package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.s3.FaultProxy;
import io.binlogarchive.s3.FaultProxy.Exchange;
import io.binlogarchive.s3.FaultProxy.Request;
import io.binlogarchive.s3.KmsTestServer;
import io.binlogarchive.s3.S3ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The runner's {@code s3://} targets against embedded s3proxy, in process. The S3 client comes from
 * the SDK's default credentials chain, fed here through the {@code aws.accessKeyId} / {@code
 * aws.secretAccessKey} system properties (the chain's first source) with the server's test keys;
 * requests pass through a {@link FaultProxy} that injects nothing and records every request's
 * headers. {@code --kms-key-id} runs against {@link KmsTestServer}, a local stand-in for the KMS
 * JSON protocol reached through the SDK's {@code aws.endpointUrlKms} setting (no AWS KMS runs here).
 */
@DisplayName("The command-line runner with s3:// targets")
class S3CliTest {
  @RegisterExtension static final S3ProxyServer s3 = new S3ProxyServer();
  static final String SSE_KEY = "arn:aws:kms:us-east-1:111122223333:key/5e5e5e5e-0000-4000-8000-000000000001";
  static final String KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/c1c1c1c1-0000-4000-8000-000000000002";
  static final List<String> PROPERTIES = List.of("aws.accessKeyId", "aws.secretAccessKey", "aws.endpointUrlKms");

  static KmsTestServer kms;

  @TempDir Path tmp;
  FaultProxy proxy;
  Path binlogs;
  String bucket;

  record Result(int code, String out, String err) {}

  @BeforeAll
  static void credentials() throws Exception {
    kms = new KmsTestServer();
    kms.createKey(KMS_KEY, "alias/cli");
    System.setProperty("aws.accessKeyId", S3ProxyServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", S3ProxyServer.SECRET_KEY);
    System.setProperty("aws.endpointUrlKms", kms.endpoint().toString());
  }

  @AfterAll
  static void clear() {
    PROPERTIES.forEach(System::clearProperty);
    kms.close();
  }

  @BeforeEach
  void setUp() throws Exception {
    proxy = new FaultProxy(s3.endpoint(), 0, 0); // records, injects nothing
    binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    bucket = s3.newBucket();
  }

  @AfterEach
  void tearDown() throws Exception {
    proxy.close();
  }

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Main(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
        .run(args);
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  Result archive(String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("archive", "--to", "s3://" + bucket + "/backups/mysql",
        "--endpoint", proxy.endpoint().toString(), "--binlog-dir", binlogs.toString(),
        "--cursor", tmp.resolve("cursor.json").toString()));
    args.addAll(List.of(extra));
    return run(args.toArray(String[]::new));
  }

  Result status() {
    return run("status", "--from", "s3://" + bucket + "/backups/mysql", "--endpoint", proxy.endpoint().toString());
  }

  static int archivedCount(Result r) {
    Matcher m = Pattern.compile("binlog-archive: (\\d+) archived").matcher(r.err());
    assertThat(m.find()).as(r.err()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  List<Map<String, String>> objectWrites() {
    return proxy.exchanges().stream()
        .filter(e -> e.request().isPutObject() || e.request().isCreateMultipart())
        .map(Exchange::headers)
        .toList();
  }

  @Test
  @DisplayName("archives a copy of the fixture chain to s3://bucket/prefix, a second run with the cursor uploads nothing, and status lists every file")
  void archiveThenStatus() {
    Result first = archive();
    assertThat(first.code()).as(first.err()).isZero();
    int archived = archivedCount(first);
    assertThat(archived).isGreaterThanOrEqualTo(12);
    assertThat(first.err()).contains("archived mysql-bin.000001", "archived mysql-bin.000012");
    List<String> keys = s3.admin().listObjectsV2(r -> r.bucket(bucket)).contents().stream().map(S3Object::key).toList();
    assertThat(keys).hasSize(2 * archived).allMatch(k -> k.startsWith("backups/mysql/default/t0001/binlog/mysql-bin."));
    assertThat(objectWrites()).isNotEmpty()
        .allSatisfy(h -> assertThat(h).doesNotContainKey("x-amz-server-side-encryption"));

    Result second = archive();
    assertThat(second.code()).as(second.err()).isZero();
    assertThat(second.err()).contains("binlog-archive: 0 archived", "cursor t0001/mysql-bin.0000" + archived);

    Result status = status();
    assertThat(status.code()).as(status.err()).isZero();
    assertThat(status.out()).contains("server default timeline t0001: " + archived + " file(s)", "mysql-bin.000001",
        "mysql-bin.000012");
    assertThat(s3.uploads(bucket)).isEmpty();
  }

  @Test
  @DisplayName("sends the SSE-KMS headers with the key id on every object write when --sse-kms-key-id is given")
  void sseKmsHeaders() {
    Result r = archive("--sse-kms-key-id", SSE_KEY);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(objectWrites()).hasSize(2 * archivedCount(r)).allSatisfy(h -> assertThat(h)
        .containsEntry("x-amz-server-side-encryption", "aws:kms")
        .containsEntry("x-amz-server-side-encryption-aws-kms-key-id", SSE_KEY));
  }

  @Test
  @DisplayName("encrypts client-side with a data key from KMS when --kms-key-id is given, and status shows the key")
  void clientSideKms() {
    int before = kms.calls().size();
    Result r = archive("--kms-key-id", "alias/cli");
    assertThat(r.code()).as(r.err()).isZero();
    int archived = archivedCount(r);
    assertThat(kms.calls().subList(before, kms.calls().size()))
        .hasSize(archived)
        .allSatisfy(c -> assertThat(c.operation()).isEqualTo("GenerateDataKey"));
    Result status = status();
    assertThat(status.out()).containsAnyOf("alias/cli", KMS_KEY);
    assertThat(proxy.count(Request::isPutObject)).isPositive();
  }

  @Test
  @DisplayName("reports an empty archive without error")
  void emptyStatus() {
    Result r = status();
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("no archive under s3://" + bucket + "/backups/mysql");
  }

  @Test
  @DisplayName("exits 2 on options that do not fit an s3:// target")
  void badUsage() {
    Result gcsKey = archive("--kms-key-name", "projects/p/locations/l/keyRings/r/cryptoKeys/k");
    assertThat(gcsKey.code()).isEqualTo(2);
    assertThat(gcsKey.err()).startsWith("binlog-archive: --kms-key-name is for gs:// targets");
    Result both = archive("--kms-key-id", KMS_KEY, "--encrypt-key-file", tmp.resolve("k").toString());
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).startsWith("binlog-archive: --kms-key-id excludes --encrypt-key-file");
    Result endpoint = archive("--endpoint", "localhost:9000");
    assertThat(endpoint.code()).isEqualTo(2);
    assertThat(endpoint.err()).contains("--endpoint must be an http(s) URL");
  }
}
