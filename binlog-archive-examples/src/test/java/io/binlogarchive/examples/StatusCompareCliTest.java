package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.RunSummary;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("The runner's status and compare commands")
class StatusCompareCliTest {
  @TempDir Path tmp;

  static MainTest.Result run(String... args) {
    return MainTest.run(args);
  }

  /** Archives {@code binlogs} into a new file archive with its cursor at {@code cursor}; returns its URI. */
  String archive(Path binlogs, String name, Path cursor) {
    String uri = "file://" + tmp.resolve(name);
    MainTest.Result r = run("archive", "--binlog-dir", binlogs.toString(), "--to", uri, "--cursor", cursor.toString());
    assertThat(r.code()).as(r.err()).isZero();
    return uri;
  }

  static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      md.update(in.readAllBytes());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static long size(Path dir, int from, int to) throws IOException {
    long n = 0;
    for (int i = from; i <= to; i++) {
      n += Files.size(dir.resolve(String.format("mysql-bin.%06d", i)));
    }
    return n;
  }

  @Nested
  @DisplayName("status --max-age")
  class Status {
    @Test
    @DisplayName("exits 0 when the cursor is fresh, and shows it")
    void fresh() {
      Path cursor = tmp.resolve("c.json");
      String uri = archive(MainTest.SAMPLE, "a", cursor);

      MainTest.Result r = run("status", "--from", uri, "--cursor", cursor.toString(), "--max-age", "3600");

      assertThat(r.code()).as(r.out() + r.err()).isZero();
      assertThat(r.out()).contains("lag of default: cursor mysql-bin.000004, committed ")
          .contains("binlogs not checked (give --binlog-dir)").doesNotContain("STALE");
    }

    @Test
    @DisplayName("exits 3 when the cursor was committed longer ago than --max-age")
    void oldCursor() throws Exception {
      Path cursor = tmp.resolve("old.cursor.json");
      Path root = tmp.resolve("a");
      Instant longAgo = Instant.parse("2020-01-01T00:00:00Z");
      try (Archiver a = Archiver.builder().source(BinlogSource.directory(MainTest.SAMPLE))
          .sink(FileSystemSink.of(root)).serverId("default").cursorFile(cursor)
          .clock(Clock.fixed(longAgo, ZoneOffset.UTC)).build()) {
        RunSummary s = a.runOnce();
        assertThat(s.succeeded()).isTrue();
      }
      assertThat(Files.readString(cursor)).contains("2020-01-01T00:00:00Z");

      MainTest.Result r = run("status", "--from", "file://" + root, "--cursor", cursor.toString(), "--max-age", "3600");

      assertThat(r.code()).as(r.out() + r.err()).isEqualTo(3);
      assertThat(r.out()).contains("lag of default: cursor mysql-bin.000004, committed ")
          .contains("STALE: the archive is more than 3600 s behind");
      MainTest.Result lenient = run("status", "--from", "file://" + root, "--cursor", cursor.toString(), "--max-age",
          String.valueOf(Duration.between(longAgo, Instant.now()).toSeconds() + 86_400));
      assertThat(lenient.code()).as(lenient.out()).isZero();
    }

    @Test
    @DisplayName("with --binlog-dir shows the closed binlogs waiting in files and bytes; exits 3 only once one waited longer than --max-age")
    void waitingBinlogs() throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
      Path cursor = tmp.resolve("c.json");
      String uri = archive(binlogs, "a", cursor); // 000001, 000002 (000003 is the active file)
      Fixtures.copyChain(binlogs, 6); // the server moved on: 000003..000005 closed and waiting

      MainTest.Result r = run("status", "--from", uri, "--cursor", cursor.toString(), "--binlog-dir",
          binlogs.toString(), "--max-age", "3600");

      assertThat(r.code()).as(r.out() + r.err()).isZero();
      assertThat(r.out()).contains("cursor mysql-bin.000002")
          .contains("3 closed binlog(s), " + Main.bytes(size(binlogs, 3, 5)) + " not yet archived, oldest closed ")
          .doesNotContain("STALE");

      Files.setLastModifiedTime(binlogs.resolve("mysql-bin.000003"),
          FileTime.from(Instant.now().minus(Duration.ofHours(3))));

      MainTest.Result stale = run("status", "--from", uri, "--cursor", cursor.toString(), "--binlog-dir",
          binlogs.toString(), "--max-age", "3600");

      assertThat(stale.code()).as(stale.out() + stale.err()).isEqualTo(3);
      assertThat(stale.out()).contains("3 closed binlog(s)", "oldest closed 3 h ago",
          "STALE: the archive is more than 3600 s behind");
    }
  }

  @Nested
  @DisplayName("compare")
  class Compare {
    @Test
    @DisplayName("--with: exits 0 when both archives hold the same binlogs, 4 listing each file missing on either side")
    void withArchive() throws Exception {
      String full = archive(MainTest.SAMPLE, "full", tmp.resolve("c1.json"));
      String same = archive(Fixtures.copyChain(tmp.resolve("b2"), 5), "same", tmp.resolve("c2.json"));
      String shorter = archive(Fixtures.copyChain(tmp.resolve("b3"), 3), "short", tmp.resolve("c3.json"));

      MainTest.Result equal = run("compare", "--from", full, "--with", same);
      assertThat(equal.code()).as(equal.out() + equal.err()).isZero();
      assertThat(equal.out()).contains("4 file(s)", "0 difference(s)");

      MainTest.Result missingRight = run("compare", "--from", full, "--with", shorter);
      assertThat(missingRight.code()).as(missingRight.out() + missingRight.err()).isEqualTo(4);
      assertThat(missingRight.out()).contains("2 difference(s)")
          .contains("  mysql-bin.000003: missing on the right (left " + sha256(MainTest.SAMPLE.resolve("mysql-bin.000003")))
          .contains("  mysql-bin.000004: missing on the right");

      MainTest.Result missingLeft = run("compare", "--from", shorter, "--with", full);
      assertThat(missingLeft.code()).isEqualTo(4);
      assertThat(missingLeft.out()).contains("  mysql-bin.000003: missing on the left", "  mysql-bin.000004: missing on the left");
    }

    @Test
    @DisplayName("--manifest: a sha256sum manifest that agrees exits 0; one that differs exits 4 listing every difference")
    void withManifest() throws Exception {
      String uri = archive(MainTest.SAMPLE, "a", tmp.resolve("c.json"));
      Path chain = Fixtures.chain();
      StringBuilder good = new StringBuilder();
      for (int i = 1; i <= 4; i++) {
        Path f = chain.resolve(String.format("mysql-bin.%06d", i));
        good.append(sha256(f)).append("  ").append(f).append('\n');
      }
      good.append(sha256(chain.resolve("mysql-bin.index"))).append("  ").append(chain.resolve("mysql-bin.index"))
          .append('\n');
      Path manifest = Files.writeString(tmp.resolve("old.sha256"), good);

      MainTest.Result equal = run("compare", "--from", uri, "--manifest", manifest.toString());
      assertThat(equal.code()).as(equal.out() + equal.err()).isZero();
      assertThat(equal.out()).contains("0 difference(s)");

      String wrong = "0".repeat(64);
      String bad = sha256(chain.resolve("mysql-bin.000001")) + "  mysql-bin.000001\n"
          + wrong + " *mysql-bin.000002\n"
          + sha256(chain.resolve("mysql-bin.000003")) + "  ./mysql-bin.000003\n"
          + sha256(chain.resolve("mysql-bin.000006")) + "  mysql-bin.000006\n";
      Files.writeString(manifest, bad);

      MainTest.Result differ = run("compare", "--from", uri, "--manifest", manifest.toString());

      assertThat(differ.code()).as(differ.out() + differ.err()).isEqualTo(4);
      assertThat(differ.out().lines().filter(l -> l.startsWith("  ")).toList()).containsExactly(
          "  mysql-bin.000002: SHA-256 differs (left " + sha256(chain.resolve("mysql-bin.000002")) + ", right " + wrong + ")",
          "  mysql-bin.000004: missing on the right (left " + sha256(chain.resolve("mysql-bin.000004")) + ")",
          "  mysql-bin.000006: missing on the left (right " + sha256(chain.resolve("mysql-bin.000006")) + ")");
      assertThat(differ.out()).contains("3 difference(s)");
    }

    @Test
    @DisplayName("a missing or malformed manifest exits 1 with one line; both or neither of --with and --manifest is bad usage")
    void failures() throws Exception {
      String uri = archive(MainTest.SAMPLE, "a", tmp.resolve("c.json"));

      MainTest.Result missing = run("compare", "--from", uri, "--manifest", tmp.resolve("nope.sha256").toString());
      assertThat(missing.code()).isEqualTo(1);
      assertThat(missing.err()).isEqualTo("binlog-archive: no such manifest file: " + tmp.resolve("nope.sha256") + "\n");

      Path garbage = Files.writeString(tmp.resolve("garbage.sha256"), "not a manifest\n");
      MainTest.Result malformed = run("compare", "--from", uri, "--manifest", garbage.toString());
      assertThat(malformed.code()).isEqualTo(1);
      assertThat(malformed.err()).startsWith("binlog-archive: manifest line 1 is not").hasLineCount(1);

      assertThat(run("compare", "--from", uri).code()).isEqualTo(2);
      assertThat(run("compare", "--from", uri, "--with", uri, "--manifest", garbage.toString()).code()).isEqualTo(2);
    }
  }
}
