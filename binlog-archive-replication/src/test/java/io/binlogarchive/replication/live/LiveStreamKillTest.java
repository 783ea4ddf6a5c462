package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SlowTest
@CrashTest
@MariaDbTest
@DisplayName("The stream's process killed with SIGKILL again and again under load")
class LiveStreamKillTest {
  static final int KILLS = 20;
  @TempDir Path tmp;

  @Test
  @DisplayName("after 20 SIGKILLs at random points (mid-event, mid-transaction, at file changes), a restart leaves every file identical to the server's")
  void kills() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      AtomicBoolean writing = new AtomicBoolean(true);
      CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
        try {
          for (long seed = 1; writing.get(); seed++) {
            f.server.load("w", 300, seed);
            if (seed % 5 == 0) {
              f.server.flushLogs();
            }
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Random random = new Random(20261206);
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      for (int i = 0; i < KILLS; i++) {
        long before = spoolBytes(f.spool);
        long grow = 1 + random.nextInt(200_000);
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
            LiveStreamChild.class.getName(), String.valueOf(f.server.port()), f.spool.toString())
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("child.log").toFile()));
        pb.environment().put("BINLOG_ARCHIVE_SOURCE_PASSWORD", LiveFixture.PASSWORD);
        Process child = pb.start();
        try {
          f.await(() -> spoolBytes(f.spool) >= before + grow || !child.isAlive(), "the child spools " + grow + " more bytes");
          assertThat(child.isAlive()).as("child %d alive; log:%n%s", i, log(tmp)).isTrue();
        } finally {
          child.destroyForcibly();
          assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
      }
      writing.set(false);
      load.join();
      f.startStream(f.source().replicaServerId(78).build(), FsyncPolicy.perTransaction());
      f.awaitCaughtUp();
      f.assertSpoolMatchesServer();
      f.stopStream();
    }
  }

  static long spoolBytes(Path spool) {
    if (!Files.isDirectory(spool)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(spool)) {
      return s.filter(p -> !p.toString().endsWith(".index")).mapToLong(p -> p.toFile().length()).sum();
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return 0; // a file vanished while listing; try again
    }
  }

  static String log(Path tmp) {
    try {
      return Files.readString(tmp.resolve("child.log"));
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }
}
