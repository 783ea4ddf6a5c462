package io.binlogarchive.examples;

import io.binlogarchive.restore.RestorePitrTest;
import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.restore.PitrFixture;
import io.binlogarchive.testing.MariaDbTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Point-in-time recovery driven only through the runner, on real MariaDB servers (the library-level
 * proof is core's {@code RestorePitrTest}, whose helpers this reuses): the source's binlogs are
 * archived by {@code archive} runs, a {@code mariadb-dump} base backup is recorded with {@code
 * backup register}, {@code restore fetch --until T} prints the replay command, and that command,
 * run by {@code bash} as printed, brings a fresh server to the checksums the source had at T.
 */
@MariaDbTest
@DisplayName("Point-in-time recovery through the command-line runner on real MariaDB servers")
class PitrCliTest {
  @TempDir Path tmp;

  MainTest.Result cli(String... args) {
    MainTest.Result r = MainTest.run(args);
    assertThat(r.code()).as("%s%n%s", List.of(args), r.err()).isZero();
    return r;
  }

  void archive(MariaDbServer source, String uri) throws Exception {
    source.flushLogs();
    cli("archive", "--binlog-dir", source.dataDir().toString(), "--index", source.indexFile().toString(),
        "--to", uri, "--cursor", tmp.resolve("cursor.json").toString());
  }

  @Test
  @DisplayName("backup register, restore fetch --until T and the printed replay command give a fresh server the checksums of T")
  void restoreToTime() throws Exception {
    PitrFixture.requireTools();
    String uri = "file://" + tmp.resolve("archive");
    Path dump = tmp.resolve("b1.sql");
    BaseBackup b1;
    Instant t;
    Map<String, Long> atT;
    try (MariaDbServer source = MariaDbServer.start(tmp.resolve("source"))) {
      source.exec("CREATE DATABASE shop",
          "CREATE TABLE shop.u (id INT PRIMARY KEY, name VARCHAR(50), qty INT) ENGINE=InnoDB",
          "INSERT INTO shop.u VALUES " + String.join(",", IntStream.range(0, 200)
              .mapToObj(i -> "(" + i + ", 'item-" + i + "', " + i * 7 % 13 + ")").toList()));
      source.load("shop", 600, 1);
      archive(source, uri);
      b1 = PitrFixture.dump(source, "b1", dump);
      cli("backup", "register", "--from", uri, "--name", "b1", "--file", b1.file(), "--position",
          Long.toString(b1.position()), "--gtid", b1.gtid(), "--taken-at", b1.takenAt().toString());
      source.load("shop", 1200, 2);
      archive(source, uri);
      source.load("shop", 300, 3);
      source.exec("UPDATE shop.u SET name = CONCAT(name, '-x') WHERE id < 50", "DELETE FROM shop.u WHERE id >= 190");
      long second = PitrFixture.serverSecond(source);
      t = Instant.ofEpochSecond(second);
      atT = PitrFixture.checksums(source);
      PitrFixture.awaitServerSecondAfter(source, second);
      source.load("shop", 200, 4);
      source.exec("UPDATE shop.u SET qty = 0", "DELETE FROM shop.t WHERE id % 2 = 0", "DROP TABLE shop.u");
      assertThat(PitrFixture.checksums(source)).isNotEqualTo(atT);
      archive(source, uri);
    }

    Path dir = tmp.resolve("fetched");
    MainTest.Result fetch = cli("restore", "fetch", "--from", uri, "--backup", "b1", "--until", t.toString(),
        "--to-dir", dir.toString());
    String replay = fetch.out().strip();
    assertThat(replay).startsWith("TZ=UTC mariadb-binlog ").endsWith(" | mariadb")
        .contains("--start-position=" + b1.position(), "--stop-datetime=", dir.resolve(b1.file()).toString());
    assertThat(fetch.err()).containsPattern("binlog-archive: ([2-9]|\\d{2,}) fetched");

    try (MariaDbServer target = MariaDbServer.start(tmp.resolve("target"), "--skip-log-bin")) {
      PitrFixture.load(target, dump);
      // the printed command, with the client's connection options after its last word
      List<String> client = PitrFixture.client(target);
      List<String> bash = new ArrayList<>(List.of("bash", "-c",
          replay + " " + String.join(" ", client.subList(1, client.size()))));
      PitrFixture.run(bash, null, tmp.resolve("replay.out"));
      assertThat(Files.readString(tmp.resolve("replay.out"))).isEmpty();
      assertThat(PitrFixture.checksums(target)).isEqualTo(atT);
    }
  }
}
