package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.testing.MariaDbTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database password of {@code archive --jdbc-url} off the command line, against a real MariaDB
 * server with a user that needs a password: the preflight check connects through the runner's data
 * source, so a run succeeds only if the password reached the server.
 */
@MariaDbTest
@DisplayName("The runner's --jdbc-url password from a file or the environment, on a real MariaDB server")
class JdbcPasswordCliTest {
  static final String USER = "archiver";
  static final String PASSWORD = "Pw-7f3c9a-not-in-any-log";

  @TempDir static Path serverDir;
  @TempDir Path tmp;
  static MariaDbServer server;

  @BeforeAll
  static void start() throws Exception {
    server = MariaDbServer.start(serverDir.resolve("db"));
    server.exec("CREATE USER '" + USER + "'@'127.0.0.1' IDENTIFIED BY '" + PASSWORD + "'");
    server.flushLogs(); // mysql-bin.000001 closes: every run below has a file to archive
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static String url() {
    return "jdbc:mariadb://127.0.0.1:" + server.port() + "/?user=" + USER;
  }

  List<String> archive(String url, String... extra) {
    List<String> args = new ArrayList<>(List.of("archive", "--binlog-dir", server.dataDir().toString(), "--index",
        server.indexFile().toString(), "--to", "file://" + tmp.resolve("archive"), "--cursor",
        tmp.resolve("cursor.json").toString(), "--jdbc-url", url));
    args.addAll(List.of(extra));
    return args;
  }

  static MainTest.Result run(Map<String, String> env, List<String> args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env::get).run(args.toArray(String[]::new));
    return new MainTest.Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("archive --jdbc-password-file connects with the password from the file; without it the server refuses")
  void passwordFile() throws Exception {
    Path file = Files.writeString(tmp.resolve("db.password"), PASSWORD + "\n");
    MainTest.Result ok = run(Map.of(), archive(url(), "--jdbc-password-file", file.toString()));
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.err()).contains("archived mysql-bin.000001").doesNotContain("warning", PASSWORD);

    MainTest.Result none = run(Map.of(), archive(url()));
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err()).contains("preflight could not read the server's settings", "Access denied");
  }

  @Test
  @DisplayName("archive takes the password from BINLOG_ARCHIVE_JDBC_PASSWORD, and no log line shows it, at INFO")
  void environmentVariable() throws Exception {
    List<String> args = archive(url(), "--verbose");
    Process p = ChildJvm.builder(Map.of(UrlDataSource.PASSWORD_ENV, PASSWORD), args.toArray(String[]::new))
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(output).isZero();
    assertThat(output).contains("archived mysql-bin.000001").doesNotContain(PASSWORD);

    // a wrong password: refused by the server, and the error does not show it either
    String wrong = "Wrong-" + PASSWORD;
    Process q = ChildJvm.builder(Map.of(UrlDataSource.PASSWORD_ENV, wrong), args.toArray(String[]::new))
        .redirectErrorStream(true).start();
    String refused = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(q.waitFor()).as(refused).isEqualTo(1);
    assertThat(refused).contains("Access denied").doesNotContain(wrong);
  }

  @Test
  @DisplayName("a password in --jdbc-url still works, with one warning line on stderr that does not show it")
  void passwordInUrl() {
    MainTest.Result r = run(Map.of(), archive(url() + "&password=" + PASSWORD));
    assertThat(r.code()).as(r.err()).isZero();
    List<String> warnings = r.err().lines().filter(l -> l.contains("warning")).toList();
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0)).contains("--jdbc-url holds a password", "--jdbc-password-file",
        UrlDataSource.PASSWORD_ENV);
    assertThat(r.err() + r.out()).doesNotContain(PASSWORD);
  }

  @Test
  @DisplayName("a password file without --jdbc-url, an empty or missing one, or a password given twice is bad usage")
  void usage() throws Exception {
    Path empty = Files.writeString(tmp.resolve("empty"), "\n");
    Path file = Files.writeString(tmp.resolve("db.password"), PASSWORD);
    MainTest.Result twice = run(Map.of(), archive(url() + "&password=" + PASSWORD, "--jdbc-password-file",
        file.toString()));
    assertThat(twice.code()).isEqualTo(2);
    assertThat(twice.err()).contains("give it once").doesNotContain(PASSWORD);
    MainTest.Result blank = run(Map.of(), archive(url(), "--jdbc-password-file", empty.toString()));
    assertThat(blank.code()).isEqualTo(2);
    assertThat(blank.err()).contains(empty + " is empty");
    MainTest.Result missing = run(Map.of(), archive(url(), "--jdbc-password-file", tmp.resolve("nope").toString()));
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains(tmp.resolve("nope") + " does not exist");
    List<String> noUrl = new ArrayList<>(archive(url(), "--jdbc-password-file", file.toString()));
    noUrl.subList(noUrl.indexOf("--jdbc-url"), noUrl.indexOf("--jdbc-url") + 2).clear();
    MainTest.Result lone = run(Map.of(), noUrl);
    assertThat(lone.code()).isEqualTo(2);
    assertThat(lone.err()).contains("--jdbc-password-file goes with --jdbc-url");
  }
}
