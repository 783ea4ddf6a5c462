package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoreLease;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.ForwardingSink;
import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
 *
 * <p>No real-time ttl decides anything, so a loaded machine cannot make the standby take over from
 * a live holder. The holder's ttl is long (it never fences itself here); it renews often. The
 * standby measures expiry on a clock this test moves: while the holder lives, only by a fifth of
 * the ttl each time the test sees a renewal land, so however the threads are scheduled the standby
 * never sees one version for a whole ttl (at most three steps fall within one version's life); yet
 * its clock moves by many ttls in all, which a standby that ignored renewals would take for
 * expiry. After the kill nothing renews, and the test moves the clock until the standby takes over.
 */
@CrashTest
@DisplayName("Two agents sharing an archive through a store lease")
class LeaseHandOverTest {
  @TempDir Path tmp;
  /** The standby's ttl, on its test-driven clock. */
  static final Duration TTL = Duration.ofSeconds(2);
  /** The holder's ttl and renewal interval, real time: it never fences itself in this test. */
  static final Duration HOLDER_TTL = Duration.ofMinutes(10);
  static final Duration HOLDER_RENEWAL = Duration.ofMillis(100);
  /** The standby's clock; it moves only when the test moves it. */
  final AtomicLong standbyNanos = new AtomicLong(1_000_000_000L);
  /** The standby's clock at each of its polls that stood by. */
  final List<Long> standbyPolls = new CopyOnWriteArrayList<>();

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
    String leaseKey = StoreLease.keyFor("", "db1");
    StoreLease leaseB = StoreLease.builder(counting, leaseKey).holderId("agent-B").ttl(TTL)
        .nanoTime(standbyNanos::get).build();
    try {
      awaitTrue("agent A archives 000003", Duration.ofSeconds(60), () -> sidecar(archive, 3));
      try (Archiver b = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(counting).serverId("db1")
          .cursorFile(tmp.resolve("b.cursor.json")).pollInterval(Duration.ofMillis(200)).lease(leaseB)
          .listener(new ArchiveListener() {
            @Override
            public void standingBy(String key, String holder) {
              standbyPolls.add(standbyNanos.get());
            }
          }).build()) {
        b.start();
        addFiles(binlogs, 6, 9);
        moveStandbyClockWithRenewals(fs, leaseKey, () -> sidecar(archive, 8) && standbyClockSpan() > 3 * TTL.toNanos());
        assertThat(leaseB.currentHolder()).get().extracting(StoreLease.Holder::holder).isEqualTo("agent-A");
        assertThat(leaseB.isHeld()).isFalse();
        addFiles(binlogs, 10, 13);
        child.destroyForcibly(); // SIGKILL: no release, maybe a half-written .part
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(standbyWrites.get()).as("archive writes by the standby while A held the lease").isZero();
        // nothing renews now: half a ttl after each poll B stands by, until B has seen A's last
        // version unrenewed for a whole ttl and taken over. A holder polls no more, so the clock
        // moves at most half a ttl after B's takeover began: B does not fence itself.
        int[] polls = {standbyPolls.size()};
        awaitTrue("agent B takes the lease over", Duration.ofSeconds(60), () -> {
          if (standbyPolls.size() > polls[0]) {
            polls[0] = standbyPolls.size();
            standbyNanos.addAndGet(TTL.toNanos() / 2);
          }
          return leaseB.isHeld();
        });
        awaitTrue("agent B archives 000012", Duration.ofSeconds(60), () -> sidecar(archive, 12));
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
        binlogs.toString(), archive.toString(), cursor.toString(), holder, Long.toString(HOLDER_TTL.toMillis()), "262144",
        Long.toString(HOLDER_RENEWAL.toMillis()))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /**
   * Moves the standby's clock by a fifth of its ttl each time the lease object's version changes
   * (the holder renewed), until {@code done}.
   */
  private void moveStandbyClockWithRenewals(Sink store, String leaseKey, BooleanSupplier done) {
    String[] seen = {null};
    awaitTrue("the holder archives on while the standby's clock passes several ttls", Duration.ofSeconds(60), () -> {
      String now;
      try {
        now = store.stat(leaseKey).map(StoredObject::version).orElse(null);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      if (now != null && !now.equals(seen[0])) {
        seen[0] = now;
        standbyNanos.addAndGet(TTL.toNanos() / 5);
      }
      return done.getAsBoolean();
    });
  }

  /** @return how far the standby's clock moved between its first and its last poll that stood by */
  private long standbyClockSpan() {
    return standbyPolls.isEmpty() ? 0 : standbyPolls.get(standbyPolls.size() - 1) - standbyPolls.get(0);
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
