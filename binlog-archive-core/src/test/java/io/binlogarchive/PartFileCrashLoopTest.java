package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.SlowTest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent in a crash loop (systemd restarting it after each SIGKILL) over a {@link FileSystemSink}:
 * each life starts with the archiver's sweep, begins an upload and is killed mid-write. Temporary
 * files must not pile up: each new life removes what the previous one left, however young.
 */
@SlowTest
@CrashTest
@DisplayName("A FileSystemSink agent in a crash loop")
class PartFileCrashLoopTest {
  static final int KILLS = 50;
  @TempDir Path tmp;

  static List<Path> partFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
    }
  }

  @Test
  @DisplayName("leaves at most the killed upload's temporary file after each of 50 kills, and none after one clean run")
  void killsDoNotPileUp() throws Exception {
    Path archive = tmp.resolve("archive");
    Path oneFile = Fixtures.copyChain(tmp.resolve("active-only"), 1);
    Path cursor = tmp.resolve("cursor.json");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    long t0 = System.nanoTime();
    for (int i = 1; i <= KILLS; i++) {
      Process child = new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
          "-cp", System.getProperty("java.class.path"), CrashLoopAgentChild.class.getName(),
          archive.toString(), oneFile.toString(), cursor.toString())
          .redirectError(ProcessBuilder.Redirect.appendTo(tmp.resolve("children.log").toFile())).start();
      try {
        BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        assertThat(r.readLine()).as("life %d started its upload", i).isEqualTo("writing");
        assertThat(partFiles(archive)).as("temporary files while life %d writes", i).hasSize(1);
      } finally {
        child.destroyForcibly(); // SIGKILL mid-upload: the part file stays, its lock dies
      }
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(partFiles(archive)).as("temporary files after kill %d", i).hasSize(1);
    }
    System.out.printf("crash loop: %d kills in %.1f s%n", KILLS, (System.nanoTime() - t0) / 1e9);

    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    FileSystemSink sink = FileSystemSink.of(archive);
    try (Archiver clean = Archiver.builder().source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink).prefix("loop").serverId("db1").cursorFile(cursor).retryPolicy(RetryPolicy.none()).build()) {
      RunSummary s = clean.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.results()).extracting(FileResult::status).containsOnly(FileResult.Status.ARCHIVED).hasSize(2);
    }
    assertThat(partFiles(archive)).as("temporary files after one clean run").isEmpty();
    assertThat(sink.list("loop/")).extracting(StoredObject::key).containsExactly(
        "loop/db1/t0001/binlog/mysql-bin.000001.json", CrashLoopAgentChild.KEY,
        "loop/db1/t0001/binlog/mysql-bin.000002.json", "loop/db1/t0001/binlog/mysql-bin.000002.zst");
  }
}
