package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("The runner's command-line syntax")
class CliSyntaxTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("archive takes the key file as --key-file too, and the read side reads with it")
  void keyFileAlias() throws Exception {
    byte[] key = new byte[32];
    new Random(3).nextBytes(key);
    Path keyFile = Files.write(tmp.resolve("k7.key"), key);
    String to = "file://" + tmp.resolve("archive");
    MainTest.Result a = MainTest.run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", to, "--key-file",
        keyFile.toString());
    assertThat(a.code()).as(a.err()).isZero();
    MainTest.Result status = MainTest.run("status", "--from", to);
    assertThat(status.out()).contains(" k7 ");
    MainTest.Result verify = MainTest.run("verify", "--from", to, "--full", "--encrypt-key-file", keyFile.toString());
    assertThat(verify.code()).as(verify.err()).isZero();
    assertThat(verify.out()).contains("4 file(s) checked");
  }

  @Test
  @DisplayName("bad usage is one line naming the problem and the command's --help, exit 2")
  void usageErrors() {
    MainTest.Result noSub = MainTest.run("restore");
    assertThat(noSub.code()).isEqualTo(2);
    assertThat(noSub.err()).isEqualTo("binlog-archive: restore needs 'plan', 'fetch' or 'serve' (see 'binlog-archive restore"
        + " --help')\n");
    MainTest.Result unknown = MainTest.run("frobnicate");
    assertThat(unknown.err()).startsWith("binlog-archive: unknown command 'frobnicate'").hasLineCount(1);
    MainTest.Result missing = MainTest.run("backup", "register", "--from", "file://" + tmp, "--name", "b");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).startsWith("binlog-archive: --file, --position are required").hasLineCount(1);
    MainTest.Result option = MainTest.run("verify", "--from", "file://" + tmp, "--no-such-flag");
    assertThat(option.code()).isEqualTo(2);
    assertThat(option.err()).contains("--no-such-flag", "see 'binlog-archive verify --help'").hasLineCount(1);
    MainTest.Result type = MainTest.run("prune", "--from", "file://" + tmp, "--keep-backups", "many");
    assertThat(type.code()).isEqualTo(2);
    assertThat(type.err()).contains("--keep-backups", "'many'").hasLineCount(1);
  }

  @Test
  @DisplayName("stream: a password in --source is refused without being echoed, --ack-after needs --semi-sync;"
      + " exit 2 before anything is opened")
  void streamUsage() {
    Path archive = tmp.resolve("archive");
    String to = "file://" + archive;
    MainTest.Result secret = MainTest.run("stream", "--source", "mysql://repl:S3cret-pw@127.0.0.1:3306", "--to", to);
    assertThat(secret.code()).isEqualTo(2);
    assertThat(secret.err()).contains("--source must not hold a password", "BINLOG_ARCHIVE_SOURCE_PASSWORD")
        .doesNotContain("S3cret-pw").hasLineCount(1);
    MainTest.Result ack = MainTest.run("stream", "--source", "mysql://repl@127.0.0.1:3306", "--to", to, "--ack-after",
        "spool");
    assertThat(ack.code()).isEqualTo(2);
    assertThat(ack.err()).startsWith("binlog-archive: --ack-after goes with --semi-sync").hasLineCount(1);
    MainTest.Result interval = MainTest.run("stream", "--source", "mysql://repl@127.0.0.1:3306", "--to", to,
        "--segment-interval-ms", "5");
    assertThat(interval.code()).isEqualTo(2);
    assertThat(interval.err()).contains("--segment-interval-ms must be 10..3600000, got 5").hasLineCount(1);
    assertThat(archive).doesNotExist();
  }

  @Test
  @DisplayName("common options go before or after the command, and a repeated option's last value wins")
  void placement() {
    String to = "file://" + tmp.resolve("archive");
    MainTest.Result r = MainTest.run("--log-format", "text", "archive", "--binlog-dir", "nowhere", "--binlog-dir",
        MainTest.SAMPLE.toString(), "--to", to, "--stats");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("4 archived");
  }

  @Test
  @DisplayName("no arguments: the usage on stderr, exit 2; --help: on stdout, exit 0")
  void help() {
    MainTest.Result none = MainTest.run();
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("Usage: binlog-archive", "archive", "restore", "completion");
    MainTest.Result help = MainTest.run("-h");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("Usage: binlog-archive", "Exit codes");
  }
}
