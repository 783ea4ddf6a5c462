package io.binlogarchive.store;

import io.binlogarchive.testing.CrashTest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only the local-directory sink does (temporary files, key checks, directories). The sink
 * contract itself is checked by {@code FileSystemSinkCompatibilityTest} in binlog-archive-testkit,
 * which depends on core and so cannot be a test dependency of core.
 */
@DisplayName("FileSystemSink")
public class FileSystemSinkTest {
  @TempDir Path dir;
  Sink sink;

  @BeforeEach
  void openSink() {
    sink = FileSystemSink.of(dir.resolve("archive"));
  }

  @AfterEach
  void closeSink() throws IOException {
    sink.close();
  }

  StoredObject put(String key, byte[] data) throws IOException {
    try (SinkWriter w = sink.create(key, Map.of())) {
      w.write(data);
      return w.commit();
    }
  }

  @Test
  @DisplayName("keeps an uncommitted upload under a hidden temporary name only")
  void noPartialUnderFinalName() throws IOException {
    try (SinkWriter w = sink.create("a/b/obj", Map.of())) {
      w.write(new byte[1000]);
      Path archive = dir.resolve("archive");
      assertThat(Files.exists(archive.resolve("a/b/obj"))).isFalse();
      try (Stream<Path> files = Files.list(archive.resolve("a/b"))) {
        assertThat(files.map(p -> p.getFileName().toString()))
            .singleElement()
            .satisfies(n -> assertThat(n).startsWith(".obj.").endsWith(".part"));
      }
    }
    assertThat(dir.resolve("archive/a")).as("the aborted upload's directories").doesNotExist();
  }

  @Test
  @DisplayName("rejects keys that would escape its root")
  void rejectsEscapingKeys() {
    for (String bad : new String[] {"../x", "a/../../x", "/abs", "a//b", "a/./b", ""}) {
      assertThatThrownBy(() -> sink.create(bad, Map.of())).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  FileSystemSink fs() {
    return (FileSystemSink) sink;
  }

  /** Plants a temporary file as a killed writer of {@code key} leaves it, last modified {@code age} ago. */
  Path plantPart(String key, Duration age) throws IOException {
    Path target = fs().root().resolve(key);
    Path part = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".part");
    Files.createDirectories(part.getParent());
    Files.write(part, new byte[4096]);
    Files.setLastModifiedTime(part, FileTime.from(Instant.now().minus(age)));
    return part;
  }

  public static List<Path> directoriesBelow(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> !p.equals(root) && Files.isDirectory(p)).toList();
    }
  }

  static Path onlyPart(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".part")).findFirst().orElseThrow();
    }
  }

  @Nested
  @DisplayName("temporary files left by killed writers")
  class StaleParts {
    static final Duration AGE = Duration.ofMinutes(15);

    @Test
    @DisplayName("are removed whatever their age once no writer holds them; objects and the lock file stay")
    void abandonedGoWhateverTheirAge() throws IOException {
      Path stale = plantPart("a/b/obj", Duration.ofHours(2));
      Path fresh = plantPart("a/b/obj", Duration.ofMinutes(5));
      put("a/b/obj", new byte[] {1});
      Path lock = fs().root().resolve(io.binlogarchive.store.ConditionalWrites.LOCK_FILE);
      Files.write(lock, new byte[0]);
      Files.setLastModifiedTime(lock, FileTime.from(Instant.now().minus(Duration.ofDays(3))));

      assertThat(fs().removeStaleParts("", AGE)).isEqualTo(2);

      assertThat(stale).doesNotExist();
      assertThat(fresh).as("modified 5 minutes ago, but its writer is gone").doesNotExist();
      assertThat(lock).exists();
      assertThat(sink.stat("a/b/obj")).isPresent();
    }

    @Test
    @DisplayName("are removed only below the given prefix")
    void onlyBelowPrefix() throws IOException {
      Path mine = plantPart("db1/t0001/binlog/mysql-bin.000001.zst", Duration.ofHours(2));
      Path other = plantPart("db2/t0001/binlog/mysql-bin.000001.zst", Duration.ofHours(2));

      assertThat(fs().removeStaleParts("db1/", AGE)).isEqualTo(1);

      assertThat(mine).doesNotExist();
      assertThat(other).exists();
    }

    @Test
    @DisplayName("take their directories with them when nothing else is left there")
    void emptyDirectoriesGo() throws IOException {
      plantPart("db1/t0002/binlog/mysql-bin.000001.zst", Duration.ofHours(2));
      put("db1/t0001/binlog/mysql-bin.000001.zst", new byte[] {1});

      fs().removeStaleParts("", AGE);

      assertThat(directoriesBelow(fs().root()))
          .containsExactlyInAnyOrder(fs().root().resolve("db1"), fs().root().resolve("db1/t0001"),
              fs().root().resolve("db1/t0001/binlog"));
    }

    @Test
    @DisplayName("are never removed while a writer in this JVM holds them, however old they look")
    void liveWriterInThisJvm() throws IOException {
      try (SinkWriter w = sink.create("a/b/obj", Map.of())) {
        w.write(new byte[] {1, 2, 3});
        Path part = onlyPart(fs().root().resolve("a/b"));
        Files.setLastModifiedTime(part, FileTime.from(Instant.now().minus(Duration.ofDays(1))));

        assertThat(fs().removeStaleParts("", AGE)).isZero();

        assertThat(part).exists();
        w.commit();
      }
      try (var in = sink.open("a/b/obj")) {
        assertThat(in.readAllBytes()).containsExactly(1, 2, 3);
      }
    }

    @CrashTest
    @Test
    @DisplayName("are never removed while a writer in another process holds them, and are once it was killed")
    void liveWriterInAnotherProcess() throws Exception {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process child = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
          PartWriterChild.class.getName(), fs().root().toString(), "a/b/obj")
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try {
        BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        assertThat(r.readLine()).isEqualTo("writing");
        Path part = onlyPart(fs().root().resolve("a/b"));
        Files.setLastModifiedTime(part, FileTime.from(Instant.now().minus(Duration.ofDays(1))));

        assertThat(fs().removeStaleParts("", AGE)).as("the writer is alive").isZero();
        assertThat(part).exists();

        child.destroyForcibly(); // SIGKILL: its lock dies with it, its part file stays
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(part).exists();
        assertThat(fs().removeStaleParts("", AGE)).as("the writer was killed").isEqualTo(1);
        assertThat(part).doesNotExist();
      } finally {
        child.destroyForcibly();
      }
    }

    @Test
    @DisplayName("are swept only with an age of at least one minute")
    void rejectsShortAge() {
      assertThatThrownBy(() -> fs().removeStaleParts("", Duration.ofSeconds(59)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one minute");
    }
  }

  @Nested
  @DisplayName("an aborted upload")
  class AbortedUpload {
    @Test
    @DisplayName("removes the directories it created")
    void removesItsDirectories() throws IOException {
      put("a/keep", new byte[] {1});
      SinkWriter w = sink.create("a/b/c/obj", Map.of());
      w.write(new byte[100]);
      assertThat(fs().root().resolve("a/b/c")).isDirectory();

      w.abort();

      assertThat(directoriesBelow(fs().root())).containsExactly(fs().root().resolve("a"));
    }

    @Test
    @DisplayName("keeps a directory that a writer of a sibling key still uses, and that writer commits")
    void keepsSiblingsDirectory() throws IOException {
      SinkWriter aborted = sink.create("a/b/one", Map.of());
      try (SinkWriter sibling = sink.create("a/b/two", Map.of())) {
        aborted.abort();
        sibling.write(new byte[] {7});
        sibling.commit();
      }
      assertThat(sink.list("a/")).extracting(StoredObject::key).containsExactly("a/b/two");
    }

    @Test
    @DisplayName("never makes a concurrent writer of a sibling key fail by removing its directory")
    void concurrentSiblings() throws Exception {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<?>> all = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          int thread = t;
          all.add(pool.submit(() -> {
            for (int i = 0; i < 300; i++) {
              try (SinkWriter w = sink.create("x/y/z/k-" + thread + "-" + i, Map.of())) {
                w.write(new byte[] {1});
                w.abort();
              }
            }
            return null;
          }));
        }
        for (Future<?> f : all) {
          f.get(60, TimeUnit.SECONDS); // throws if a create failed
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(directoriesBelow(fs().root())).isEmpty();
    }
  }
}
