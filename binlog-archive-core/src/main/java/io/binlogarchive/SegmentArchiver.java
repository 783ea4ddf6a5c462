package io.binlogarchive;

import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.internal.Segments;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.internal.pipeline.ArchivePipeline;
import io.binlogarchive.internal.pipeline.ArtifactWriter;
import io.binlogarchive.internal.pipeline.PipelineSettings;
import io.binlogarchive.store.StoreLease;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a binlog durable in the store while the server is still writing it: bytes {@code [a, b)}
 * of the open file that end on a transaction boundary become an immutable <em>segment</em>, every
 * {@link Builder#interval(Duration) interval} or sooner once {@link Builder#maxBytes(long)} bytes
 * are waiting. The files are read from a local directory that a live source fills (the server's
 * binlogs rebuilt byte for byte, or the server's own binlog directory).
 *
 * <pre>{@code
 * try (Archiver archiver = Archiver.builder().source(BinlogSource.directory(spool))...build();
 *     SegmentArchiver live = SegmentArchiver.builder(archiver).directory(spool).build()) {
 *   live.start();
 *   // the live source, after each transaction it has written and synced:
 *   live.durable("mysql-bin.000042", 123456);
 * }
 * }</pre>
 *
 * <p>A segment goes through the same path as a whole binlog (the archiver's compression,
 * encryption, {@link Verifier} and retry policy) to {@code
 * <prefix>/<server-id>/<timeline>/segments/<file>.<start, 20 digits><ext>}, and its {@link
 * Sidecar} (with {@link Sidecar#segment()} set) is written only after it is proven. The live
 * position, the end of the newest segment with a sidecar, moves only then; the archiver's listener
 * hears {@link ArchiveListener#segmentArchived(Sidecar)}. Once the archiver has archived the whole
 * file, its segments are deleted.
 *
 * <p>Crash safety: the store is the live cursor. At start, and whenever it reaches a file, the
 * segment archiver reads that file's segment sidecars, checks that the local file holds exactly
 * their bytes, and goes on from the end of the last one; a segment object an interrupted run left
 * without its sidecar is adopted if it holds exactly the next range, otherwise deleted and written
 * again (no reader ever used it). So a restart after a crash at any point leaves no gap and no
 * duplicate.
 *
 * <p>With a {@link Archiver.Builder#lease(StoreLease) lease}, segments are stored only while the
 * archiver holds it. Thread-safe. The sink and the archiver stay the caller's; close this before
 * the archiver.
 *
 * <p>Its parts: this class takes the reports, schedules the cuts and keeps the store side (resuming
 * from the stored segments, storing one, replacing an orphan); {@code LocalBinlog} reads one local
 * file (walking its events to transaction boundaries, copying and hashing ranges); {@code LiveLag}
 * turns measured server positions into the live lag. The store side stays here because resuming
 * and storing share the live position this class publishes.
 */
public final class SegmentArchiver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SegmentArchiver.class);

  private final Archiver archiver;
  /** The archiver's settings: sink, layout, transforms, verifier, retry policy, listener, lease. */
  private final PipelineSettings a;
  private final ArtifactWriter artifacts;
  private final Path directory;
  private final Duration interval;
  /** How long the background thread's last cut took to store (read by that thread only). */
  private long lastStoreNanos;
  private final long maxBytes;

  /** What the source reported, oldest file first (guarded by itself). */
  private final Map<String, Long> reported = new LinkedHashMap<>();
  private boolean stopping;
  private boolean flushRequested;
  private Thread thread;
  /** The open file's state; touched only inside {@link #flush()} (synchronized on this). */
  private LocalBinlog open;
  private volatile String cutFile;
  private volatile long cutEnd;
  private volatile Sidecar last;
  /** The lowest sequence ever reported durable; MAX_VALUE before the first report. */
  private volatile long firstReported = Long.MAX_VALUE;
  /** How far the server is past the live position, from its measured positions. */
  private final LiveLag liveLag;

  private SegmentArchiver(Builder b) {
    this.archiver = b.archiver;
    this.a = archiver.settings();
    this.artifacts = new ArtifactWriter(a);
    this.directory = b.directory;
    this.interval = b.interval;
    this.maxBytes = b.maxBytes;
    this.liveLag = new LiveLag(a.listener());
    archiver.wholeFiles().useSegments();
  }

  /**
   * @param archiver the archiver of the same directory's closed files: its sink, prefix, server id,
   *     compression, encryption, verifier, retry policy, listener and timeline are used
   * @return a builder
   */
  public static Builder builder(Archiver archiver) {
    return new Builder(archiver);
  }

  /**
   * Tells that bytes {@code [0, length)} of {@code file} are written and synced in the directory.
   * The length may end anywhere: a segment ends at the last transaction boundary before it. When
   * the server rotates, report the old file's final length (its ROTATE event included) before the
   * new file: a file named here for the first time means the files before it are complete, and
   * their segments end at the last length reported. Cheap; never blocks on the store.
   *
   * @param file a binlog name in the directory, e.g. {@code mysql-bin.000042}
   * @param length its durable length
   * @throws IllegalArgumentException if the name is not a binlog name or the length is negative
   */
  public void durable(String file, long length) {
    Objects.requireNonNull(file, "file");
    if (!BinlogNames.isPlainFileName(file) || BinlogNames.sequence(file) < 0) {
      throw new IllegalArgumentException("not a binlog file name: '" + file + "'");
    }
    if (length < 0) {
      throw new IllegalArgumentException("length must not be negative, got " + length);
    }
    synchronized (reported) {
      firstReported = Math.min(firstReported, BinlogNames.sequence(file));
      boolean rotated = !reported.isEmpty() && !reported.containsKey(file);
      reported.put(file, length);
      if (rotated || !file.equals(cutFile) || length - cutEnd >= maxBytes) {
        reported.notifyAll();
      }
    }
  }

  /**
   * Asks a started segment archiver to store what is reported durable now instead of at the end of
   * the interval (e.g. when a semi-synchronous source waits for a transaction to be acknowledged).
   */
  public void flushSoon() {
    synchronized (reported) {
      flushRequested = true;
      reported.notifyAll();
    }
  }

  /**
   * Tells where the server is, as a probe of it measured just now (e.g. {@code SHOW BINARY LOGS}):
   * the listener then hears {@link ArchiveListener#liveLagMeasured} with the bytes the server has
   * written past the store's live position (the end of the newest segment, or of the newest file
   * archived whole) and how long they have waited, judged from the measurements so far: the time
   * of the first measurement that saw the server past the live position. Files older than anything
   * stored or reported here are not counted. Cheap; never touches the store.
   *
   * @param binlogs the server's binlogs, oldest first, with their sizes: the last one is the file
   *     the server writes, its size the server's position; null if the position is unknown now
   *     (the listener then hears -1 bytes)
   */
  public void serverPosition(Map<String, Long> binlogs) {
    Instant now = Instant.now(a.clock());
    if (binlogs == null || binlogs.isEmpty()) {
      a.listener().liveLagMeasured(-1, null);
      return;
    }
    long whole = archiver.wholeFiles().highestSequence();
    Sidecar seg = last;
    if (seg != null && seg.segment() != null && seg.sequence() > whole) {
      liveLag.measured(binlogs, seg.sequence(), seg.segment().end(), now);
    } else if (whole >= 0) {
      liveLag.measured(binlogs, whole, Long.MAX_VALUE, now);
    } else {
      long first = firstReported;
      liveLag.measured(binlogs, first == Long.MAX_VALUE ? -1 : first, 0, now);
    }
  }

  /** @return the sidecar of the newest segment stored by this instance (or found at its start) */
  public Optional<Sidecar> lastSegment() {
    return Optional.ofNullable(last);
  }

  /**
   * Stores now, and waits for, the segments of everything reported durable up to its last
   * transaction boundary (a started segment archiver also does this every interval).
   *
   * @return the newest segment's sidecar, if any
   * @throws ChainBreakException if the local file differs from its archived segments
   * @throws IOException if the store or the local file fails (after the retry policy)
   */
  public synchronized Optional<Sidecar> flush() throws IOException {
    if (a.lease() != null && !a.lease().isHeld()) {
      LOG.atDebug().log("not storing segments: this agent does not hold the archive's lease");
      return lastSegment(); // the holder stores them; the archiver's runs take the lease over
    }
    while (true) {
      String file;
      long length;
      boolean later;
      synchronized (reported) {
        if (reported.isEmpty()) {
          break;
        }
        Map.Entry<String, Long> head = reported.entrySet().iterator().next();
        file = head.getKey();
        length = head.getValue();
        later = reported.size() > 1;
      }
      try {
        if (open == null || !open.name.equals(file)) {
          open = openFile(file);
        }
        if (!open.done) {
          cut(open, length);
        }
      } catch (NotFoundException e) {
        if (!later) {
          throw e;
        }
        // a file before the newest vanished from the directory (purged): never waited for again
        LOG.atWarn().addKeyValue("binlog_filename", file)
            .log("{} is no longer in {}; its segments end where they are: {}", file, directory, e.getMessage());
        a.listener().segmentFailed(file, e);
        synchronized (reported) {
          reported.remove(file);
        }
        open = null;
        continue;
      }
      if (!later) {
        break;
      }
      synchronized (reported) {
        if (Objects.equals(reported.get(file), length)) {
          reported.remove(file); // complete, and every byte reported is stored
        }
      }
    }
    return lastSegment();
  }

  /**
   * Cuts segments on a background thread: every interval, and sooner when enough bytes wait. A
   * failure is logged and reported to the listener; the next interval tries again.
   *
   * @throws IllegalStateException if already started or closed
   */
  public void start() {
    synchronized (reported) {
      if (stopping || thread != null) {
        throw new IllegalStateException(stopping ? "segment archiver is closed" : "segment archiver is already started");
      }
      thread = new Thread(this::loop, "binlog-archive-segments");
      thread.setDaemon(true);
      thread.start();
    }
  }

  /**
   * How long after a cut starts the next one is due: the interval less twice the last store's
   * duration and a twentieth of the interval, so that a transaction reported just after a cut is in
   * the next stored segment within the interval (the interval bounds the data at risk, not only the
   * spacing of cuts); never less than half the interval.
   */
  private long cycleNanos() {
    long i = interval.toNanos();
    return Math.max(i / 2, i - i / 20 - 2 * lastStoreNanos);
  }

  private void loop() {
    long cutStart = System.nanoTime();
    while (true) {
      synchronized (reported) {
        long deadline = cutStart + cycleNanos();
        while (!stopping && !due()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(reported, left);
          } catch (InterruptedException e) {
            return;
          }
        }
        if (stopping) {
          return;
        }
        flushRequested = false;
      }
      cutStart = System.nanoTime();
      flushReporting();
      lastStoreNanos = System.nanoTime() - cutStart;
    }
  }

  /** Whether enough bytes wait to cut before the interval ends (called holding {@code reported}). */
  private boolean due() {
    if (flushRequested || reported.size() > 1) {
      return true;
    }
    for (var e : reported.entrySet()) {
      if (!e.getKey().equals(cutFile) ? e.getValue() >= maxBytes : e.getValue() - cutEnd >= maxBytes) {
        return true;
      }
    }
    return false;
  }

  private void flushReporting() {
    try {
      flush();
    } catch (IOException | RuntimeException e) {
      String file = open == null ? cutFile : open.name;
      LOG.atWarn()
          .addKeyValue("binlog_filename", file)
          .log("storing a segment of {} failed, trying again in {} ms: {}", file, interval.toMillis(), e.toString());
      a.listener().segmentFailed(file, e);
    }
  }

  /**
   * Stops the background thread, then stores what was reported durable (best effort: a failure
   * is logged; the next start goes on from the store).
   */
  @Override
  public void close() {
    Thread t;
    synchronized (reported) {
      stopping = true;
      reported.notifyAll();
      t = thread;
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    flushReporting();
  }

  private LocalBinlog openFile(String name) throws IOException {
    String timeline = archiver.currentTimeline();
    LocalBinlog f = new LocalBinlog(name, timeline, directory.resolve(name), a.failOnChecksumMismatch());
    if (readSidecar(a.layout().sidecarKey(timeline, name)).isPresent()) {
      f.done = true; // archived whole already: a restart after the rotation
      int n = Segments.remove(a.sink(), a.retryPolicy(), a.layout(), timeline, name);
      if (n > 0) {
        LOG.atInfo().addKeyValue("binlog_filename", name).log("{} is archived whole; removed {} segment object(s)", name, n);
      }
      return f;
    }
    String prefix = a.layout().segmentPrefix(timeline, name);
    TreeMap<Long, Segments.Stored> stored = Segments.byFile(a.layout(), timeline,
        a.retryPolicy().call("list " + prefix, () -> a.sink().list(prefix), a::retrying)).getOrDefault(name, new TreeMap<>());
    long end = 0;
    Sidecar newest = null;
    for (Segments.Stored s : stored.values()) {
      if (s.sidecar == null) {
        continue; // an interrupted upload: adopted or replaced when its range is cut again
      }
      Sidecar sc = readSidecar(s.sidecar.key()).orElseThrow(() -> new NotFoundException("segment sidecar "
          + s.sidecar.key() + " vanished"));
      if (sc.segment() == null || sc.segment().start() != end || s.artifact(sc.artifact().key()) == null) {
        throw new ChainBreakException("the segments of " + name + " in " + a.sink().describe() + " do not form one chain"
            + " from offset 0: " + s.sidecar.key() + (s.artifact(sc.artifact().key()) == null ? " has no artifact"
            : " starts at " + (sc.segment() == null ? "?" : sc.segment().start()) + ", expected " + end)
            + "; nothing was written. Inspect the segments of " + prefix);
      }
      end = sc.segment().end();
      newest = sc;
    }
    if (end > 0) {
      long local = f.size();
      if (local < end) {
        throw new IOException("the store holds segments of " + name + " up to offset " + end + " but " + f.path
            + " has only " + local + " bytes yet; going on when the file has caught up");
      }
      for (Segments.Stored s : stored.values()) {
        if (s.sidecar != null) {
          Sidecar sc = readSidecar(s.sidecar.key()).orElseThrow();
          String sha = f.rangeSha(sc.segment().start(), sc.segment().end(), false);
          if (!sha.equals(sc.sha256()) && sc.segment().start() <= LocalBinlog.IN_USE_OFFSET && sc.segment().end() > LocalBinlog.IN_USE_OFFSET
              && f.rangeSha(sc.segment().start(), sc.segment().end(), true).equals(sc.sha256())) {
            sha = sc.sha256(); // the server cleared the in-use flag when it closed the file: the same bytes
          }
          if (!sha.equals(sc.sha256())) {
            throw new ChainBreakException("local " + f.path + " bytes [" + sc.segment().start() + ", " + sc.segment().end()
                + ") have SHA-256 " + sha + ", but the archived segment " + s.sidecar.key() + " holds SHA-256 "
                + sc.sha256() + "; nothing was overwritten. The local file is not the one archived.");
          }
        }
      }
      f.snapshotFrom = end;
      f.walk(end, a.bufferSize(), maxBytes);
      if (f.walked != end || f.boundary != end) {
        throw new ChainBreakException("the archived segments of " + name + " end at offset " + end
            + ", which is not a transaction boundary of " + f.path + "; nothing was written");
      }
      f.start = end;
      f.transactionsAtStart = f.boundaryInfo.transactionCount();
      f.gtidsAtStart = f.boundaryInfo.gtids();
      f.firstCommitInRange = null;
      if (last == null || !last.file().equals(name) || last.segment().end() < end) {
        last = newest;
      }
      LOG.atInfo().addKeyValue("binlog_filename", name)
          .log("{}: {} byte(s) already stored as segments; going on from there", name, end);
    }
    cutFile = name;
    cutEnd = end;
    return f;
  }

  private void cut(LocalBinlog f, long reportedLength) throws IOException {
    long limit = Math.min(reportedLength, f.size());
    while (true) {
      f.walk(limit, a.bufferSize(), maxBytes);
      if (f.boundary <= f.start) {
        return;
      }
      storeSegment(f, f.start, f.boundary, f.boundaryInfo);
      if (f.walked >= limit) {
        return;
      }
    }
  }

  private void storeSegment(LocalBinlog f, long start, long end, BinlogInfo info) throws IOException {
    String key = a.layout().segmentKey(f.timeline, f.name, start, artifacts.extension());
    String sidecarKey = a.layout().segmentSidecarKey(f.timeline, f.name, start);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("binlog-file", f.name);
    meta.put("segment-start", Long.toString(start));
    meta.put("segment-end", Long.toString(end));
    meta.put("archiver", ArchivePipeline.VERSION);
    String local = "local " + f.path + " bytes [" + start + ", " + end + ")";
    long t0 = System.nanoTime();
    ArtifactWriter.Written w = a.retryPolicy().call("archive segment " + key,
        () -> artifacts.upload(key, f.name, meta, out -> f.copyRange(start, end, out), true, local,
            (k, why, cause) -> replaceOrphan(k, why, sidecarKey)),
        a::retrying);
    if (w.plainSize() != end - start) {
      throw new IOException(local + " read as " + w.plainSize() + " bytes");
    }
    boolean any = info.transactionCount() > f.transactionsAtStart;
    String gtids = GtidSet.parse(info.gtids()).subtract(GtidSet.parse(f.gtidsAtStart)).toString();
    Sidecar sc = new Sidecar(Sidecar.FORMAT_VERSION, f.name, f.sequence, a.serverId(), f.timeline, end - start,
        w.plainSha(), artifacts.describe(w), info, Instant.now(a.clock()), ArchivePipeline.VERSION,
        new Sidecar.Segment(start, end, gtids, any ? f.firstCommitInRange : null, any ? info.lastCommitTime() : null));
    artifacts.writeSidecar(sidecarKey, sc, this::readSidecar);
    f.start = end;
    f.transactionsAtStart = info.transactionCount();
    f.gtidsAtStart = info.gtids();
    f.firstCommitInRange = null;
    cutEnd = end;
    last = sc;
    LOG.atInfo()
        .addKeyValue("binlog_filename", f.name)
        .addKeyValue("bytes_processed", end - start)
        .addKeyValue("artifact_bytes", w.artifactSize())
        .addKeyValue("upload_duration_ms", Duration.ofNanos(System.nanoTime() - t0).toMillis())
        .addKeyValue("checksum_status", "verified")
        .log("stored and verified segment [{}, {}) of {} as {}", start, end, f.name, key);
    a.listener().segmentArchived(sc);
    if (archiver.wholeFiles().contains(f.timeline, f.name)) {
      // the archiver finished the whole file meanwhile and may have listed before this segment
      Segments.remove(a.sink(), a.retryPolicy(), a.layout(), f.timeline, f.name);
      f.done = true;
    }
  }

  /** A segment object without a sidecar was never used by a reader: it may go. */
  private boolean replaceOrphan(String key, String why, String sidecarKey) throws IOException {
    if (a.sink().stat(sidecarKey).isPresent()) {
      throw new ChainBreakException("segment " + key + " " + why + ", and its sidecar " + sidecarKey
          + " exists; nothing was overwritten");
    }
    LOG.atWarn().log("segment {} was left by an interrupted run without its sidecar and {}; replacing it", key, why);
    a.sink().delete(key);
    return true;
  }

  private Optional<Sidecar> readSidecar(String key) throws IOException {
    return a.retryPolicy().call("read sidecar " + key, () -> {
      if (a.sink().stat(key).isEmpty()) {
        return Optional.empty();
      }
      try (InputStream in = a.sink().open(key)) {
        return Optional.of(Sidecar.parse(in.readNBytes(4 << 20), key));
      } catch (NotFoundException e) {
        return Optional.empty();
      }
    }, a::retrying);
  }

  @Override
  public String toString() {
    return "SegmentArchiver[" + directory + " -> " + a.sink().describe() + ", every " + interval.toMillis() + " ms or "
        + maxBytes + " bytes]";
  }

  /** Builds a {@link SegmentArchiver}; setters reject bad values at once. */
  public static final class Builder {
    private final Archiver archiver;
    private Path directory;
    private Duration interval = Duration.ofSeconds(1);
    private long maxBytes = 16L << 20;

    private Builder(Archiver archiver) {
      this.archiver = Objects.requireNonNull(archiver, "archiver");
    }

    /**
     * @param directory where the binlogs named in {@link SegmentArchiver#durable} are (required)
     * @return this builder
     */
    public Builder directory(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * @param interval how long a transaction reported durable may wait before a started segment
     *     archiver has it in a stored segment (the RPO it aims at), 10 ms to 1 h (default 1 s): cuts
     *     come somewhat more often, the interval less twice the last store's duration
     * @return this builder
     */
    public Builder interval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.compareTo(Duration.ofMillis(10)) < 0 || interval.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("segment interval must be 10 ms to 1 h, got " + interval);
      }
      this.interval = interval;
      return this;
    }

    /**
     * @param bytes cut before the interval ends once this many bytes wait, 4 KiB to 1 GiB
     *     (default 16 MiB); a segment holds at least one whole transaction, so it may be larger
     * @return this builder
     */
    public Builder maxBytes(long bytes) {
      if (bytes < 4096 || bytes > 1L << 30) {
        throw new IllegalArgumentException("segment maxBytes must be 4 KiB to 1 GiB, got " + bytes);
      }
      this.maxBytes = bytes;
      return this;
    }

    /**
     * @return the segment archiver (not yet started)
     * @throws IllegalArgumentException if the directory is missing or the archiver does not archive
     *     (dry run or shadow mode)
     */
    public SegmentArchiver build() {
      if (directory == null) {
        throw new IllegalArgumentException("invalid segment archiver settings: directory is required");
      }
      if (archiver.settings().mode() != Archiver.Mode.ARCHIVE) {
        throw new IllegalArgumentException("invalid segment archiver settings: the archiver runs in mode "
            + archiver.settings().mode() + "; segments are stored only by an archiver in mode ARCHIVE");
      }
      return new SegmentArchiver(this);
    }
  }
}
