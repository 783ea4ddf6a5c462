package io.binlogarchive.testkit;

import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.restore.VerifyOptions;
import io.binlogarchive.restore.VerifyReport;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoredObject;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store outage in the middle of archiving, against a store module's real test server: a started
 * {@link Archiver} (the agent) archives the fixture chain with zstd + AES-256-GCM, two files in
 * flight; when the upload of {@code mysql-bin.000003}'s artifact reaches the wire (an {@link
 * UploadGate} the module wires into its client or server) the server is stopped; two more binlogs
 * close while it is down; the server comes back on the same port with what it had stored, and the
 * agent catches up on its own.
 *
 * <p>Proven: every cursor commit happened with the file's sidecar and an artifact of the recorded
 * size and SHA-256 already in the store (read from the server's own state, not over the wire, at
 * the moment of the commit); the cursor commits each file once, in order; while the server is down
 * every run fails, naming the store; afterwards the archive verifies in full, every binlog fetches
 * byte for byte, the store holds one artifact and one sidecar per binlog and nothing else, and no
 * upload is left behind. Timing is driven by events (the gate, listener callbacks), never by sleeps.
 *
 * <p>A module runs it with a short subclass that implements {@link #store(Path, UploadGate)}. The
 * binlogs are the ten MariaDB 10.11 files this jar ships.
 */
public abstract class StoreOutageKit {
  private static final Duration DEADLINE = Duration.ofSeconds(120);
  private static final String TARGET = "mysql-bin.000003";
  /** The fixture files the archive starts with (the last is the active one). */
  private static final int INITIAL_FILES = 8;
  /** The fixture files once two more binlogs have closed during the outage. */
  private static final int FINAL_FILES = 10;

  /** A store module's real server, which can be stopped and restarted with its objects kept. */
  protected interface Store extends AutoCloseable {
    /**
     * @param retry the policy the sink retries single store calls with
     * @return the sink under test, talking to the server over the wire
     */
    Sink sink(RetryPolicy retry) throws Exception;

    /** Stops the server at once: requests in flight lose their connection, new ones are refused. */
    void stop() throws Exception;

    /** Starts the stopped server again on the same endpoint, with everything it had stored. */
    void restart() throws Exception;

    /**
     * Reads an object from the server's own state, not over the wire, so it also works while the
     * server is stopped.
     *
     * @param key the key as the sink names it
     * @return its bytes, or null if the store holds no such object
     */
    byte[] storedBytes(String key);

    /** @return the keys of uploads started and neither completed nor aborted (running server) */
    List<String> uploadsLeft() throws Exception;

    /**
     * @return whether an abandoned upload stays behind by design (GCS resumable sessions, which
     *     {@code GcsSink} forgets rather than cancels: no object, discarded by GCS after a week);
     *     then every one left must belong to an artifact that is archived now. Otherwise (S3
     *     multipart uploads, whose parts are billed until aborted) none may be left.
     */
    public default boolean abandonsUploadsByDesign() {
      return false;
    }

    /** @return what every error about the store must name, e.g. {@code s3://bucket/} */
    String location();
  }

  /**
   * Wired by the module into its client or server: told of every upload request (a part, a chunk)
   * with the object's key; holds the first one for {@code mysql-bin.000003}'s artifact until the
   * kit has stopped the server, so that the stop happens while that upload is in flight.
   */
  public static final class UploadGate {
    private final AtomicBoolean armed = new AtomicBoolean(true);
    private final CountDownLatch arrived = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile String heldKey;

    /**
     * Called for each upload request before it is sent (client side) or acted on (server side).
     *
     * @param key the object's key (full keys with a bucket prefix are fine)
     * @return true if this request was held until the server stopped (a server-side hook must then
     *     drop it without acting on it, as a stopped server would)
     */
    public boolean uploading(String key) {
      if (!key.contains("/" + TARGET + ".") || key.endsWith(".json") || !armed.compareAndSet(true, false)) {
        return false;
      }
      heldKey = key;
      arrived.countDown();
      try {
        if (!released.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
          throw new IllegalStateException("the outage test never released the held upload of " + key);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return true;
    }
  }

  /**
   * @param dir a fresh directory the module may keep the server's state in
   * @param gate to be told of every upload request, see {@link UploadGate#uploading(String)}
   * @return the module's server, started, with an empty bucket for the sink
   */
  protected abstract Store store(Path dir, UploadGate gate) throws Exception;

  /** Hears the agent; checks each cursor commit against the store's state at that moment. */
  private static final class Watch implements ArchiveListener {
    final Store store;
    final List<String> committed = new CopyOnWriteArrayList<>();
    final List<String> violations = new CopyOnWriteArrayList<>();
    final List<Throwable> outageFailures = new CopyOnWriteArrayList<>();
    final Semaphore failedRunsWhileDown = new Semaphore(0);
    final Semaphore commits = new Semaphore(0);
    volatile boolean down;

    Watch(Store store) {
      this.store = store;
    }

    @Override
    public void cursorCommitted(Cursor c) {
      committed.add(c.lastSyncedFile());
      String problem = problemWithArchived(store, c);
      if (problem != null) {
        violations.add("cursor moved to " + c.lastSyncedFile() + " but " + problem);
      }
      commits.release();
    }

    @Override
    public void runFinished(RunSummary summary) {
      if (down && summary.failure() != null) {
        outageFailures.add(summary.failure());
        failedRunsWhileDown.release();
      }
    }
  }

  /** @return null if the cursor's file is archived and proven in the store, else what is wrong */
  private static String problemWithArchived(Store store, Cursor c) {
    String sidecarKey = "db1/" + c.timeline() + "/binlog/" + c.lastSyncedFile() + ".json";
    byte[] json = store.storedBytes(sidecarKey);
    if (json == null) {
      return "its sidecar " + sidecarKey + " is not in the store";
    }
    Sidecar s = Sidecar.parse(json, sidecarKey);
    if (!s.sha256().equals(c.sha256Checksum())) {
      return "its sidecar records SHA-256 " + s.sha256() + ", the cursor " + c.sha256Checksum();
    }
    byte[] artifact = store.storedBytes(s.artifact().key());
    if (artifact == null) {
      return "its artifact " + s.artifact().key() + " is not in the store";
    }
    if (artifact.length != s.artifact().size() || !KitSupport.sha256(artifact).equals(s.artifact().sha256())) {
      return "its artifact " + s.artifact().key() + " holds " + artifact.length + " bytes with SHA-256 "
          + KitSupport.sha256(artifact) + ", the sidecar records " + s.artifact().size() + " bytes with SHA-256 "
          + s.artifact().sha256();
    }
    return null;
  }

  /** @return the key the kit encrypts with (a fixed test key) */
  private static KeyProvider keys() {
    byte[] key = new byte[32];
    new java.util.Random(3).nextBytes(key);
    return StaticKeyProvider.builder().key("k1", key).primary("k1").build();
  }

  private static List<String> names(int closed) {
    List<String> out = new ArrayList<>();
    for (int i = 1; i <= closed; i++) {
      out.add(KitSupport.binlogName(i));
    }
    return out;
  }

  private static boolean await(Semaphore s, int permits) throws InterruptedException {
    return s.tryAcquire(permits, DEADLINE.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("a server stopped while an upload is in flight and brought back loses nothing: the cursor never"
      + " passes an unproven file, runs fail naming the store while it is down, and the agent catches up")
  public void survivesServerStopMidUpload(@TempDir Path tmp) throws Exception {
    Path binlogs = KitSupport.copyChain(tmp.resolve("binlogs"), INITIAL_FILES);
    UploadGate gate = new UploadGate();
    // short real backoff: the outage is over when the test restarts the server, not after a wait
    RetryPolicy retry = RetryPolicy.builder().maxAttempts(3).initialBackoff(Duration.ofMillis(10))
        .maxBackoff(Duration.ofMillis(50)).build();
    try (Store store = store(tmp.resolve("server"), gate)) {
      Sink sink = store.sink(retry);
      Watch watch = new Watch(store);
      List<String> closed = names(FINAL_FILES - 1);
      try (Archiver agent = Archiver.builder().source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
          .sink(sink).serverId("db1").cursorFile(tmp.resolve("cursor.json")).compression(Transform.zstd(3))
          .encryption(Transform.aesGcm(keys())).retryPolicy(retry).parallelism(2)
          .pollInterval(Duration.ofMillis(50)).listener(watch).build()) {
        agent.start();

        assertThat(gate.arrived.await(DEADLINE.toSeconds(), TimeUnit.SECONDS))
            .as("the upload of %s's artifact reached the wire", TARGET).isTrue();
        store.stop();
        watch.down = true;
        gate.released.countDown();

        // while it is down, two more binlogs close and the agent keeps failing, cleanly
        for (int i = INITIAL_FILES + 1; i <= FINAL_FILES; i++) {
          String name = KitSupport.binlogName(i);
          KitSupport.copyBinlog(name, binlogs);
          Files.writeString(binlogs.resolve("mysql-bin.index"), "./" + name + "\n", StandardOpenOption.APPEND);
        }
        assertThat(await(watch.failedRunsWhileDown, 3)).as("three runs failed during the outage").isTrue();
        assertThat(watch.outageFailures).allSatisfy(
            f -> assertThat(f).as("a failure during the outage").hasMessageContaining(store.location()));
        assertThat(agent.cursor()).as("the cursor during the outage")
            .hasValueSatisfying(c -> assertThat(c.lastSyncedFile()).isLessThan(TARGET))
            .hasValueSatisfying(c -> assertThat(problemWithArchived(store, c)).isNull());

        watch.down = false;
        store.restart();
        assertThat(await(watch.commits, closed.size()))
            .as("the agent archived every closed binlog after the restart").isTrue();
      }

      assertThat(gate.heldKey).as("the held upload").contains(TARGET);
      assertThat(watch.violations).as("cursor commits of files not proven in the store").isEmpty();
      assertThat(watch.committed).as("cursor commits, in order").containsExactlyElementsOf(closed);
      ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("db1").keyProvider(keys())
          .retryPolicy(RetryPolicy.none()).build();
      VerifyReport verified = reader.verify(VerifyOptions.defaults().withFull());
      assertThat(verified.problems()).isEmpty();
      assertThat(verified.filesChecked()).isEqualTo(closed.size());
      FetchResult fetched = reader.fetch(reader.planFrom(closed.get(0), 4, RestoreTarget.latest()), tmp.resolve("restore"));
      assertThat(fetched.files()).extracting(p -> p.getFileName().toString()).containsExactlyElementsOf(closed);
      for (Path p : fetched.files()) {
        assertThat(Files.mismatch(p, binlogs.resolve(p.getFileName().toString()))).as("%s against the original", p)
            .isEqualTo(-1L);
      }
      List<StoredObject> objects = sink.list("");
      assertThat(objects).as("one artifact and one sidecar per binlog, nothing else").hasSize(2 * closed.size());
      List<String> left = store.uploadsLeft();
      if (store.abandonsUploadsByDesign()) {
        List<String> artifacts = objects.stream().map(StoredObject::key).filter(k -> !k.endsWith(".json")).toList();
        assertThat(left).as("abandoned uploads, each for an artifact archived since")
            .allSatisfy(k -> assertThat(artifacts).anySatisfy(a -> assertThat(k).endsWith(a)));
      } else {
        assertThat(left).as("uploads neither completed nor aborted").isEmpty();
      }
    }
  }
}
