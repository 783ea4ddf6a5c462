package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.store.spi.ForwardingSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code archive --watch}: the archiver runs on its own thread ({@code Archiver.start()}); metrics
 * are scraped from a watching child JVM, and SIGTERM ({@link ProcessHandle#destroy()}: unlike {@link
 * Process#destroy()} it leaves the child's stderr readable to the end) of one in the
 * middle of a run must leave a consistent archive. Handshakes read the child's stderr lines; no
 * sleeps.
 */
@DisplayName("The runner's --watch agent")
class WatchCliTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;

  /** Reads a child's stderr line by line, keeping every line for failure messages. */
  static final class Lines {
    final BufferedReader reader;
    final List<String> seen = new ArrayList<>();

    Lines(Process p) {
      reader = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
    }

    /** @return the first line from here on that matches; fails if the child's stderr ends first */
    String await(Predicate<String> p) throws Exception {
      String line;
      while ((line = reader.readLine()) != null) {
        seen.add(line);
        if (p.test(line)) {
          return line;
        }
      }
      throw new AssertionError("stderr ended before the expected line:\n" + String.join("\n", seen));
    }

    void drain() throws Exception {
      String line;
      while ((line = reader.readLine()) != null) {
        seen.add(line);
      }
    }

    @Override
    public String toString() {
      return String.join("\n", seen);
    }
  }

  static Map<String, Double> parseMetrics(String body) {
    Map<String, Double> m = new HashMap<>();
    for (String line : body.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int sp = line.lastIndexOf(' ');
      m.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
    }
    return m;
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES) // a guard only: before the fix the wait never ended
  @DisplayName("returns 1 and names the error when an Error ends the agent, instead of waiting for runs that never come")
  void errorEndsTheWatch() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 2);
    NoClassDefFoundError error = new NoClassDefFoundError("simulated: a codec class is missing");
    Sink failing = new ForwardingSink(FileSystemSink.of(tmp.resolve("archive"))) {
      @Override
      public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
        if (key.contains("/binlog/") && !key.endsWith(".json")) {
          throw error;
        }
        return super.create(key, metadata);
      }
    };
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Main.Watch watch = new Main.Watch(0, err); // no --max-runs: only the agent's end stops the wait
    int code;
    try (Archiver archiver = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(failing).serverId("db1")
        .cursorFile(tmp.resolve("cursor.json")).pollInterval(Duration.ofMillis(10)).listener(watch).build()) {
      code = watch.run(archiver);
    }
    assertThat(code).isEqualTo(1);
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .contains("binlog-archive: the agent stopped: java.lang.NoClassDefFoundError: simulated: a codec class is missing");
  }

  @Test
  @DisplayName("--metrics-port serves /metrics on 127.0.0.1 with the archived-files counter and lag gauges of the runs so far")
  void metrics() throws Exception {
    Path archive = tmp.resolve("archive");
    Process p = ChildJvm.start("archive", "--binlog-dir", MainTest.SAMPLE.toAbsolutePath().toString(), "--to",
        "file://" + archive, "--watch", "3600", "--metrics-port", "0");
    Lines err = new Lines(p);
    try {
      Matcher at = Pattern.compile("binlog-archive: metrics on (http://([^:/]+):(\\d+)/metrics)")
          .matcher(err.await(l -> l.startsWith("binlog-archive: metrics on ")));
      assertThat(at.matches()).isTrue();
      assertThat(at.group(2)).as("bound to the loopback interface by default").isEqualTo("127.0.0.1");
      assertThat(err.await(l -> l.startsWith("health: "))).as(err.toString())
          .startsWith("health: ok archived=4 lag_files=0 lag_bytes=0");

      HttpResponse<String> r = HttpClient.newHttpClient()
          .send(HttpRequest.newBuilder(URI.create(at.group(1))).build(), HttpResponse.BodyHandlers.ofString());

      assertThat(r.statusCode()).isEqualTo(200);
      Map<String, Double> m = parseMetrics(r.body());
      long bytes = 0;
      for (int i = 1; i <= 4; i++) {
        bytes += Files.size(MainTest.SAMPLE.resolve(String.format("mysql-bin.%06d", i)));
      }
      assertThat(m).as(r.body())
          .containsEntry("binlog_archive_files_archived_total{server=\"default\"}", 4.0)
          .containsEntry("binlog_archive_bytes_archived_bytes_total{server=\"default\"}", (double) bytes)
          .containsEntry("binlog_archive_lag_files{server=\"default\"}", 0.0)
          .containsEntry("binlog_archive_lag_bytes{server=\"default\"}", 0.0)
          .containsEntry("binlog_archive_cursor_sequence{server=\"default\"}", 4.0)
          .containsEntry("binlog_archive_failures_total{server=\"default\"}", 0.0)
          .containsEntry("binlog_archive_standby{server=\"default\"}", 0.0)
          .containsKey("binlog_archive_last_archived_age_seconds{server=\"default\"}");
      assertThat(m.get("binlog_archive_runs_total{outcome=\"success\",server=\"default\"}")).isGreaterThanOrEqualTo(1.0);
      assertThat(m.get("binlog_archive_last_archived_age_seconds{server=\"default\"}")).isBetween(0.0, 3600.0);
    } finally {
      p.toHandle().destroy(); // SIGTERM
      err.drain();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  @DisplayName("SIGTERM during a run stops gracefully: every sidecar has its artifact, the cursor names the newest archived file, a re-run completes")
  void sigtermLeavesAConsistentArchive() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    Path archive = tmp.resolve("archive");
    String[] args = {
      "archive", "--binlog-dir", binlogs.toString(), "--to", "file://" + archive, "--compress", "none",
      "--max-upload-rate", "2000000", "--watch", "3600"
    };
    Process p = ChildJvm.start(args);
    Lines err = new Lines(p);
    try {
      err.await(l -> l.startsWith("archived mysql-bin.000001"));
    } finally {
      p.toHandle().destroy(); // SIGTERM while the next file is on its way (keeps the pipes open, unlike Process)
      err.drain();
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(err.toString()).isEqualTo(143);
    assertThat(err.seen).as(err.toString())
        .contains("binlog-archive: stopping: files in flight finish, no new file starts")
        .anyMatch(l -> l.startsWith("binlog-archive: stopped; cursor t0001/mysql-bin."));

    Path dir = archive.resolve("default/t0001/binlog");
    List<String> sidecars;
    List<String> artifacts;
    try (Stream<Path> s = Files.list(dir)) {
      List<String> names = s.map(f -> f.getFileName().toString()).sorted().toList();
      sidecars = names.stream().filter(n -> n.endsWith(".json")).map(n -> n.substring(0, n.length() - 5)).toList();
      artifacts = names.stream().filter(n -> !n.endsWith(".json")).toList();
    }
    assertThat(sidecars).as("stopped in the middle").isNotEmpty().hasSizeLessThan(12);
    for (String file : sidecars) {
      JsonNode sidecar = JSON.readTree(dir.resolve(file + ".json").toFile());
      Path artifact = archive.resolve(sidecar.path("artifact").path("key").asText());
      assertThat(artifact).exists();
      assertThat(Files.size(artifact)).isEqualTo(sidecar.path("artifact").path("size").asLong());
    }
    assertThat(artifacts).as("files in flight finished: no artifact without its sidecar")
        .containsExactlyElementsOf(sidecars);
    JsonNode cursor = JSON.readTree(archive.resolve(".binlog-archive/default.cursor.json").toFile());
    assertThat(cursor.path("last_synced_file").asText()).isEqualTo(sidecars.get(sidecars.size() - 1));
    assertThat(err.seen).contains("binlog-archive: stopped; cursor t0001/" + sidecars.get(sidecars.size() - 1));

    MainTest.Result rerun = MainTest.run(args[0], args[1], args[2], args[3], args[4], args[5], args[6]);

    assertThat(rerun.code()).as(rerun.err()).isZero();
    assertThat(rerun.err()).contains((12 - sidecars.size()) + " archived, 0 already archived")
        .contains("cursor t0001/mysql-bin.000012");
  }

  @Test
  @DisplayName("--max-runs N ends a --watch run after N runs, exit 0; without --watch it is bad usage")
  void maxRuns() {
    String to = "file://" + tmp.resolve("archive");

    MainTest.Result r = MainTest.run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", to, "--watch", "1",
        "--max-runs", "2");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err().lines().filter(l -> l.startsWith("binlog-archive: ") && l.contains(" archived, ")).toList())
        .hasSize(2)
        .satisfies(l -> assertThat(l.get(0)).startsWith("binlog-archive: 4 archived, 0 already archived"))
        .satisfies(l -> assertThat(l.get(1)).startsWith("binlog-archive: 0 archived, 0 already archived"));
    assertThat(r.err().lines().filter(l -> l.startsWith("health: ")).count()).isEqualTo(2);

    MainTest.Result bad = MainTest.run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", to,
        "--max-runs", "2");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).startsWith("binlog-archive: --max-runs goes with --watch SECONDS");
  }

  @Test
  @DisplayName("--metrics-bind chooses the interface; an unknown address is bad usage")
  void metricsBind() {
    String to = "file://" + tmp.resolve("archive");

    MainTest.Result all = MainTest.run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", to,
        "--metrics-port", "0", "--metrics-bind", "0.0.0.0");
    assertThat(all.code()).as(all.err()).isZero();
    assertThat(all.err()).containsPattern("binlog-archive: metrics on http://0\\.0\\.0\\.0:\\d+/metrics");

    MainTest.Result bad = MainTest.run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", to,
        "--metrics-port", "0", "--metrics-bind", "no-such-host.invalid");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).startsWith("binlog-archive: --metrics-bind must be an address of this host");
    assertThat(MainTest.run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", to,
        "--metrics-bind", "127.0.0.1").code()).isEqualTo(2);
  }
}
