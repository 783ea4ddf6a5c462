package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.s3.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.S3Object;

@DisplayName("The runner's rewrap command")
class RewrapCliTest {
  @TempDir Path tmp;
  Path oldKey;
  Path newKey;

  static MainTest.Result run(String... args) {
    return MainTest.run(args);
  }

  @BeforeEach
  void keys() throws Exception {
    oldKey = writeKey("2025-01.key", 11);
    newKey = writeKey("2026-11.key", 12);
  }

  Path writeKey(String name, int seed) throws Exception {
    byte[] k = new byte[32];
    new Random(seed).nextBytes(k);
    return Files.write(tmp.resolve(name), k);
  }

  @Nested
  @DisplayName("on a file:// archive of the bundled sample")
  class OnFiles {
    String uri;
    Path archive;

    @BeforeEach
    void archiveUnderOldKey() {
      archive = tmp.resolve("archive");
      uri = "file://" + archive;
      MainTest.Result a = run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", uri, "--encrypt-key-file",
          oldKey.toString());
      assertThat(a.code()).as(a.err()).isZero();
    }

    Map<String, Long> files() throws Exception {
      Map<String, Long> out = new TreeMap<>();
      try (Stream<Path> s = Files.walk(archive.resolve("default"))) {
        for (Path p : s.filter(Files::isRegularFile).toList()) {
          out.put(archive.relativize(p).toString(), Files.getLastModifiedTime(p).toMillis());
        }
      }
      return out;
    }

    @Test
    @DisplayName("a dry run lists the moves and changes nothing; --apply moves every file, which then restores with the new key alone")
    void dryRunThenApply() throws Exception {
      Map<String, Long> before = files();
      MainTest.Result dry = run("rewrap", "--from", uri, "--key-file", oldKey.toString(), "--to-key-file",
          newKey.toString());
      assertThat(dry.code()).as(dry.err()).isZero();
      assertThat(dry.out()).contains("dry run (add --apply to rewrap)", "from key id '2025-01' to '2026-11': 4",
          "would move default/t0001/binlog/mysql-bin.000001.zst.aes -> mysql-bin.000001.k1.zst.aes");
      assertThat(files()).isEqualTo(before);

      MainTest.Result applied = run("rewrap", "--from", uri, "--key-file", oldKey.toString(), "--to-key-file",
          newKey.toString(), "--apply");
      assertThat(applied.code()).as(applied.err()).isZero();
      assertThat(applied.err()).contains("rewrapped mysql-bin.000001  2025-01 -> 2026-11  mysql-bin.000001.k1.zst.aes",
          "rewrapped mysql-bin.000004");
      assertThat(applied.out()).contains("rewrapped " + uri + " from key id '2025-01' to '2026-11': 4 artifact(s)");
      assertThat(files().keySet()).hasSize(8).allMatch(k -> k.endsWith(".json") || k.endsWith(".k1.zst.aes"));

      MainTest.Result verify = run("verify", "--from", uri, "--full", "--all", "--key-file", newKey.toString());
      assertThat(verify.code()).as(verify.out() + verify.err()).isZero();
      assertThat(verify.out()).contains("4 file(s) checked").doesNotContain("PROBLEM", "note");
      Path dir = tmp.resolve("restore");
      MainTest.Result fetch = run("restore", "fetch", "--from", uri, "--start", "mysql-bin.000001:4", "--to-dir",
          dir.toString(), "--key-file", newKey.toString());
      assertThat(fetch.code()).as(fetch.err()).isZero();
      for (int i = 1; i <= 4; i++) {
        String name = "mysql-bin.00000" + i;
        assertThat(Files.readAllBytes(dir.resolve(name))).as(name)
            .isEqualTo(Files.readAllBytes(MainTest.SAMPLE.resolve(name)));
      }
      MainTest.Result again = run("rewrap", "--from", uri, "--key-file", oldKey.toString(), "--to-key-file",
          newKey.toString(), "--apply");
      assertThat(again.code()).isZero();
      assertThat(again.out()).contains(": 0 artifact(s); 4 already under '2026-11'");
    }

    @Test
    @DisplayName("exits 2 without the new key, with the old key's id, or with an unknown option")
    void badUsage() {
      MainTest.Result noNew = run("rewrap", "--from", uri, "--key-file", oldKey.toString());
      assertThat(noNew.code()).isEqualTo(2);
      assertThat(noNew.err()).startsWith("binlog-archive: rewrap needs the new key");
      MainTest.Result noOld = run("rewrap", "--from", uri, "--to-key-file", newKey.toString());
      assertThat(noOld.code()).isEqualTo(2);
      assertThat(noOld.err()).startsWith("binlog-archive: rewrap needs the old key");
      MainTest.Result same = run("rewrap", "--from", uri, "--key-file", oldKey.toString(), "--to-key-file",
          newKey.toString(), "--to-key-id", "2025-01");
      assertThat(same.code()).isEqualTo(2);
      assertThat(same.err()).contains("same key id as the old one ('2025-01')");
      assertThat(run("rewrap", "--from", uri, "--key-file", oldKey.toString(), "--to-key-file", newKey.toString(),
          "--bogus").code()).isEqualTo(2);
    }
  }

  @Nested
  @DisplayName("on an s3:// archive (embedded s3proxy)")
  class OnS3 {
    @Test
    @DisplayName("moves every file with conditional S3 writes and verify --full passes with the new key alone")
    void s3() {
      String bucket = S3.newBucket();
      String uri = "s3://" + bucket + "/backups";
      String endpoint = S3.endpoint().toString();
      MainTest.Result a = run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", uri, "--endpoint", endpoint,
          "--cursor", tmp.resolve("cursor.json").toString(), "--encrypt-key-file", oldKey.toString());
      assertThat(a.code()).as(a.err()).isZero();
      MainTest.Result r = run("rewrap", "--from", uri, "--endpoint", endpoint, "--key-file", oldKey.toString(),
          "--to-key-file", newKey.toString(), "--apply");
      assertThat(r.code()).as(r.out() + r.err()).isZero();
      assertThat(r.out()).contains("4 artifact(s)");
      List<String> keys = S3.admin().listObjectsV2(x -> x.bucket(bucket)).contents().stream().map(S3Object::key)
          .toList();
      assertThat(keys).hasSize(8).allMatch(k -> k.endsWith(".json") || k.endsWith(".k1.zst.aes"));
      MainTest.Result v = run("verify", "--from", uri, "--endpoint", endpoint, "--full", "--all", "--state",
          tmp.resolve("verify.json").toString(), "--key-file", newKey.toString());
      assertThat(v.code()).as(v.out() + v.err()).isZero();
      assertThat(v.out()).contains("4 file(s) checked").doesNotContain("PROBLEM");
    }
  }

  @RegisterExtension static final S3ProxyServer S3 = new S3ProxyServer();
  static final List<String> PROPERTIES = List.of("aws.accessKeyId", "aws.secretAccessKey");

  @BeforeAll
  static void credentials() {
    System.setProperty("aws.accessKeyId", S3ProxyServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", S3ProxyServer.SECRET_KEY);
  }

  @AfterAll
  static void clear() {
    PROPERTIES.forEach(System::clearProperty);
  }
}
