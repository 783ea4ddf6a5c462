package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --log-format text|json}, in child JVMs: SLF4J picks its provider once per JVM, so each
 * format needs a fresh one.
 */
@DisplayName("The runner's log formats")
class LogFormatCliTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;

  record Run(int code, List<String> out, List<String> err) {}

  Run child(String... args) throws Exception {
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    Process p = ChildJvm.builder(Map.of(), args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("child exited").isTrue();
    return new Run(p.exitValue(), Files.readAllLines(out, StandardCharsets.UTF_8),
        Files.readAllLines(err, StandardCharsets.UTF_8));
  }

  static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + line, e);
    }
  }

  String archive() {
    return "file://" + tmp.resolve("archive");
  }

  @Test
  @DisplayName("with --log-format json every stdout line is a JSON object with level, time, logger, message and the structured fields")
  void json() throws Exception {
    Run r = child("archive", "--binlog-dir", MainTest.SAMPLE.toAbsolutePath().toString(), "--to", archive(),
        "--log-format", "json");

    assertThat(r.code()).as(String.join("\n", r.err())).isZero();
    assertThat(r.out()).isNotEmpty();
    List<JsonNode> events = new ArrayList<>();
    for (String line : r.out()) {
      JsonNode n = parse(line);
      assertThat(n.isObject()).as(line).isTrue();
      assertThat(n.path("level").asText()).as(line).isIn("INFO", "WARN", "ERROR");
      assertThat(n.path("time").asText()).as(line).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
      assertThat(n.path("logger").asText()).as(line).startsWith("io.binlogarchive");
      assertThat(n.path("message").asText()).as(line).isNotBlank();
      events.add(n);
    }
    List<JsonNode> uploads = events.stream().filter(n -> n.has("upload_duration_ms")).toList();
    assertThat(uploads).extracting(n -> n.path("binlog_filename").asText())
        .containsExactly("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003", "mysql-bin.000004");
    assertThat(uploads).allSatisfy(n -> {
      assertThat(n.path("upload_duration_ms").isIntegralNumber()).as(n.toString()).isTrue();
      assertThat(n.path("bytes_processed").asLong()).as(n.toString())
          .isEqualTo(Files.size(MainTest.SAMPLE.resolve(n.path("binlog_filename").asText())));
      assertThat(n.path("checksum_status").asText()).isEqualTo("verified");
    });
    assertThat(r.err()).as("progress and summary stay on stderr, as text")
        .anyMatch(l -> l.startsWith("archived mysql-bin.000001"))
        .anyMatch(l -> l.startsWith("binlog-archive: 4 archived"))
        .noneMatch(l -> l.startsWith("{"));
  }

  @Test
  @DisplayName("plain text stays the default: nothing on stdout, key=value library lines on stderr with --verbose")
  void textIsDefault() throws Exception {
    Run r = child("archive", "--binlog-dir", MainTest.SAMPLE.toAbsolutePath().toString(), "--to", archive(),
        "--verbose");

    assertThat(r.code()).as(String.join("\n", r.err())).isZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).noneMatch(l -> l.startsWith("{"))
        .anyMatch(l -> l.contains("INFO io.binlogarchive") && l.contains("binlog_filename=mysql-bin.000001")
            && l.contains("checksum_status=verified"));
  }

  @Test
  @DisplayName("with --log-format json an error is still one line on stderr, and stdout stays JSON")
  void jsonError() throws Exception {
    Path binlogs = Files.createDirectories(tmp.resolve("binlogs"));
    Files.writeString(binlogs.resolve("mysql-bin.000001"), "this is not a binlog\n".repeat(20));
    Files.copy(MainTest.SAMPLE.resolve("mysql-bin.000002"), binlogs.resolve("mysql-bin.000002"));
    Files.writeString(binlogs.resolve("mysql-bin.index"), "./mysql-bin.000001\n./mysql-bin.000002\n");

    Run r = child("--log-format=json", "archive", "--binlog-dir", binlogs.toString(), "--to", archive());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).as("stderr").noneMatch(l -> l.startsWith("{") || l.startsWith("\tat "));
    assertThat(r.err().stream().filter(l -> l.contains("not a binary log")).toList()).as("stderr")
        .singleElement().asString().startsWith("binlog-archive: mysql-bin.000001: not a binary log");
    assertThat(r.out()).allSatisfy(l -> assertThat(parse(l).isObject()).as(l).isTrue())
        .anySatisfy(l -> {
          JsonNode n = parse(l);
          assertThat(n.path("level").asText()).isEqualTo("ERROR");
          assertThat(n.path("binlog_filename").asText()).isEqualTo("mysql-bin.000001");
        });
  }

  @Test
  @DisplayName("an unknown --log-format is bad usage (exit 2)")
  void badFormat() {
    MainTest.Result r = MainTest.run("archive", "--binlog-dir", "x", "--to", "file:///tmp/x", "--log-format", "yaml");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("binlog-archive: --log-format must be text or json");
  }
}
