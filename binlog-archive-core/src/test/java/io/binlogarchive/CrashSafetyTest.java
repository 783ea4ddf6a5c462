package io.binlogarchive;

import io.binlogarchive.internal.Json;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.testing.SlowTest;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real archiving JVM ({@link CrashChild}) with SIGKILL at many exact points and checks after
 * each kill that the archive and cursor are consistent, then that an uninterrupted run completes the
 * archive with exactly one artifact and sidecar per closed binlog.
 *
 * <p>The kill points come from a seeded {@link Random}: set {@code -Dcrash.seed=N} to replay a run.
 */
@SlowTest
@CrashTest
@DisplayName("Archiving killed with SIGKILL at any point")
class CrashSafetyTest {
  static final long SEED = Long.getLong("crash.seed", 20240611L);
  static final int KILLS = 22;
  static final List<String> CLOSED = ArchiverTest.names(1, 12);
  static final Map<String, String> ROOTS = Map.of("db-zstd", ".zst", "db-gzip", ".gz");

  @TempDir Path tmp;
  Map<String, byte[]> source = new HashMap<>();

  @Test
  @DisplayName("never leaves a partial object visible, a sidecar without its artifact, or a cursor ahead of the sidecars,"
      + " and a final run completes the archive exactly once")
  void killAtManyPoints() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    for (String n : CLOSED) {
      source.put(n, Files.readAllBytes(binlogs.resolve(n)));
    }
    // An uninterrupted run first: it proves the child works and counts the steps of a whole run.
    Episode calibration = new Episode(tmp.resolve("calibration"), binlogs);
    Outcome full = calibration.run(KillPoint.NEVER);
    assertThat(full.killed).isFalse();
    calibration.checkComplete("calibration");
    int steps = full.lines.size();
    assertThat(steps).as("steps in a whole run").isGreaterThan(100);
    assertThat(full.lines.get(steps - 2)).isEqualTo("cursor-committed db-gzip mysql-bin.000012");

    Random rnd = new Random(SEED);
    // Every kind of step is killed at least once (the n-th step of that kind, n random), and so are
    // both ends: the first write, and after the final cursor commit. Then random line numbers,
    // some past the end of the (shorter) recovery runs, which therefore complete.
    ArrayDeque<KillPoint> forced = new ArrayDeque<>();
    forced.add(KillPoint.line(1));
    forced.add(KillPoint.line(steps - 1));
    forced.add(KillPoint.line(steps));
    for (String kind : List.of("commit", "committed", "cursor-commit", "cursor-committed")) {
      long count = full.lines.stream().filter(l -> l.startsWith(kind + " ")).count();
      forced.add(KillPoint.nth(kind, 1 + rnd.nextInt((int) count)));
    }
    List<String> log = new ArrayList<>();
    int kills = 0;
    int episodes = 0;
    Set<String> killedAfter = new TreeSet<>();
    Episode ep = new Episode(tmp.resolve("episode-" + episodes), binlogs);
    while (kills < KILLS) {
      KillPoint k = forced.isEmpty() ? KillPoint.line(1 + rnd.nextInt(steps + 3)) : forced.peek();
      Outcome o = ep.run(k);
      String where = "seed " + SEED + ", episode " + episodes + ", run " + ep.runs + ", kill " + k
          + (o.killed ? " at line " + o.lines.size() + " (" + o.lines.get(o.lines.size() - 1) + ")"
              : " (ran to completion)");
      log.add(where);
      if (o.killed) {
        if (k == forced.peek()) {
          forced.poll();
        }
        kills++;
        killedAfter.add(o.lines.get(o.lines.size() - 1).split(" ")[0]);
        ep.checkInvariants(where);
      } else {
        ep.checkComplete(where);
        episodes++;
        ep = new Episode(tmp.resolve("episode-" + episodes), binlogs);
      }
    }
    System.out.println("crash runs (" + steps + " steps in a whole run):\n  " + String.join("\n  ", log));
    // the last episode ends with an uninterrupted run
    Outcome last = ep.run(KillPoint.NEVER);
    assertThat(last.killed).isFalse();
    ep.checkComplete("final run, seed " + SEED + ": " + log);
    removeLeftovers(episodes);
    assertThat(killedAfter).as("kinds of kill points: %s", log)
        .contains("write", "commit", "committed", "cursor-commit", "cursor-committed", "exit");
  }

  /**
   * The killed children's temporary files, once old enough, are removed by a sweep (their locks died
   * with them), after which no file but the archive's objects is left.
   */
  void removeLeftovers(int episodes) throws IOException {
    int leftovers = 0;
    int removed = 0;
    for (int i = 0; i <= episodes; i++) {
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("episode-" + i).resolve("archive"));
      Set<String> visible = TestArchive.snapshot(sink, "").keySet();
      for (String f : TestArchive.allFiles(sink.root())) {
        if (!visible.contains(f)) {
          leftovers++;
          Files.setLastModifiedTime(sink.root().resolve(f),
              java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(java.time.Duration.ofHours(1))));
        }
      }
      removed += sink.removeStaleParts("", java.time.Duration.ofMinutes(15));
      assertThat(TestArchive.allFiles(sink.root())).as("episode %d after the sweep", i)
          .containsExactlyInAnyOrderElementsOf(visible);
    }
    System.out.println("crash leftovers: " + leftovers + " temporary file(s), " + removed + " removed by the sweep");
    assertThat(removed).isEqualTo(leftovers);
  }

  /** Where the parent stops reading and kills the child. */
  interface KillPoint {
    KillPoint NEVER = (n, l, kinds) -> false;

    boolean killAt(int lineNo, String line, Map<String, Integer> kindCounts);

    static KillPoint line(int n) {
      return new KillPoint() {
        @Override
        public boolean killAt(int lineNo, String line, Map<String, Integer> kindCounts) {
          return lineNo == n;
        }

        @Override
        public String toString() {
          return "at line " + n;
        }
      };
    }

    static KillPoint nth(String kind, int n) {
      return new KillPoint() {
        @Override
        public boolean killAt(int lineNo, String line, Map<String, Integer> kindCounts) {
          return line.startsWith(kind + " ") && kindCounts.get(kind) == n;
        }

        @Override
        public String toString() {
          return "at the " + n + "th '" + kind + "' step";
        }
      };
    }
  }

  record Outcome(boolean killed, List<String> lines) {}

  /**
   * Reads a stepping child's lines ({@link CrashChild#step}), acknowledging each, and kills it with
   * SIGKILL as soon as {@code kill} accepts the lines so far; otherwise it must exit 0.
   */
  static Outcome runStepping(Process p, Path stderr, java.util.function.Predicate<List<String>> kill)
      throws IOException, InterruptedException {
    List<String> lines = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        OutputStream ack = p.getOutputStream()) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
        if (kill.test(lines)) {
          p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks, no flushing
          assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("killed child exits").isTrue();
          return new Outcome(true, lines);
        }
        ack.write('\n');
        ack.flush();
      }
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(60, TimeUnit.SECONDS);
      }
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("child exit status; stderr:%n%s", Files.readString(stderr)).isZero();
    return new Outcome(false, lines);
  }

  /** One archive (sink and cursors) that child runs are killed on, then completed. */
  final class Episode {
    final Path dir;
    final Path binlogs;
    final FileSystemSink sink;
    int runs;
    /** every visible object ever seen, with its SHA-256: objects never change or disappear */
    final Map<String, String> seen = new LinkedHashMap<>();
    /** artifacts already decoded and compared with their binlog */
    final Set<String> decoded = new TreeSet<>();

    Episode(Path dir, Path binlogs) throws IOException {
      this.dir = dir;
      this.binlogs = binlogs;
      Files.createDirectories(dir.resolve("cursors"));
      this.sink = FileSystemSink.of(dir.resolve("archive"));
    }

    Outcome run(KillPoint kill) throws IOException, InterruptedException {
      runs++;
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Path stderr = dir.resolve("child-" + runs + ".err");
      Process p = new ProcessBuilder(
          java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m", "-Xss512k",
          "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
          "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(),
          binlogs.toString(), dir.resolve("archive").toString(), dir.resolve("cursors").toString())
          .redirectError(stderr.toFile())
          .start();
      Map<String, Integer> kinds = new HashMap<>();
      return runStepping(p, stderr, lines -> {
        String line = lines.get(lines.size() - 1);
        kinds.merge(line.split(" ")[0], 1, Integer::sum);
        return kill.killAt(lines.size(), line, kinds);
      });
    }

    void checkInvariants(String where) throws IOException {
      Map<String, String> now = TestArchive.snapshot(sink, "");
      // nothing visible is ever overwritten or removed
      for (Map.Entry<String, String> e : seen.entrySet()) {
        assertThat(now).as("%s: object %s stays as it was", where, e.getKey()).containsEntry(e.getKey(), e.getValue());
      }
      seen.putAll(now);
      for (String key : now.keySet()) {
        String root = key.substring(0, key.indexOf('/'));
        assertThat(ROOTS).as("%s: unexpected object %s", where, key).containsKey(root);
        String prefix = root + "/t0001/binlog/";
        assertThat(key).as(where).startsWith(prefix);
        String name = key.substring(prefix.length());
        if (name.endsWith(".json")) {
          String file = name.substring(0, name.length() - ".json".length());
          assertThat(CLOSED).as("%s: sidecar for a closed binlog", where).contains(file);
          Sidecar s = Sidecar.parse(Files.readAllBytes(sink.root().resolve(key)), key);
          assertThat(s.file()).isEqualTo(file);
          assertThat(s.sha256()).as(where).isEqualTo(TestArchive.sha256(source.get(file)));
          assertThat(now).as("%s: the artifact of sidecar %s is visible", where, key).containsKey(s.artifact().key());
          assertThat(s.artifact().sha256()).as(where).isEqualTo(now.get(s.artifact().key()));
        } else {
          // every visible artifact, with or without a sidecar, is complete: it decodes to its binlog exactly
          String ext = ROOTS.get(root);
          assertThat(name).as(where).endsWith(ext);
          String file = name.substring(0, name.length() - ext.length());
          assertThat(CLOSED).as("%s: artifact of a closed binlog", where).contains(file);
          if (decoded.add(key)) {
            byte[] plain;
            try {
              plain = TestArchive.decode(sink, key, TestArchive.codec(ext.equals(".zst") ? "zstd" : "gzip"));
            } catch (IOException e) {
              throw new AssertionError(where + ": " + key + " is visible but incomplete: " + e, e);
            }
            assertThat(plain).as("%s: %s decodes to %s byte for byte", where, key, file).isEqualTo(source.get(file));
          }
        }
      }
      for (String root : ROOTS.keySet()) {
        Path cursorFile = dir.resolve("cursors").resolve(root.substring(3) + ".json");
        if (!Files.exists(cursorFile)) {
          continue;
        }
        Cursor c = Json.MAPPER.readValue(Files.readAllBytes(cursorFile), Cursor.class);
        assertThat(c.timeline()).isEqualTo("t0001");
        assertThat(c.sha256Checksum()).as(where).isEqualTo(TestArchive.sha256(source.get(c.lastSyncedFile())));
        for (String n : CLOSED.subList(0, (int) c.sequence())) {
          assertThat(now).as("%s: cursor of %s is at %s, so %s has a sidecar", where, root, c.lastSyncedFile(), n)
              .containsKey(root + "/t0001/binlog/" + n + ".json");
        }
      }
    }

    void checkComplete(String where) throws IOException {
      checkInvariants(where);
      Map<String, String> now = TestArchive.snapshot(sink, "");
      Set<String> expected = new TreeSet<>();
      for (Map.Entry<String, String> root : ROOTS.entrySet()) {
        for (String n : CLOSED) {
          expected.add(root.getKey() + "/t0001/binlog/" + n + root.getValue());
          expected.add(root.getKey() + "/t0001/binlog/" + n + ".json");
        }
        Cursor c = Json.MAPPER.readValue(
            Files.readAllBytes(dir.resolve("cursors").resolve(root.getKey().substring(3) + ".json")), Cursor.class);
        assertThat(c.lastSyncedFile()).as(where).isEqualTo("mysql-bin.000012");
      }
      assertThat(now.keySet()).as("%s: exactly one artifact and one sidecar per closed binlog", where)
          .containsExactlyInAnyOrderElementsOf(expected);
      // no visible leftovers at all: any other file is a hidden temporary upload
      for (String f : TestArchive.allFiles(sink.root())) {
        if (!expected.contains(f)) {
          assertThat(Path.of(f).getFileName().toString()).as("%s: leftover %s", where, f).startsWith(".").endsWith(".part");
        }
      }
    }
  }
}
