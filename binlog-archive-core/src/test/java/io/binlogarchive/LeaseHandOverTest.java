package io.binlogarchive;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two agents for one server on one FileSystemSink archive, each with its own cursor: one in a child
 * JVM (killed with SIGKILL while it holds the lease and uploads), one in this JVM.
 */
@DisplayName("Two agents sharing an archive through a store lease")
class LeaseHandOverTest {
  @TempDir Path tmp;
  static final Duration TTL = Duration.ofSeconds(2);

  @Test
  @DisplayName("write one at a time: the standby writes nothing while the holder lives, and takes over after a kill -9 with nothing lost or duplicated")
  void handOverAcrossKill() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 5);
    Path archive = tmp.resolve("archive");
    FileSystemSink fs = FileSystemSink.of(archive);
    Process child = startChild(binlogs, archive, tmp.resolve("a.cursor.json"), "agent-A");
    AtomicLong standbyWrites = new AtomicLong();
    Sink counting = new ForwardingSink(fs) {
      @Override
      public SinkWriter create(String key, java.util.Map<String, String> metadata) throws java.io.IOException {
        if (key.contains("/binlog/")) {
          standbyWrites.incrementAndGet();
        }
        return super.create(key, metadata);
      }

      @Override
      public boolean supportsConditionalWrites() {
        return true;
      }

      @Override
      public StoredObject replace(String key, String expectedVersion, byte[] content) throws java.io.IOException {
        return fs.replace(key, expectedVersion, content);
      }

      @Override
      public void delete(String key, String expectedVersion) throws java.io.IOException {
        fs.delete(key, expectedVersion);
      }
    };
    StoreLease leaseB = StoreLease.builder(counting, StoreLease.keyFor("", "db1")).holderId("agent-B").ttl(TTL).build();
    try {
      awaitTrue("agent A archives 000003", Duration.ofSeconds(60), () -> sidecar(archive, 3));
      try (Archiver b = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(counting).serverId("db1")
          .cursorFile(tmp.resolve("b.cursor.json")).pollInterval(Duration.ofMillis(200)).lease(leaseB).build()) {
        b.start();
        addFiles(binlogs, 6, 9);
        awaitTrue("agent A archives 000008", Duration.ofSeconds(60), () -> sidecar(archive, 8));
        assertThat(leaseB.currentHolder()).get().extracting(StoreLease.Holder::holder).isEqualTo("agent-A");
        addFiles(binlogs, 10, 13);
        child.destroyForcibly(); // SIGKILL: no release, maybe a half-written .part
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(standbyWrites.get()).as("archive writes by the standby while A held the lease").isZero();
        long killedAt = System.nanoTime();
        awaitTrue("agent B archives 000012", Duration.ofSeconds(60), () -> sidecar(archive, 12));
        long tookOverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        System.out.printf("lease hand-over: B archived 000012 %d ms after A was killed (ttl %d ms)%n", tookOverMs,
            TTL.toMillis());
        assertThat(leaseB.isHeld()).isTrue();
        assertThat(standbyWrites.get()).isPositive();
      }
    } finally {
      child.destroyForcibly();
    }
    // nothing lost or duplicated: one timeline, one artifact and one sidecar per closed binlog, matching
    ArchiveCatalog catalog = ArchiveCatalog.of(fs, "", "db1");
    assertThat(catalog.timelines()).containsExactly("t0001");
    List<String> expected = new ArrayList<>();
    for (int i = 1; i <= 12; i++) {
      expected.add(String.format("mysql-bin.%06d", i));
    }
    List<Sidecar> sidecars = catalog.sidecars("t0001");
    assertThat(sidecars).extracting(Sidecar::file).containsExactlyElementsOf(expected);
    for (Sidecar s : sidecars) {
      assertThat(s.sha256()).isEqualTo(Digests.hex(Digests.sha256().digest(Files.readAllBytes(binlogs.resolve(s.file())))));
    }
    assertThat(catalog.objects("t0001")).filteredOn(o -> !o.key().endsWith(".json")).hasSize(12);
    assertThat(leaseB.currentHolder()).as("released on close").isEmpty();
  }

  private Process startChild(Path binlogs, Path archive, Path cursor, String holder) throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path log = tmp.resolve(holder + ".log");
    // 256 KiB/s: each ~160 KiB compressed fixture takes over half a second, so A is likely mid-upload when killed
    return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m", "-cp",
        cp.replace(File.pathSeparatorChar == ':' ? ";" : ":", File.pathSeparator), LeaseAgentMain.class.getName(),
        binlogs.toString(), archive.toString(), cursor.toString(), holder, Long.toString(TTL.toMillis()), "262144")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static boolean sidecar(Path archive, int seq) {
    try (Stream<Path> s = Files.walk(archive)) {
      String name = String.format("mysql-bin.%06d.json", seq);
      return s.anyMatch(p -> p.getFileName().toString().equals(name));
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return false;
    }
  }

  private static void addFiles(Path binlogs, int from, int to) throws Exception {
    for (int i = from; i <= to; i++) {
      String name = String.format("mysql-bin.%06d", i);
      Files.copy(Fixtures.chain().resolve(name), binlogs.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      Files.writeString(binlogs.resolve("mysql-bin.index"), "./" + name + "\n", StandardOpenOption.APPEND);
    }
  }

  private static void awaitTrue(String what, Duration limit, BooleanSupplier condition) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + limit + " waiting until " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }
}
