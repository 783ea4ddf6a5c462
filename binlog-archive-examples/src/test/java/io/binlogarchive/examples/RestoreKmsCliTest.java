package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.s3.KmsTestServer;
import io.binlogarchive.s3.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read side of an archive encrypted with {@code archive --kms-key-id}: s3proxy holds the
 * archive, {@link KmsTestServer} stands in for AWS KMS (reached through the SDK's {@code
 * aws.endpointUrlKms} setting, as in {@link S3CliTest}).
 */
@DisplayName("restore and verify of an archive encrypted under an AWS KMS key")
class RestoreKmsCliTest {
  @RegisterExtension static final S3ProxyServer s3 = new S3ProxyServer();

  @TempDir Path tmp;
  String uri;

  /** The same credentials and KMS stand-in ({@code alias/cli}) as {@link S3CliTest}. */
  @BeforeAll
  static void credentials() throws Exception {
    S3CliTest.credentials();
  }

  @AfterAll
  static void clear() {
    S3CliTest.clear();
  }

  @BeforeEach
  void archiveSampleUnderKms() {
    uri = "s3://" + s3.newBucket() + "/backups/mysql";
    MainTest.Result a = run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", uri,
        "--cursor", tmp.resolve("cursor.json").toString(), "--kms-key-id", "alias/cli");
    assertThat(a.code()).as(a.err()).isZero();
    MainTest.Result b = run("backup", "register", "--from", uri, "--name", "b0", "--file", "mysql-bin.000001",
        "--position", "4");
    assertThat(b.code()).as(b.err()).isZero();
  }

  MainTest.Result run(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--endpoint", s3.endpoint().toString(), "--region", "us-east-1"));
    return MainTest.run(all.toArray(String[]::new));
  }

  @Test
  @DisplayName("restore fetch --kms-key-id writes every archived binlog byte for byte, with one DescribeKey of the alias and a KMS Decrypt per file")
  void fetch() throws IOException {
    int before = S3CliTest.kms.calls().size();
    Path dir = tmp.resolve("restore");
    MainTest.Result f = run("restore", "fetch", "--from", uri, "--backup", "b0", "--to-dir", dir.toString(),
        "--kms-key-id", "alias/cli");
    assertThat(f.code()).as(f.err()).isZero();
    List<String> names = List.of("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003", "mysql-bin.000004");
    for (String name : names) {
      assertThat(Files.readAllBytes(dir.resolve(name))).as(name)
          .isEqualTo(Files.readAllBytes(MainTest.SAMPLE.resolve(name)));
    }
    // the alias is looked up once (the provider unwraps only under its own key's ARN), then one Decrypt per file
    List<KmsTestServer.Call> calls = S3CliTest.kms.calls().subList(before, S3CliTest.kms.calls().size());
    assertThat(calls).extracting(KmsTestServer.Call::operation)
        .containsExactly("DescribeKey", "Decrypt", "Decrypt", "Decrypt", "Decrypt");
    assertThat(calls.get(0).body().path("KeyId").asText()).isEqualTo("alias/cli");
  }

  @Test
  @DisplayName("verify --full --kms-key-id decodes every artifact against its plaintext SHA-256")
  void verifyFull() {
    MainTest.Result v = run("verify", "--from", uri, "--full", "--kms-key-id", "alias/cli",
        "--state", tmp.resolve("verify.json").toString());
    assertThat(v.code()).as(v.out() + v.err()).isZero();
    assertThat(v.out()).contains("full: downloaded, decoded, SHA-256", "4 file(s) checked",
        "window  t0001 mysql-bin.000001..mysql-bin.000004");
  }

  @Test
  @DisplayName("--kms-key-id with another key option is a usage error")
  void excludesOtherKeys() {
    MainTest.Result r = run("verify", "--from", uri, "--kms-key-id", "alias/cli", "--key-file",
        tmp.resolve("k").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("binlog-archive: --kms-key-id excludes --key-file");
  }
}
