package io.binlogarchive;

import io.binlogarchive.internal.decode.ArtifactDecoder;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real segment-archiving JVM ({@link SegmentCrashChild}) with SIGKILL at random exact steps
 * (at least 20 times), restarting it after each kill, and checks every time that the stored
 * segments form one chain from offset 0 (no gap), that no segment with a sidecar ever changes, that
 * they decode to the binlog's bytes, and finally that one artifact per sidecar remains (no
 * duplicate). Set {@code -Dsegment.crash.seed=N} to replay a run.
 */
@CrashTest
@DisplayName("Segment archiving killed with SIGKILL at any point")
class SegmentCrashTest {
  static final long SEED = Long.getLong("segment.crash.seed", 20261206L);
  static final int KILLS = 20;
  static final String FILE = "mysql-bin.000003";
  @TempDir Path tmp;

  @Test
  @DisplayName("never leaves a gap, a sidecar without its segment or a changed segment, and completes exactly once")
  void killAtRandomSteps() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 4);
    byte[] bytes = Files.readAllBytes(binlogs.resolve(FILE));
    int upTo = 160 * 1024; // the file's first 160 KiB, reported durable in four steps, each inside an event
    StringBuilder lengths = new StringBuilder();
    for (int k = 1; k <= 4; k++) {
      lengths.append(k == 1 ? "" : ",").append(upTo * k / 4 - 3);
    }
    CrashSafetyTest.Outcome calibration = run(tmp.resolve("calibration"), binlogs, lengths.toString(), line -> false);
    assertThat(calibration.killed()).isFalse();
    int steps = calibration.lines().size();
    assertThat(steps).as("steps of a whole run").isGreaterThan(20);

    Random rnd = new Random(SEED);
    // the first four kills hit each step of storing a segment: the artifact's commit, after it, the
    // sidecar's commit, after it; then random steps. A run that completes ends its episode: the
    // next kill starts on a fresh archive.
    List<java.util.function.Predicate<String>> forced = new ArrayList<>(List.of(
        l -> l.startsWith("commit ") && l.endsWith(".zst"), l -> l.startsWith("committed ") && l.endsWith(".zst"),
        l -> l.startsWith("commit ") && l.endsWith(".json"), l -> l.startsWith("committed ") && l.endsWith(".json")));
    List<String> log = new ArrayList<>();
    java.util.Set<String> killedAfter = new java.util.TreeSet<>();
    int kills = 0;
    int episode = 0;
    Path dir = tmp.resolve("episode-0");
    Map<String, String> stable = new HashMap<>();
    while (kills < KILLS) {
      int at = 1 + rnd.nextInt(steps);
      java.util.function.Predicate<String> kind = forced.isEmpty() ? null : forced.get(0);
      int[] n = {0};
      CrashSafetyTest.Outcome o = run(dir, binlogs, lengths.toString(), line -> kind != null ? kind.test(line) : ++n[0] == at);
      String lastLine = o.lines().isEmpty() ? "" : o.lines().get(o.lines().size() - 1);
      log.add("episode " + episode + ": " + (o.killed() ? "killed after " + lastLine : "completed"));
      check(FileSystemSink.of(dir.resolve("archive")), bytes, stable, String.join("; ", log));
      if (o.killed()) {
        kills++;
        if (kind != null) {
          forced.remove(0);
        }
        killedAfter.add(lastLine.split(" ")[0] + (lastLine.endsWith(".json") ? " sidecar" : " segment"));
      } else {
        episode++;
        dir = tmp.resolve("episode-" + episode);
        stable = new HashMap<>();
      }
    }
    System.out.println("segment crash runs (" + steps + " steps in a whole run):\n  " + String.join("\n  ", log));
    assertThat(killedAfter).as("kill points: %s", log)
        .contains("commit segment", "committed segment", "commit sidecar", "committed sidecar");
    CrashSafetyTest.Outcome last = run(dir, binlogs, lengths.toString(), line -> false);
    assertThat(last.killed()).isFalse();
    FileSystemSink sink = FileSystemSink.of(dir.resolve("archive"));
    List<Sidecar> chain = check(sink, bytes, stable, "final run");
    long end = chain.get(chain.size() - 1).segment().end();
    assertThat(end).as("the last transaction boundary before the last length").isGreaterThan(upTo * 3 / 4)
        .isLessThanOrEqualTo(upTo);
    assertThat(chain).hasSameSizeAs(check(FileSystemSink.of(tmp.resolve("calibration").resolve("archive")), bytes,
        new HashMap<>(), "calibration"));
    long objects = sink.list("db/t0001/segments/").size();
    assertThat(objects).as("one artifact per sidecar after %s", log).isEqualTo(chain.size() * 2L);
  }

  /** The invariants after any kill: one chain from 0, decoding to the file's prefix; sidecar'd segments unchanged. */
  static List<Sidecar> check(FileSystemSink sink, byte[] bytes, Map<String, String> stable, String where)
      throws Exception {
    List<Sidecar> chain = new ArrayList<>();
    Map<String, String> now = TestArchive.snapshot(sink, "db/t0001/segments/");
    for (String key : now.keySet()) {
      if (key.endsWith(".json")) {
        chain.add(Sidecar.parse(Files.readAllBytes(sink.root().resolve(key)), key));
      }
    }
    chain.sort(Comparator.comparingLong(s -> s.segment().start()));
    long end = 0;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (Sidecar s : chain) {
      assertThat(s.segment().start()).as("%s: no gap before %s", where, s.artifact().key()).isEqualTo(end);
      assertThat(now).as("%s: the artifact of a sidecar", where).containsKey(s.artifact().key());
      for (String key : List.of(s.artifact().key(), s.artifact().key().replaceAll("\\.zst$", ".json"))) {
        String before = stable.putIfAbsent(key, now.get(key));
        assertThat(now.get(key)).as("%s: %s never changes once its sidecar exists", where, key)
            .isEqualTo(before == null ? now.get(key) : before);
      }
      ArtifactDecoder.decode(sink, s, null, chunk -> {
        byte[] b = new byte[chunk.remaining()];
        chunk.get(b);
        out.write(b, 0, b.length);
      }, false);
      end = s.segment().end();
    }
    assertThat(out.toByteArray()).as("%s: segments decode to the file's prefix", where)
        .isEqualTo(Arrays.copyOf(bytes, (int) end));
    return chain;
  }

  /** Runs the child, acknowledging each step, and kills it (SIGKILL) at the first step {@code killAt} accepts. */
  static CrashSafetyTest.Outcome run(Path dir, Path binlogs, String lengths,
      java.util.function.Predicate<String> killAt)
      throws Exception {
    Files.createDirectories(dir);
    Path stderr = dir.resolve("child.err");
    Process p = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC", "-Xmx128m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-cp", System.getProperty("java.class.path"), SegmentCrashChild.class.getName(),
        binlogs.toString(), dir.resolve("archive").toString(), dir.resolve("cursor.json").toString(), FILE, lengths)
        .redirectError(stderr.toFile()).start();
    return CrashSafetyTest.runStepping(p, stderr, lines -> killAt.test(lines.get(lines.size() - 1)));
  }
}
