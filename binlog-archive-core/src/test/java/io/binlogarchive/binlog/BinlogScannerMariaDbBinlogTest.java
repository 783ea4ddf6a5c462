package io.binlogarchive.binlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.binlogarchive.testing.MariaDbTest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compares the scanner with {@code mariadb-binlog}, MariaDB's own reader, run as a separate process
 * with {@code TZ=UTC}. The tool must be installed (CI installs it); a missing tool fails the test.
 */
@MariaDbTest
@DisplayName("BinlogScanner agrees with mariadb-binlog")
class BinlogScannerMariaDbBinlogTest {
  /** {@code #261122  3:53:27 server id 3  end_log_pos 256 CRC32 0x2c644413 	Start: ...} */
  private static final Pattern EVENT = Pattern.compile(
      "^#(\\d{2})(\\d{2})(\\d{2}) +(\\d{1,2}):(\\d{2}):(\\d{2}) server id (\\d+) +end_log_pos (\\d+)(?: +CRC32 0x[0-9a-f]+)?\\s+(.*)$");
  private static final Pattern GTID = Pattern.compile("^GTID (\\d+)-(\\d+)-(\\d+)\\b.*");
  private static final Pattern GTID_LIST = Pattern.compile("^Gtid list \\[(.*)\\]$");

  static Stream<Path> mariaDbFiles() {
    List<Path> files = new ArrayList<>(BinlogFixtures.chain());
    files.add(BinlogFixtures.dir().resolve("mysql/mariadb-bin.000001"));
    return files.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mariaDbFiles")
  @DisplayName("on event count, end position, GTIDs, GTID list, event times and commit times")
  void agrees(Path file) throws Exception {
    Reference want = runMariaDbBinlog(file);
    BinlogInfo info = BinlogScanner.scan(file);

    assertThat(want.events).as("mariadb-binlog printed events").isPositive();
    assertThat(info.eventCount()).as("event count").isEqualTo(want.events);
    assertThat(info.endPosition()).as("end position").isEqualTo(want.lastEndPos).isEqualTo(Files.size(file));
    assertThat(GtidSet.parse(info.gtids())).as("GTIDs").isEqualTo(GtidSet.parse(String.join(",", want.gtids)));
    assertThat(info.transactionCount()).as("transactions").isEqualTo(want.gtids.size());
    assertThat(info.previousGtids()).as("GTID list").isEqualTo(want.gtidList);
    assertThat(info.firstEventTime()).isEqualTo(want.firstTime);
    assertThat(info.lastEventTime()).isEqualTo(want.lastTime);
    assertThat(info.firstCommitTime()).as("first commit").isEqualTo(want.firstCommit);
    assertThat(info.lastCommitTime()).as("last commit").isEqualTo(want.lastCommit);
    assertThat(info.serverIds()).containsExactlyElementsOf(want.serverIds);
  }

  static final class Reference {
    long events;
    long lastEndPos;
    List<String> gtids = new ArrayList<>();
    String gtidList;
    Instant firstTime;
    Instant lastTime;
    Instant firstCommit;
    Instant lastCommit;
    List<Long> serverIds = new ArrayList<>();

    void commit(Instant t) {
      if (firstCommit == null) {
        firstCommit = t;
      }
      lastCommit = t;
    }
  }

  static Reference runMariaDbBinlog(Path file) throws Exception {
    Path tool = Path.of("/usr/bin/mariadb-binlog");
    String exe = Files.isExecutable(tool) ? tool.toString() : "mariadb-binlog";
    ProcessBuilder pb = new ProcessBuilder(exe, "--verify-binlog-checksum", "--base64-output=decode-rows", file.toString());
    pb.environment().put("TZ", "UTC");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return fail("mariadb-binlog is needed for this test (apt-get install mariadb-client): " + e.getMessage());
    }
    p.getOutputStream().close();
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
    String out = drain(p.getInputStream());
    int rc = p.waitFor();
    assertThat(rc).as("mariadb-binlog exit code; stderr: %s", err.get()).isZero();

    Reference r = new Reference();
    boolean groupOpen = false;
    Instant groupTime = null;
    for (String line : out.split("\n")) {
      Matcher m = EVENT.matcher(line);
      if (!m.matches()) {
        continue;
      }
      Instant t = LocalDateTime.of(2000 + Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
          Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)), Integer.parseInt(m.group(6))).toInstant(ZoneOffset.UTC);
      long serverId = Long.parseLong(m.group(7));
      String what = m.group(9).strip();
      r.events++;
      r.lastEndPos = Long.parseLong(m.group(8));
      if (!r.serverIds.contains(serverId)) {
        r.serverIds.add(serverId);
      }
      if (r.firstTime == null) {
        r.firstTime = t;
      }
      r.lastTime = t;
      Matcher g = GTID.matcher(what);
      Matcher gl = GTID_LIST.matcher(what);
      if (g.matches()) {
        if (groupOpen) {
          r.commit(groupTime);
        }
        r.gtids.add(g.group(1) + "-" + g.group(2) + "-" + g.group(3));
        groupOpen = true;
        groupTime = t;
      } else if (gl.matches()) {
        r.gtidList = gl.group(1);
      } else if (what.startsWith("Xid")) {
        r.commit(t);
        groupOpen = false;
      } else if (groupOpen && !what.startsWith("Binlog checkpoint") && !what.startsWith("Rotate") && !what.startsWith("Stop")) {
        groupTime = t;
      }
    }
    if (groupOpen) {
      r.commit(groupTime);
    }
    r.serverIds.sort(null);
    return r;
  }

  private static String drain(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
