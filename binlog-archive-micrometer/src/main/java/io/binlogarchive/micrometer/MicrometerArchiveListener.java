package io.binlogarchive.micrometer;

import io.binlogarchive.SegmentArchiver;
import io.binlogarchive.Archiver;
import io.binlogarchive.ArchiveListener;
import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.FileResult;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Turns an archiver's listener events into Micrometer meters. Bind it to a registry, then pass it
 * to {@link io.binlogarchive.Archiver.Builder#listener}:
 *
 * <pre>{@code
 * MicrometerArchiveListener metrics = new MicrometerArchiveListener(Tags.of("server", "db1"));
 * metrics.bindTo(registry);
 * Archiver.builder()...listener(metrics).build();
 * }</pre>
 *
 * <table>
 *   <caption>Meters (Prometheus names in brackets)</caption>
 *   <tr><td>{@code binlog.archive.files.archived} counter [binlog_archive_files_archived_total]</td><td>files newly archived</td></tr>
 *   <tr><td>{@code binlog.archive.bytes.archived} counter, bytes [binlog_archive_bytes_archived_bytes_total]</td><td>plaintext bytes archived; {@code rate()} of it is the throughput</td></tr>
 *   <tr><td>{@code binlog.archive.throughput} gauge, bytes/s</td><td>the last file's plaintext bytes per second</td></tr>
 *   <tr><td>{@code binlog.archive.upload} timer</td><td>time per archived file (read, compress, upload, verify, sidecar)</td></tr>
 *   <tr><td>{@code binlog.archive.retries} counter</td><td>store calls retried</td></tr>
 *   <tr><td>{@code binlog.archive.failures} counter</td><td>files that failed after retries (the run stopped there)</td></tr>
 *   <tr><td>{@code binlog.archive.runs} counter, tag {@code outcome=success|failure}</td><td>runs</td></tr>
 *   <tr><td>{@code binlog.archive.gaps} counter</td><td>binlogs purged before they were archived</td></tr>
 *   <tr><td>{@code binlog.archive.files.in.flight} gauge</td><td>files being worked on now (at most the parallelism)</td></tr>
 *   <tr><td>{@code binlog.archive.lag.files} / {@code binlog.archive.lag.bytes} gauges</td><td>closed binlogs not yet archived, behind the newest closed one</td></tr>
 *   <tr><td>{@code binlog.archive.last.archived.age} gauge, seconds</td><td>since the last file was archived (since start if none yet)</td></tr>
 *   <tr><td>{@code binlog.archive.cursor.sequence} gauge</td><td>sequence of the last committed file</td></tr>
 *   <tr><td>{@code binlog.archive.segments.archived} counter [binlog_archive_segments_archived_total]</td><td>segments of open binlogs stored and proven (see {@code SegmentArchiver})</td></tr>
 *   <tr><td>{@code binlog.archive.segment.failures} counter</td><td>segment stores that failed (tried again at the next interval)</td></tr>
 *   <tr><td>{@code binlog.archive.live.position} gauge, bytes</td><td>end offset of the newest segment in its binlog (the live position)</td></tr>
 *   <tr><td>{@code binlog.archive.live.age} gauge, seconds</td><td>since the newest segment was stored (the live position's lag; -1 before the first)</td></tr>
 *   <tr><td>{@code binlog.archive.live.lag.bytes} gauge, bytes</td><td>bytes the server has written past the live position (segments and whole files stored); -1 while unknown (no measurement of the server yet, or its position cannot be read)</td></tr>
 *   <tr><td>{@code binlog.archive.live.lag.seconds} gauge, seconds</td><td>how long the oldest of those bytes has waited, as the server's measurements saw it; 0 when caught up, -1 while unknown</td></tr>
 *   <tr><td>{@code binlog.archive.standby} gauge</td><td>1 while this agent stands by for the store lease (another agent archives), 0 once it runs as the holder</td></tr>
 * </table>
 */
public final class MicrometerArchiveListener implements ArchiveListener, MeterBinder {
  private final Tags tags;
  private final Clock clock;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger lagFiles = new AtomicInteger();
  private final AtomicLong lagBytes = new AtomicLong();
  private final AtomicLong cursorSequence = new AtomicLong(-1);
  private final AtomicInteger standby = new AtomicInteger();
  private final AtomicReference<Double> throughput = new AtomicReference<>(0.0);
  private final AtomicReference<Instant> lastArchived;
  private final AtomicLong livePosition = new AtomicLong(-1);
  private final AtomicReference<Instant> lastSegment = new AtomicReference<>();
  private final AtomicLong liveLagBytes = new AtomicLong(-1);
  private final AtomicReference<Double> liveLagSeconds = new AtomicReference<>(-1.0);
  private volatile Counter segmentsArchived;
  private volatile Counter segmentFailures;
  private volatile Counter filesArchived;
  private volatile Counter bytesArchived;
  private volatile Counter retries;
  private volatile Counter failures;
  private volatile Counter gaps;
  private volatile Counter runsOk;
  private volatile Counter runsFailed;
  private volatile Timer upload;

  /** Meters without extra tags, on the system clock. */
  public MicrometerArchiveListener() {
    this(Tags.empty(), Clock.systemUTC());
  }

  /** @param tags added to every meter, e.g. {@code server=db1} */
  public MicrometerArchiveListener(Tags tags) {
    this(tags, Clock.systemUTC());
  }

  /**
   * @param tags added to every meter
   * @param clock measures the time since the last archived file
   */
  public MicrometerArchiveListener(Tags tags, Clock clock) {
    this.tags = Objects.requireNonNull(tags, "tags");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.lastArchived = new AtomicReference<>(clock.instant());
  }

  @Override
  public void bindTo(MeterRegistry r) {
    filesArchived = Counter.builder("binlog.archive.files.archived").tags(tags)
        .description("binlog files newly archived").register(r);
    bytesArchived = Counter.builder("binlog.archive.bytes.archived").tags(tags).baseUnit("bytes")
        .description("plaintext binlog bytes archived").register(r);
    retries = Counter.builder("binlog.archive.retries").tags(tags).description("store calls retried").register(r);
    failures = Counter.builder("binlog.archive.failures").tags(tags)
        .description("binlog files that failed after retries").register(r);
    gaps = Counter.builder("binlog.archive.gaps").tags(tags)
        .description("binlogs purged from the server before they were archived").register(r);
    runsOk = Counter.builder("binlog.archive.runs").tags(tags).tag("outcome", "success").register(r);
    runsFailed = Counter.builder("binlog.archive.runs").tags(tags).tag("outcome", "failure").register(r);
    upload = Timer.builder("binlog.archive.upload").tags(tags)
        .description("time to archive one file: read, compress, upload, verify, sidecar").register(r);
    Gauge.builder("binlog.archive.throughput", throughput, AtomicReference::get).tags(tags).baseUnit("bytes")
        .description("plaintext bytes per second of the last archived file").register(r);
    Gauge.builder("binlog.archive.files.in.flight", inFlight, AtomicInteger::get).tags(tags)
        .description("files being archived now").register(r);
    Gauge.builder("binlog.archive.lag.files", lagFiles, AtomicInteger::get).tags(tags)
        .description("closed binlogs not yet archived").register(r);
    Gauge.builder("binlog.archive.lag.bytes", lagBytes, AtomicLong::get).tags(tags).baseUnit("bytes")
        .description("size of the closed binlogs not yet archived").register(r);
    Gauge.builder("binlog.archive.last.archived.age", this, MicrometerArchiveListener::secondsSinceLastArchived)
        .tags(tags).baseUnit("seconds").description("seconds since the last file was archived").register(r);
    Gauge.builder("binlog.archive.cursor.sequence", cursorSequence, AtomicLong::get).tags(tags)
        .description("sequence number of the last committed binlog").register(r);
    segmentsArchived = Counter.builder("binlog.archive.segments.archived").tags(tags)
        .description("segments of open binlogs stored and proven").register(r);
    segmentFailures = Counter.builder("binlog.archive.segment.failures").tags(tags)
        .description("segment stores that failed").register(r);
    Gauge.builder("binlog.archive.live.position", livePosition, AtomicLong::get).tags(tags).baseUnit("bytes")
        .description("end offset of the newest segment in its binlog").register(r);
    Gauge.builder("binlog.archive.live.age", this, MicrometerArchiveListener::secondsSinceLastSegment).tags(tags)
        .baseUnit("seconds").description("seconds since the newest segment was stored, -1 before the first").register(r);
    Gauge.builder("binlog.archive.live.lag.bytes", liveLagBytes, AtomicLong::get).tags(tags).baseUnit("bytes")
        .description("bytes the server has written past the live position, -1 while unknown").register(r);
    Gauge.builder("binlog.archive.live.lag.seconds", liveLagSeconds, AtomicReference::get).tags(tags)
        .baseUnit("seconds").description("how long the oldest bytes past the live position have waited, -1 while unknown")
        .register(r);
    Gauge.builder("binlog.archive.standby", standby, AtomicInteger::get).tags(tags)
        .description("1 while this agent stands by because another agent holds the store lease, else 0").register(r);
  }

  /** @return seconds since the newest segment was stored, or -1 before the first */
  public double secondsSinceLastSegment() {
    Instant t = lastSegment.get();
    return t == null ? -1 : Duration.between(t, clock.instant()).toMillis() / 1000.0;
  }

  @Override
  public void segmentArchived(Sidecar segment) {
    lastSegment.set(clock.instant());
    livePosition.set(segment.segment() == null ? -1 : segment.segment().end());
    if (segmentsArchived != null) {
      segmentsArchived.increment();
    }
  }

  @Override
  public void liveLagMeasured(long bytes, Duration behind) {
    liveLagBytes.set(bytes);
    liveLagSeconds.set(bytes < 0 || behind == null ? -1.0 : behind.toMillis() / 1000.0);
  }

  /** @return bytes the server has written past the live position, as last measured; -1 while unknown */
  public long liveLagBytes() {
    return liveLagBytes.get();
  }

  @Override
  public void segmentFailed(String file, Throwable error) {
    if (segmentFailures != null) {
      segmentFailures.increment();
    }
  }

  /** @return seconds since the last file was archived, or since this listener was created */
  public double secondsSinceLastArchived() {
    return Duration.between(lastArchived.get(), clock.instant()).toMillis() / 1000.0;
  }

  @Override
  public void runStarted(int candidates) {
    standby.set(0);
  }

  @Override
  public void standingBy(String leaseKey, String holder) {
    standby.set(1);
  }

  @Override
  public void fileStarted(BinlogFile file) {
    inFlight.incrementAndGet();
  }

  @Override
  public void fileArchived(FileResult r) {
    inFlight.decrementAndGet();
    lastArchived.set(clock.instant());
    if (filesArchived != null) {
      filesArchived.increment();
      bytesArchived.increment(r.bytesRead());
      upload.record(r.duration());
    }
    long nanos = Math.max(1, r.duration().toNanos());
    throughput.set(r.bytesRead() * 1e9 / nanos);
  }

  @Override
  public void fileSkipped(FileResult r) {
    inFlight.decrementAndGet();
  }

  @Override
  public void fileFailed(BinlogFile file, Throwable error) {
    inFlight.decrementAndGet();
    if (failures != null) {
      failures.increment();
    }
  }

  @Override
  public void retryScheduled(String what, int attempt, Duration delay, Throwable error) {
    if (retries != null) {
      retries.increment();
    }
  }

  @Override
  public void gapDetected(long afterSequence, long nextSequence) {
    if (gaps != null) {
      gaps.increment(Math.max(1, nextSequence - afterSequence - 1));
    }
  }

  @Override
  public void backlogMeasured(int files, long bytes) {
    lagFiles.set(files);
    lagBytes.set(bytes);
  }

  @Override
  public void cursorCommitted(Cursor cursor) {
    cursorSequence.set(cursor.sequence());
  }

  @Override
  public void runFinished(RunSummary summary) {
    standby.set(0);
    if (runsOk != null) {
      (summary.succeeded() ? runsOk : runsFailed).increment();
    }
  }

  /** @return closed binlogs not yet archived, as last measured */
  public int lagFiles() {
    return lagFiles.get();
  }

  /** @return their size, as last measured */
  public long lagBytes() {
    return lagBytes.get();
  }

  /** @return files being archived now */
  public int filesInFlight() {
    return inFlight.get();
  }
}
