package io.binlogarchive.examples;

import io.binlogarchive.crypto.KeyProvider;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("The runner's restore, verify, prune and backup commands")
class RestoreCommandsTest {
  @TempDir Path tmp;
  String uri;
  Path key;

  static MainTest.Result run(String... args) {
    return MainTest.run(args);
  }

  @BeforeEach
  void archiveSampleEncrypted() throws Exception {
    uri = "file://" + tmp.resolve("archive");
    key = tmp.resolve("k1.key");
    byte[] k = new byte[32];
    new Random(7).nextBytes(k);
    Files.write(key, k);
    MainTest.Result a = run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", uri, "--encrypt-key-file",
        key.toString());
    assertThat(a.code()).as(a.err()).isZero();
    MainTest.Result b = run("backup", "register", "--from", uri, "--name", "b0", "--file", "mysql-bin.000001",
        "--position", "4", "--taken-at", "2020-01-01 00:00:00");
    assertThat(b.code()).as(b.err()).isZero();
    assertThat(b.out()).contains("registered base backup b0 at mysql-bin.000001:4");
  }

  @Test
  @DisplayName("plans and fetches (decrypting with --key-file) and prints the mariadb-binlog command; a re-fetch keeps the files")
  void planAndFetch() throws Exception {
    MainTest.Result plan = run("restore", "plan", "--from", uri, "--backup", "b0", "--until-position",
        "mysql-bin.000003:1000");
    assertThat(plan.code()).as(plan.err()).isZero();
    assertThat(plan.out()).contains("files: 3", "mysql-bin.000001 .. mysql-bin.000003", "--stop-position");
    Path dir = tmp.resolve("restore");
    MainTest.Result fetch = run("restore", "fetch", "--from", uri, "--backup", "b0", "--until-position",
        "mysql-bin.000003:1000", "--to-dir", dir.toString(), "--key-file", key.toString());
    assertThat(fetch.code()).as(fetch.err()).isZero();
    assertThat(fetch.err()).contains("fetched mysql-bin.000001", "SHA-256 verified");
    assertThat(fetch.out().strip()).isEqualTo("TZ=UTC mariadb-binlog --stop-position=1000 " + dir.resolve("mysql-bin.000001")
        + " " + dir.resolve("mysql-bin.000002") + " " + dir.resolve("mysql-bin.000003") + " | mariadb");
    assertThat(Files.readAllBytes(dir.resolve("mysql-bin.000002")))
        .isEqualTo(Files.readAllBytes(MainTest.SAMPLE.resolve("mysql-bin.000002")));
    MainTest.Result again = run("restore", "fetch", "--from", uri, "--backup", "b0", "--until-position",
        "mysql-bin.000003:1000", "--to-dir", dir.toString(), "--key-file", key.toString());
    assertThat(again.err()).contains("0 fetched, 3 kept");
  }

  @Test
  @DisplayName("without --backup or --start, plans from the newest base backup before the target and says so;"
      + " --until takes '2026-11-22 03:53:35' as well as ISO-8601")
  void planWithoutStart() {
    MainTest.Result spaced = run("restore", "plan", "--from", uri, "--until", "2026-11-22 03:53:35");
    assertThat(spaced.code()).as(spaced.err()).isZero();
    assertThat(spaced.out()).contains("start: t0001 mysql-bin.000001 position 4 (base backup b0)",
        "start chosen: base backup b0, the newest registered one before the target", "files: 3",
        "at or after 2026-11-22T03:53:36Z");
    MainTest.Result iso = run("restore", "plan", "--from", uri, "--until", "2026-11-22T03:53:35Z");
    assertThat(iso.out()).isEqualTo(spaced.out());
    MainTest.Result both = run("restore", "plan", "--from", uri, "--backup", "b0", "--start", "mysql-bin.000001:4");
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).contains("give either --backup NAME or --start FILE:POS, not both");
  }

  @Test
  @DisplayName("without --backup or --start and no registered backup, fetches from the first archived file and says so")
  void fetchWithoutBackup() throws Exception {
    String bare = "file://" + tmp.resolve("bare");
    assertThat(run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", bare).code()).isZero();
    MainTest.Result plan = run("restore", "plan", "--from", bare);
    assertThat(plan.code()).as(plan.err()).isZero();
    assertThat(plan.out()).contains("start: t0001 mysql-bin.000001 position 4",
        "start chosen: the first archived file of timeline t0001, as no base backup is registered");
    Path dir = tmp.resolve("restore-bare");
    MainTest.Result fetch = run("restore", "fetch", "--from", bare, "--until-position", "mysql-bin.000002:4",
        "--to-dir", dir.toString());
    assertThat(fetch.code()).as(fetch.err()).isZero();
    assertThat(fetch.err()).contains("start chosen: the first archived file of timeline t0001");
    assertThat(Files.readAllBytes(dir.resolve("mysql-bin.000002")))
        .isEqualTo(Files.readAllBytes(MainTest.SAMPLE.resolve("mysql-bin.000002")));
  }

  @Test
  @DisplayName("exits 1 with a clear line without the key, or for a time past the archive; 2 on bad usage")
  void failures() {
    MainTest.Result noKey = run("restore", "fetch", "--from", uri, "--backup", "b0", "--to-dir",
        tmp.resolve("r").toString());
    assertThat(noKey.code()).isEqualTo(1);
    assertThat(noKey.err()).contains("is encrypted", "KeyProvider");
    MainTest.Result late = run("restore", "plan", "--from", uri, "--backup", "b0", "--until", "2099-01-01T00:00:00Z");
    assertThat(late.code()).isEqualTo(1);
    assertThat(late.err()).contains("beyond the window t0001 mysql-bin.000001..mysql-bin.000004");
    assertThat(run("restore", "--from", uri).code()).isEqualTo(2);
    assertThat(run("restore", "plan", "--from", uri, "--backup", "b0", "--until", "x", "--until-gtid", "0-3-1").err())
        .contains("give one of --until, --until-gtid, --until-position");
    assertThat(run("restore", "plan", "--from", uri, "--backup", "b0", "--until", "yesterday").code()).isEqualTo(2);
    assertThat(run("prune", "--from", uri).code()).isEqualTo(2);
  }

  @Test
  @DisplayName("verify --full decodes everything once, then re-checks only what changed; damage exits 1 naming the object")
  void verify() throws Exception {
    MainTest.Result first = run("verify", "--from", uri, "--full", "--key-file", key.toString());
    assertThat(first.code()).as(first.out() + first.err()).isZero();
    assertThat(first.out()).contains("4 file(s) checked, 0 unchanged", "window  t0001 mysql-bin.000001..mysql-bin.000004");
    MainTest.Result second = run("verify", "--from", uri, "--full", "--key-file", key.toString());
    assertThat(second.out()).contains("0 file(s) checked, 4 unchanged");
    Path artifact;
    try (var s = Files.walk(tmp.resolve("archive"))) {
      artifact = s.filter(p -> p.getFileName().toString().equals("mysql-bin.000002.zst.aes")).findFirst().orElseThrow();
    }
    Files.delete(artifact);
    MainTest.Result third = run("verify", "--from", uri, "--full", "--key-file", key.toString());
    assertThat(third.code()).isEqualTo(1);
    assertThat(third.out()).contains("PROBLEM MISSING_ARTIFACT", "mysql-bin.000002.zst.aes");
  }

  @Test
  @DisplayName("prune is a dry run unless --apply, and keeps what the newest backup needs")
  void prune() {
    assertThat(run("backup", "register", "--from", uri, "--name", "b1", "--file", "mysql-bin.000003", "--position",
        "4").code()).isZero();
    MainTest.Result list = run("backup", "list", "--from", uri);
    assertThat(list.out()).contains("b0", "b1");
    MainTest.Result dry = run("prune", "--from", uri, "--keep-backups", "1");
    assertThat(dry.code()).as(dry.err()).isZero();
    assertThat(dry.out()).contains("dry run", "keeping from t0001/mysql-bin.000003", "2 binlog(s), 5 object(s)",
        "would delete");
    assertThat(run("restore", "plan", "--from", uri, "--backup", "b0").code()).isZero();
    MainTest.Result applied = run("prune", "--from", uri, "--keep-backups", "1", "--apply");
    assertThat(applied.out()).contains("pruned", "deleted");
    assertThat(run("restore", "plan", "--from", uri, "--backup", "b1").code()).isZero();
    assertThat(run("restore", "plan", "--from", uri, "--backup", "b0").code()).isEqualTo(1);
  }
}
