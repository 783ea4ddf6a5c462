package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("The binlog-archive command-line runner")
class MainTest {
  static final Path SAMPLE = Path.of("sample");
  @TempDir Path tmp;

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Main(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
        .run(args);
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("archives the bundled sample, prints a progress line per file, and a second run uploads nothing")
  void archivesSample() {
    String to = "file://" + tmp.resolve("archive");
    Result first = run("archive", "--binlog-dir", SAMPLE.toString(), "--to", to);
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.err()).contains("archived mysql-bin.000001", "archived mysql-bin.000004")
        .doesNotContain("mysql-bin.000005 ");
    Result second = run("archive", "--binlog-dir", SAMPLE.toString(), "--to", to);
    assertThat(second.code()).isZero();
    assertThat(second.err()).contains("0 archived");
    Result status = run("status", "--from", to);
    assertThat(status.code()).isZero();
    assertThat(status.out()).contains("timeline t0001: 4 file(s)", "mysql-bin.000004");
  }

  @Test
  @DisplayName("exits 2 with one clear line on bad usage")
  void badUsage() {
    assertThat(run().code()).isEqualTo(2);
    Result r = run("archive", "--binlog-dir", "x", "--to", "file:///tmp/x", "--compress", "lz4");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("binlog-archive: --compress must be zstd, gzip or none");
    assertThat(run("archive", "--to", "file:///x").err()).contains("--binlog-dir is required");
    assertThat(run("frobnicate").code()).isEqualTo(2);
  }

  @Test
  @DisplayName("exits 1 with one clear line when the binlog directory does not exist")
  void failure() {
    Result r = run("archive", "--binlog-dir", tmp.resolve("nope").toString(), "--to", "file://" + tmp.resolve("a"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("binlog directory " + tmp.resolve("nope") + " does not exist");
  }

  @Test
  @DisplayName("prints the scanner's JSON for a local binlog")
  void inspect() {
    Result r = run("inspect", SAMPLE.resolve("mysql-bin.000002").toString());
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("\"closed\" : true", "\"checksum_algorithm\" : \"crc32\"", "\"gtids\" : \"0-3:");
  }

  @Test
  @DisplayName("an encrypted run at TRACE logging never prints or stores the key, in raw, hex or base64 form")
  void encryptedRunLeaksNoKey() throws Exception {
    byte[] key = new byte[32];
    new Random(7).nextBytes(key);
    Path keyFile = tmp.resolve("k1.key");
    Files.writeString(keyFile, Base64.getEncoder().encodeToString(key));
    Path archive = tmp.resolve("archive");
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=trace",
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "archive", "--binlog-dir", SAMPLE.toString(), "--to", "file://" + archive, "--encrypt-key-file",
        keyFile.toString(), "--verbose"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("checksum_status=verified");
    StringBuilder stored = new StringBuilder(output);
    try (Stream<Path> files = Files.walk(archive)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".json")).toList()) {
        stored.append(Files.readString(f));
      }
    }
    String all = stored.toString();
    assertThat(all).contains("\"key_id\" : \"k1\"");
    for (String form : List.of(
        new String(key, StandardCharsets.ISO_8859_1),
        HexFormat.of().formatHex(key),
        HexFormat.of().withUpperCase().formatHex(key),
        Base64.getEncoder().encodeToString(key),
        Base64.getUrlEncoder().withoutPadding().encodeToString(key))) {
      assertThat(all).doesNotContain(form);
    }
  }
}
