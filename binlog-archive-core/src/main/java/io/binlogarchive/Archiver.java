package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.codec.CodecEnvelope;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.agent.AgentSupport;
import io.binlogarchive.internal.agent.ArchiveAgent;
import io.binlogarchive.internal.agent.BinlogRotator;
import io.binlogarchive.internal.agent.DeferredCursorStore;
import io.binlogarchive.internal.agent.SafeListener;
import io.binlogarchive.internal.pipeline.PipelineSettings;
import io.binlogarchive.internal.pipeline.TokenBucket;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.CursorStore;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoreLease;
import io.binlogarchive.store.spi.SettingsProblems;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Archives a MySQL server's closed binary logs to a {@link Sink}, in order, verified, each with a
 * JSON {@link Sidecar}, and moves a crash-safe {@link Cursor} only after both are stored.
 *
 * <pre>{@code
 * try (Archiver archiver = Archiver.builder()
 *     .source(BinlogSource.directory(Path.of("/var/lib/mysql")))
 *     .sink(FileSystemSink.of(Path.of("/backup/binlogs")))
 *     .serverId("db1")
 *     .cursorFile(Path.of("/var/lib/binlog-archive/db1.cursor.json"))
 *     .build()) {
 *   RunSummary summary = archiver.runOnce();
 * }
 * }</pre>
 *
 * <p>An archiver is immutable once built, and building it reads, locks and connects to nothing.
 * Its first {@link #open()}, {@link #runOnce()}, {@link #start()} or {@link #cursor()} runs the
 * {@link Builder#preflight preflight}, if set, and opens the cursor store, taking its lock; the
 * archiver owns the store (and its lock) from then until closed. {@link #runOnce()} may be called
 * repeatedly (by a scheduler), but not concurrently.
 *
 * <p>This class holds what the builder fixed and the public entry points; runs, the background
 * agent and the stop live in {@code internal.agent.ArchiveAgent}, the work of a run in {@code
 * internal.pipeline}, what the runs archived whole (for a segment archiver) in {@code WholeFiles}.
 * Most of its length is {@link Builder}: one documented setter per setting and {@link
 * Builder#build()}'s checks, which an embedder reads in one place.
 */
public final class Archiver implements AutoCloseable {
  /** What a run does with each file. */
  public enum Mode {
    /** Upload, verify, write the sidecar, move the cursor. */
    ARCHIVE,
    /** Plan only: list what would be archived; read nothing but headers, write nothing. */
    DRY_RUN,
    /** The whole pipeline (read, scan, compress, encrypt, upload) but abort instead of commit. */
    SHADOW
  }

  private final BinlogSource source;
  private final Sink sink;
  /** Opened (and locked) on first use, not by the builder. */
  private final DeferredCursorStore cursorStore;
  private final ArchiveLayout layout;
  private final String serverId;
  private final List<Transform> transforms;
  private final Verifier verifier;
  private final RetryPolicy retryPolicy;
  private final ArchiveListener listener;
  private final int parallelism;
  private final int bufferSize;
  private final Mode mode;
  private final boolean failOnChecksumMismatch;
  /** Off only in the scanner-overhead benchmark: the sidecar then has no binlog section. */
  private final boolean scanEvents;
  private final boolean forceNewTimeline;
  private final Clock clock;
  private final TokenBucket bandwidth;
  private final StoreLease lease;
  /** Runs, the background agent and the stop; the fields above are what the builder fixed. */
  private final ArchiveAgent agent;
  private final WholeFiles wholeFiles;

  private Archiver(Builder b) {
    this.source = b.source;
    this.sink = b.sink;
    Runnable check = b.preflightCheck();
    this.cursorStore = b.cursorStore != null ? DeferredCursorStore.of(b.cursorStore, check)
        : DeferredCursorStore.file(b.cursorFile, check);
    this.serverId = b.serverId;
    this.layout = new ArchiveLayout(b.prefix, b.serverId);
    List<Transform> t = new ArrayList<>();
    t.add(b.compression);
    if (b.encryption != null) {
      // the encrypted header authenticates which codec is inside
      t.add(b.encryption instanceof CodecEnvelope e ? e.enclosing(b.compression.id()) : b.encryption);
    }
    this.transforms = List.copyOf(t);
    this.verifier = b.verifier;
    this.retryPolicy = b.retryPolicy;
    this.listener = new SafeListener(b.listener);
    this.parallelism = b.parallelism;
    this.bufferSize = b.bufferSize;
    this.mode = b.mode;
    this.failOnChecksumMismatch = b.failOnChecksumMismatch;
    this.scanEvents = b.scanEvents;
    this.forceNewTimeline = b.forceNewTimeline;
    this.clock = b.clock;
    this.bandwidth = b.bytesPerSecond > 0 ? TokenBucket.of(b.bytesPerSecond) : null;
    BinlogRotator rotator = b.rotateAfter == null ? null
        : new BinlogRotator(b.rotateDataSource, b.rotateAfter, binlogDirectory(b.source), b.clock);
    this.lease = b.lease;
    this.wholeFiles = new WholeFiles(sink, retryPolicy, layout, cursorStore);
    this.agent = new ArchiveAgent(cursorStore, stop -> new PipelineSettings(source, sink, cursorStore, layout, serverId, transforms,
        verifier, retryPolicy, listener, parallelism, bufferSize, mode, failOnChecksumMismatch, scanEvents,
        forceNewTimeline, clock, bandwidth, lease, stop, wholeFiles::archived), b.pollInterval, rotator);
  }

  /** The settings the runs use; a {@link SegmentArchiver} of this archiver uses them too. */
  PipelineSettings settings() {
    return agent.settings();
  }

  /** What the runs have archived whole; a {@link SegmentArchiver} of this archiver asks it. */
  WholeFiles wholeFiles() {
    return wholeFiles;
  }

  /** The timeline the next file goes to, as the next run would choose it. */
  String currentTimeline() throws IOException {
    return agent.nextTimeline();
  }

  /** @return a new builder */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs the {@link Builder#preflight preflight}, if set, and opens the cursor store, taking its
   * lock; does nothing if done before. {@link #runOnce()}, {@link #start()} and {@link #cursor()}
   * do it themselves: call this to find out at once, e.g. when a service starts, whether the server
   * passes and the cursor is free.
   *
   * @return this archiver
   * @throws ArchiveException if the preflight refuses the server, or another archiver holds the cursor
   * @throws IOException if the cursor file cannot be opened
   * @throws IllegalStateException if the archiver is closed
   */
  public Archiver open() throws IOException {
    agent.open();
    return this;
  }

  /**
   * Archives every closed binlog past the cursor, in sequence order, then returns. Files are
   * processed up to {@code parallelism} at a time; the cursor commits strictly in order. The run
   * stops at the first file that fails (after retries) or is not yet closed; files before it stay
   * committed.
   *
   * <p>In {@link Mode#ARCHIVE} on a {@link FileSystemSink} (not one wrapped in another sink), the
   * first run and then a run at most every 15 minutes first removes the temporary files that killed
   * uploads left in this server's archive, as soon as no writer holds them (where the file system
   * refuses locks, once they have gone 15 minutes unmodified; see {@link
   * FileSystemSink#removeStaleParts(String, Duration)}). An agent standing by for the lease does not.
   *
   * @return what the run did; {@link RunSummary#failure()} holds the error that stopped it
   * @throws ArchiveException if the archiver is not yet {@link #open() open} and cannot be opened
   * @throws IllegalStateException if the archiver is closed
   */
  public RunSummary runOnce() {
    return agent.runOnce();
  }

  /**
   * Runs continuously on a background thread: a run now, then one every {@code pollInterval}, and
   * sooner when {@link #wakeUp()} is called (e.g. by a file-system watch of the binlog directory
   * in the caller, or after a rotation). A failed run is logged and reported to the listener; the
   * next one starts after the interval. {@link #close()} stops it gracefully.
   *
   * <p>An {@link Error} (out of memory, a class that cannot be loaded, a failed assertion), whether
   * a sink, the source or the listener throws it, ends the agent instead: it is logged, the listener
   * hears it ({@link ArchiveListener#fileFailed} for the file it stopped, then {@link
   * ArchiveListener#runFinished} with the error as the summary's failure), and the returned future
   * completes exceptionally with it. The agent does not go on in a JVM that may be broken; the
   * caller decides whether to exit or {@link #close()} and build a new archiver.
   *
   * @return completes normally when the agent stops after {@link #close()}, exceptionally with the
   *     error that ended it otherwise; completing or cancelling it does not stop the agent
   * @throws ArchiveException if the archiver is not yet {@link #open() open} and cannot be opened
   *     (checked here, before the agent's thread starts)
   * @throws IllegalStateException if already started or closed
   */
  public CompletableFuture<Void> start() {
    return agent.start();
  }

  /** Asks a started archiver to run now instead of waiting for the poll interval. */
  public void wakeUp() {
    agent.wakeUp();
  }

  /**
   * @return the committed cursor, or empty before the first commit
   * @throws ArchiveException if the archiver is not yet {@link #open() open} and cannot be opened
   * @throws IOException if it cannot be read
   */
  public Optional<Cursor> cursor() throws IOException {
    return cursorStore.load();
  }

  /** @return the sink this archiver writes to */
  public Sink sink() {
    return sink;
  }

  /**
   * Stops gracefully and releases the cursor lock (if it was taken): no new file is started, files in flight finish
   * (or fail and abort their uploads), the cursor stays consistent. The sink and source stay open
   * (they belong to the caller).
   */
  @Override
  public void close() throws IOException {
    agent.close();
  }

  private static java.nio.file.Path binlogDirectory(BinlogSource source) {
    return source.localDirectory().orElse(null);
  }

  @Override
  public String toString() {
    return "Archiver[" + source.describe() + " -> " + sink.describe() + ", server " + serverId + ", " + transforms
        + ", parallelism " + parallelism + ", " + mode + "]";
  }

  /**
   * Builds an {@link Archiver}. Setters reject bad values at once; {@link #build()} reports every
   * missing or conflicting setting in one error.
   */
  public static final class Builder {
    private BinlogSource source;
    private Sink sink;
    private CursorStore cursorStore;
    private Path cursorFile;
    private String prefix = "";
    private String serverId;
    private Transform compression = Transform.zstd(3, Math.min(2, Runtime.getRuntime().availableProcessors()));
    private Transform encryption;
    private Verifier verifier = Verifier.storeChecksums();
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private ArchiveListener listener = ArchiveListener.NONE;
    private int parallelism = 1;
    private int bufferSize = 1 << 20;
    private Mode mode = Mode.ARCHIVE;
    private boolean failOnChecksumMismatch = true;
    private boolean scanEvents = true;
    private boolean forceNewTimeline;
    private Clock clock = Clock.systemUTC();
    private Duration pollInterval = Duration.ofSeconds(10);
    private long bytesPerSecond;
    private long memoryBudget;
    private Duration rotateAfter;
    private javax.sql.DataSource rotateDataSource;
    private javax.sql.DataSource preflightDataSource;
    private Preflight.OnProblem preflightOnProblem;
    private StoreLease lease;
    // what the last build() handed over: an archiver owns (and closes) its cursor store and lease
    private CursorStore ownedStore;
    private StoreLease ownedLease;

    private Builder() {}

    /**
     * Bounds the recovery point: before each run, if the server's active binlog holds a transaction
     * older than {@code maxAge}, runs {@code FLUSH BINARY LOGS} through {@code dataSource} (needs
     * RELOAD or BINLOG ADMIN), so the file closes and is archived in that run. A started archiver
     * also wakes up when the oldest transaction reaches the limit. No committed transaction waits
     * longer than {@code maxAge} plus one poll interval plus one upload. An empty active file is
     * never rotated. Needs a source with a binlog directory.
     *
     * @param maxAge the oldest a transaction may get in the active binlog, at least 1 s
     * @param dataSource the caller's pool, for {@code SHOW MASTER STATUS} and {@code FLUSH BINARY LOGS}
     * @return this builder
     */
    public Builder rotateWhenOlderThan(Duration maxAge, javax.sql.DataSource dataSource) {
      Objects.requireNonNull(maxAge, "maxAge");
      if (maxAge.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("rotateWhenOlderThan must be at least 1 s, got " + maxAge);
      }
      this.rotateAfter = maxAge;
      this.rotateDataSource = Objects.requireNonNull(dataSource, "dataSource");
      return this;
    }

    /**
     * @param bytesPerSecond the most the archiver uploads per second, all files in flight together
     *     (default unlimited), so archiving never starves the database host's network
     * @return this builder
     */
    public Builder maxUploadBytesPerSecond(long bytesPerSecond) {
      if (bytesPerSecond < 1024) {
        throw new IllegalArgumentException("maxUploadBytesPerSecond must be at least 1024, got " + bytesPerSecond);
      }
      this.bytesPerSecond = bytesPerSecond;
      return this;
    }

    /**
     * Caps the heap the pipeline's buffers may take: {@code parallelism x (bufferSize +}
     * {@link Sink#bufferedBytesPerUpload()}{@code )} must fit, or {@link #build()} fails saying what
     * to lower. (Codec state, e.g. zstd windows, is native memory and not counted.)
     *
     * @param bytes the budget, positive
     * @return this builder
     */
    public Builder memoryBudget(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("memoryBudget must be positive, got " + bytes);
      }
      this.memoryBudget = bytes;
      return this;
    }

    /**
     * Checks the server's settings when the archiver is opened, by its first {@link Archiver#open()},
     * {@link Archiver#runOnce()} or {@link Archiver#start()}, not by {@link #build()} (see {@link
     * Preflight}): log_bin,
     * binlog_format=ROW, sync_binlog=1, binlog retention of at least twice the worst-case lag
     * (rotation age + poll interval + retry budget), a server identity.
     *
     * @param dataSource the caller's pool
     * @param onProblem warn and go on, or refuse to open
     * @return this builder
     */
    public Builder preflight(javax.sql.DataSource dataSource, Preflight.OnProblem onProblem) {
      this.preflightDataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.preflightOnProblem = Objects.requireNonNull(onProblem, "onProblem");
      return this;
    }

    /**
     * Makes this archiver one of several agents for the same archive of which one writes at a time:
     * each run first acquires (or keeps) the lease and stands by if another agent holds it; a lost
     * lease stops the run before its next file. The archiver takes ownership and releases the lease
     * on {@link Archiver#close()}.
     *
     * @param lease a lease on this archive's store
     * @return this builder
     */
    public Builder lease(StoreLease lease) {
      this.lease = Objects.requireNonNull(lease, "lease");
      return this;
    }

    /**
     * @param interval how often a {@link Archiver#start() started} archiver looks for closed binlogs
     *     (default 10 s)
     * @return this builder
     */
    public Builder pollInterval(Duration interval) {
      Objects.requireNonNull(interval, "pollInterval");
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("pollInterval must be positive, got " + interval);
      }
      this.pollInterval = interval;
      return this;
    }

    /**
     * @param source where the binlogs are listed (required)
     * @return this builder
     */
    public Builder source(BinlogSource source) {
      this.source = Objects.requireNonNull(source, "source");
      return this;
    }

    /**
     * @param sink where the archive lives (required)
     * @return this builder
     */
    public Builder sink(Sink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
      return this;
    }

    /**
     * @param store the cursor store; the archiver takes ownership and closes it (this or {@link
     *     #cursorFile(Path)} is required)
     * @return this builder
     */
    public Builder cursorStore(CursorStore store) {
      this.cursorStore = Objects.requireNonNull(store, "cursorStore");
      return this;
    }

    /**
     * @param file a JSON cursor file, opened and locked when the archiver is {@link Archiver#open()
     *     opened} (not by {@link #build()}) and until it is closed
     * @return this builder
     */
    public Builder cursorFile(Path file) {
      this.cursorFile = Objects.requireNonNull(file, "cursorFile");
      return this;
    }

    /**
     * @param prefix key prefix in the sink, e.g. {@code prod/mysql} (default none)
     * @return this builder
     */
    public Builder prefix(String prefix) {
      this.prefix = ArchiveLayout.normalizePrefix(Objects.requireNonNull(prefix, "prefix"));
      return this;
    }

    /**
     * @param serverId names this server's archive, e.g. its {@code @@server_uuid} or a host name
     *     (required; letters, digits and {@code . _ : -})
     * @return this builder
     */
    public Builder serverId(String serverId) {
      new ArchiveLayout("", Objects.requireNonNull(serverId, "serverId"));
      this.serverId = serverId;
      return this;
    }

    /**
     * @param compression {@link Transform#zstd(int)} (default level 3), {@link Transform#gzip(int)},
     *     {@link Transform#none()}, or a codec of your own: the read-back verifier decodes with this very
     *     transform; give it to the reader as well ({@code ArchiveReader.Builder.codec(...)}), which
     *     finds it by the id each sidecar records
     * @return this builder
     */
    public Builder compression(Transform compression) {
      this.compression = Objects.requireNonNull(compression, "compression");
      return this;
    }

    /**
     * @param encryption an encrypting transform applied after compression, or null for none
     * @return this builder
     */
    public Builder encryption(Transform encryption) {
      this.encryption = encryption;
      return this;
    }

    /**
     * @param verifier the proof required before the sidecar is written (default store checksums)
     * @return this builder
     */
    public Builder verifier(Verifier verifier) {
      this.verifier = Objects.requireNonNull(verifier, "verifier");
      return this;
    }

    /**
     * @param policy how failed store calls and uploads are retried
     * @return this builder
     */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy, "retryPolicy");
      return this;
    }

    /**
     * @param listener told of every file and cursor event
     * @return this builder
     */
    public Builder listener(ArchiveListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * @param n files in flight at once, 1 to 64 (default 1); the cursor still commits in order. This
     *     is also the pipeline's queue bound: a file is opened only when a slot is free, so at most
     *     {@code n} files (and {@code n} read buffers) are in memory, however far behind the archive is
     * @return this builder
     */
    public Builder parallelism(int n) {
      if (n < 1 || n > 64) {
        throw new IllegalArgumentException("parallelism must be 1..64, got " + n);
      }
      this.parallelism = n;
      return this;
    }

    /**
     * @param bytes read buffer per file in flight, 4 KiB to 16 MiB (default 1 MiB)
     * @return this builder
     */
    public Builder bufferSize(int bytes) {
      if (bytes < 4096 || bytes > 16 << 20) {
        throw new IllegalArgumentException("bufferSize must be 4 KiB..16 MiB, got " + bytes);
      }
      this.bufferSize = bytes;
      return this;
    }

    /**
     * @param mode archive (default), dry run or shadow
     * @return this builder
     */
    public Builder mode(Mode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** Benchmarks only: skip the event scan after the header (no CRC, GTID or closed checks). */
    Builder scanEventsForBenchmark(boolean scan) {
      this.scanEvents = scan;
      return this;
    }

    /**
     * @param fail fail a file on an event CRC32 mismatch (default) or only count it in the sidecar
     * @return this builder
     */
    public Builder failOnChecksumMismatch(boolean fail) {
      this.failOnChecksumMismatch = fail;
      return this;
    }

    /**
     * Starts a new timeline for the next file even though the sequence did not go backwards, e.g.
     * after a server was rebuilt under the same binlog names. The old timeline stays intact.
     *
     * @return this builder
     */
    public Builder newTimeline() {
      this.forceNewTimeline = true;
      return this;
    }

    /**
     * @param clock the clock for sidecar and cursor times
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** @return what {@link Archiver#open()} checks first: the preflight, or nothing */
    private Runnable preflightCheck() {
      if (preflightDataSource == null) {
        return () -> {};
      }
      javax.sql.DataSource ds = preflightDataSource;
      Preflight.OnProblem onProblem = preflightOnProblem;
      Duration worstCaseLag = (rotateAfter == null ? Duration.ZERO : rotateAfter).plus(pollInterval)
          .plus(retryPolicy.maxElapsed());
      return () -> AgentSupport.preflight(ds, onProblem, worstCaseLag);
    }

    /**
     * Checks the settings and builds the archiver, without any I/O: the preflight, the cursor file
     * and its lock wait for the archiver's {@link Archiver#open()} (or its first run or start).
     *
     * @return the archiver, not yet open
     * @throws IllegalArgumentException listing every missing or conflicting setting
     * @throws IllegalStateException if the {@link #cursorStore(CursorStore) cursor store} or {@link
     *     #lease(StoreLease) lease} was already handed to an archiver this builder built: each
     *     archiver owns its own
     */
    public Archiver build() {
      SettingsProblems problems = new SettingsProblems()
          .unless(source != null, "source is required")
          .unless(sink != null, "sink is required")
          .unless(serverId != null, "serverId is required")
          .unless(cursorStore != null || cursorFile != null, "a cursorStore or cursorFile is required")
          .unless(cursorStore == null || cursorFile == null, "set either cursorStore or cursorFile, not both")
          .unless(encryption == null || !encryption.id().equals(compression.id()),
              "encryption and compression are the same transform");
      if (memoryBudget > 0 && sink != null) {
        long perFile = bufferSize + sink.bufferedBytesPerUpload();
        if ((long) parallelism * perFile > memoryBudget) {
          problems.add("memoryBudget " + memoryBudget + " bytes cannot hold parallelism " + parallelism + " x (buffer "
              + bufferSize + " + sink buffering " + sink.bufferedBytesPerUpload() + ") = " + parallelism * perFile
              + " bytes; lower parallelism to " + Math.max(1, memoryBudget / perFile)
              + (memoryBudget < perFile ? " and bufferSize, " : ", ") + "or raise the budget");
        }
      }
      problems.unless(rotateAfter == null || source == null || binlogDirectory(source) != null,
              "rotateWhenOlderThan needs a source with a binlog directory (BinlogSource.directory, indexFile or"
                  + " showBinaryLogs)")
          .throwIfAny(all -> new IllegalArgumentException("invalid archiver settings: " + all));
      List<String> owned = new ArrayList<>();
      if (cursorStore != null && cursorStore == ownedStore) {
        owned.add("cursorStore");
      }
      if (lease != null && lease == ownedLease) {
        owned.add("lease");
      }
      if (!owned.isEmpty()) {
        throw new IllegalStateException("cannot build a second archiver from this builder: its "
            + String.join(" and ", owned) + " belong to the archiver built before (which closes them); give"
            + " this builder new ones (" + String.join(", ", owned.stream().map(o -> o + "(...)").toList())
            + ") or use cursorFile, which each archiver opens for itself");
      }
      Archiver built = new Archiver(this);
      ownedStore = cursorStore;
      ownedLease = lease;
      return built;
    }
  }
}
