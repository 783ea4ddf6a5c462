package io.binlogarchive.replication.live;

import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.FileResult;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.SegmentArchiver;
import io.binlogarchive.Sidecar;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.replication.live.LiveStream;
import io.binlogarchive.replication.live.SourceConfig;
import io.binlogarchive.replication.live.SpoolListener;
import io.binlogarchive.replication.live.SpoolPosition;
import io.binlogarchive.replication.live.TlsMode;
import io.binlogarchive.s3.S3ProxyServer;
import io.binlogarchive.s3.S3Sink;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testing.MariaDbServer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * RPO of {@code stream} under a steady write load (issue 14): the delay from a COMMIT returning to
 * the client to its transaction being in a proven segment in the store, p50 / p99 / max, for a
 * {@code file://} store and for s3proxy. Wired like the {@code stream} command: {@link LiveStream}
 * into a spool, a {@link SegmentArchiver} on it and an {@link Archiver} for closed files.
 *
 * <p>A writer commits one small autocommit INSERT at a steady rate and notes, for each, the time
 * the COMMIT returned and its GTID ({@code @@last_gtid}). The spool listener notes each durable
 * transaction's end offset; {@link ArchiveListener#segmentArchived(Sidecar)} (the segment's
 * artifact and sidecar are in the store) marks every transaction up to the segment's end proven.
 * Bounded in time, loopback only. A benchmark, not a test: nothing asserts a time.
 *
 * <p>Arguments: {@code [SECONDS [RATE [INTERVAL_MS [file,s3]]]]}, default {@code 20 200 1000 file,s3}.
 */
public final class RpoBenchmark {
  private static final String USER = "rpo";
  private static final String PASSWORD = "rpo-bench-pass";
  private static final Duration DRAIN = Duration.ofSeconds(60);

  private RpoBenchmark() {}

  /**
   * Runs the measurement for each store named and prints the figures.
   *
   * @param args {@code [SECONDS [RATE [INTERVAL_MS [file,s3]]]]}
   * @throws Exception if the server, the store or the stream cannot be started
   */
  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int intervalMs = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    List<String> sinks = Arrays.asList((args.length > 3 ? args[3] : "file,s3").split(","));
    System.out.printf(Locale.ROOT, "RPO: %d s at %d commits/s, segment interval %d ms, %d cores, load %.2f%n",
        seconds, rate, intervalMs, Runtime.getRuntime().availableProcessors(), load());
    for (String sink : sinks) {
      Path tmp = Files.createTempDirectory("rpo-bench-");
      try {
        switch (sink) {
          case "file" -> report("file://", run(tmp, FileSystemSink.of(tmp.resolve("archive")), seconds, rate, intervalMs));
          case "s3" -> {
            try (S3ProxyServer s3 = new S3ProxyServer()) {
              s3.start();
              String bucket = s3.newBucket();
              ExecutorService parts = Executors.newFixedThreadPool(2);
              try (S3Client client = S3ProxyServer.client(s3.endpoint(), Duration.ofSeconds(60))) {
                Sink s = S3Sink.builder().client(client).bucket(bucket).executor(parts).maxPartsInFlight(2)
                    .retryPolicy(RetryPolicy.defaults()).build();
                report("s3proxy", run(tmp, s, seconds, rate, intervalMs));
              } finally {
                parts.shutdownNow();
              }
            }
          }
          default -> throw new IllegalArgumentException("unknown sink '" + sink + "' (file or s3)");
        }
      } finally {
        deleteTree(tmp);
      }
    }
    System.out.printf(Locale.ROOT, "load at the end %.2f%n", load());
  }

  /** What one run measured. */
  record Result(int committed, double achievedRate, long[] delaysMicros, int unproven, int segments,
      long medianPeriodMicros) {}

  static Result run(Path tmp, Sink sink, int seconds, int rate, int intervalMs) throws Exception {
    Path spool = Files.createDirectories(tmp.resolve("spool"));
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("db"))) {
      server.exec("CREATE USER '" + USER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
          "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '" + USER + "'@'%'",
          "CREATE DATABASE bench", "CREATE TABLE bench.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64))");
      Recorder rec = new Recorder();
      Archiver archiver = Archiver.builder().source(LiveStream.spoolSource(spool)).sink(sink).serverId("db")
          .compression(Transform.zstd(3)).cursorFile(tmp.resolve("cursor.json")).listener(rec)
          .pollInterval(Duration.ofSeconds(10)).build();
      try (archiver) {
        SegmentArchiver segments = SegmentArchiver.builder(archiver).directory(spool)
            .interval(Duration.ofMillis(intervalMs)).build();
        SourceConfig config = SourceConfig.builder("127.0.0.1", server.port(), USER)
            .password(PASSWORD.toCharArray()).tls(TlsMode.DISABLED).replicaServerId(4711).build();
        LiveStream stream = LiveStream.builder(config, spool).listener(new SpoolListener() {
          @Override
          public void transactionDurable(SpoolPosition p) {
            rec.durable(p);
            segments.durable(p.file(), p.endOffset());
          }

          @Override
          public void fileClosed(String name, long size) {
            segments.durable(name, size);
            archiver.wakeUp();
          }
        }).build();
        archiver.start();
        segments.start();
        Thread streamer = new Thread(() -> {
          try {
            stream.run();
          } catch (Exception e) {
            System.err.println("the stream stopped: " + e);
          }
        }, "rpo-stream");
        streamer.start();
        try {
          return measure(server, rec, seconds, rate);
        } finally {
          stream.stop();
          streamer.join(TimeUnit.MINUTES.toMillis(2));
          segments.close();
        }
      }
    }
  }

  private static Result measure(MariaDbServer server, Recorder rec, int seconds, int rate) throws Exception {
    // warm-up: the table's creation is proven in the store, so the stream runs
    String ddl = lastGtid(server);
    long warm = System.nanoTime() + DRAIN.toNanos();
    while (rec.provenAt(ddl) == null && System.nanoTime() < warm) {
      Thread.sleep(20); // polling a benchmark's progress, not synchronising a test
    }
    if (rec.provenAt(ddl) == null) {
      throw new IllegalStateException("the stream did not store the first segment within " + DRAIN);
    }
    Map<String, Long> committed = new HashMap<>();
    int total = seconds * rate;
    long periodNanos = 1_000_000_000L / rate;
    long start = System.nanoTime();
    try (Connection c = server.connection();
        PreparedStatement insert = c.prepareStatement("INSERT INTO bench.t (v) VALUES (?)");
        Statement st = c.createStatement()) {
      c.setAutoCommit(true);
      for (int i = 0; i < total; i++) {
        long due = start + i * periodNanos;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        insert.setString(1, "row-" + i);
        insert.executeUpdate();
        long returned = System.nanoTime();
        try (ResultSet rs = st.executeQuery("SELECT @@last_gtid")) {
          rs.next();
          committed.put(rs.getString(1), returned);
        }
      }
    }
    double achieved = total / ((System.nanoTime() - start) / 1e9);
    long drain = System.nanoTime() + DRAIN.toNanos();
    while (System.nanoTime() < drain && !committed.keySet().stream().allMatch(g -> rec.provenAt(g) != null)) {
      Thread.sleep(50);
    }
    List<Long> delays = new ArrayList<>();
    int unproven = 0;
    for (Map.Entry<String, Long> e : committed.entrySet()) {
      Long proven = rec.provenAt(e.getKey());
      if (proven == null) {
        unproven++;
      } else {
        delays.add((proven - e.getValue()) / 1000);
      }
    }
    return new Result(total, achieved, delays.stream().mapToLong(Long::longValue).sorted().toArray(), unproven,
        rec.segments(), rec.medianPeriodMicros(start));
  }

  private static String lastGtid(MariaDbServer server) throws Exception {
    try (Connection c = server.connection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO bench.t (v) VALUES ('warm-up')");
      try (ResultSet rs = st.executeQuery("SELECT @@last_gtid")) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  /** Durable transactions waiting for a segment, and when each GTID's segment was proven. */
  static final class Recorder implements ArchiveListener {
    /** Durable, not yet proven: binlog sequence → transaction end offset → GTID. */
    private final Map<Long, NavigableMap<Long, String>> pending = new HashMap<>();
    private final Map<String, Long> proven = new HashMap<>();
    private final List<Long> storedAt = new ArrayList<>();

    synchronized void durable(SpoolPosition p) {
      if (p.gtid() != null) {
        pending.computeIfAbsent(sequence(p.file()), k -> new TreeMap<>()).put(p.endOffset(), p.gtid());
      }
    }

    synchronized Long provenAt(String gtid) {
      return proven.get(gtid);
    }

    synchronized int segments() {
      return storedAt.size();
    }

    /** The median time between two stored segments, from {@code since} on: the interval plus the store's time. */
    synchronized long medianPeriodMicros(long since) {
      List<Long> gaps = new ArrayList<>();
      for (int i = 1; i < storedAt.size(); i++) {
        if (storedAt.get(i - 1) >= since) {
          gaps.add((storedAt.get(i) - storedAt.get(i - 1)) / 1000);
        }
      }
      return gaps.isEmpty() ? 0 : rank(gaps.stream().mapToLong(Long::longValue).sorted().toArray(), 0.5);
    }

    @Override
    public synchronized void segmentArchived(Sidecar segment) {
      long now = System.nanoTime();
      storedAt.add(now);
      proven(segment.file(), segment.segment().end(), now);
    }

    @Override
    public synchronized void fileArchived(FileResult result) {
      proven(result.file().name(), Long.MAX_VALUE, System.nanoTime()); // a closed file, whole
    }

    /** Every transaction before {@code end} of {@code file}, and all of earlier files, is now proven. */
    private void proven(String file, long end, long now) {
      long seq = sequence(file);
      for (var f = pending.entrySet().iterator(); f.hasNext(); ) {
        var e = f.next();
        if (e.getKey() > seq) {
          continue;
        }
        var upTo = e.getKey() < seq ? e.getValue() : e.getValue().headMap(end, true);
        upTo.values().forEach(g -> proven.putIfAbsent(g, now));
        upTo.clear();
        if (e.getValue().isEmpty()) {
          f.remove();
        }
      }
    }

    private static long sequence(String file) {
      return Long.parseLong(file.substring(file.lastIndexOf('.') + 1));
    }
  }

  private static void report(String sink, Result r) {
    long[] d = r.delaysMicros();
    System.out.printf(Locale.ROOT, "%-8s committed %d (%.0f/s), proven %d, unproven %d, segments stored %d"
            + " (median %.0f ms apart)%n", sink, r.committed(), r.achievedRate(), d.length, r.unproven(), r.segments(),
        r.medianPeriodMicros() / 1e3);
    if (d.length > 0) {
      System.out.printf(Locale.ROOT, "%-8s COMMIT -> proven segment: min %.0f ms, p50 %.0f ms, p99 %.0f ms,"
              + " max %.0f ms%n", sink, d[0] / 1e3, rank(d, 0.50) / 1e3, rank(d, 0.99) / 1e3, d[d.length - 1] / 1e3);
    }
  }

  /** Nearest-rank percentile of sorted values. */
  private static long rank(long[] sorted, double q) {
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static void deleteTree(Path root) throws Exception {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
