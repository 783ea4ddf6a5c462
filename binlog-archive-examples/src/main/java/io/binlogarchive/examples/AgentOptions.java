package io.binlogarchive.examples;

import com.sun.net.httpserver.HttpServer;
import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.FileResult;
import io.binlogarchive.Preflight;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.store.StoreLease;
import io.binlogarchive.micrometer.MicrometerArchiveListener;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.sql.DataSource;
import picocli.CommandLine.Option;

/**
 * The {@code archive} options for running as a long-lived agent: bounded binlog age, preflight,
 * bandwidth and memory limits, a lease, Prometheus metrics, and a health line per run.
 */
final class AgentOptions implements AutoCloseable {
  /** The agent options of {@code archive}, a picocli mixin. */
  static final class Flags {
    @Option(names = "--jdbc-url", paramLabel = "URL",
        description = "the server, for rotation by age and the preflight (password: --jdbc-password-file or "
            + UrlDataSource.PASSWORD_ENV + ")")
    String jdbcUrl;

    @Option(names = "--jdbc-password-file", paramLabel = "F", description = "the database password, in a file")
    String jdbcPasswordFile;

    @Option(names = "--max-binlog-age", paramLabel = "SECONDS",
        description = "FLUSH BINARY LOGS when the active binlog is older (needs --jdbc-url)")
    Integer maxBinlogAge;

    @Option(names = "--preflight", paramLabel = "warn|refuse", description = "what a problem in the server's settings does")
    String preflight;

    @Option(names = "--max-upload-rate", paramLabel = "BYTES_PER_S", description = "upload bandwidth limit")
    Long maxUploadRate;

    @Option(names = "--memory-budget", paramLabel = "BYTES", description = "bound on the buffers of files in flight")
    Long memoryBudget;

    @Option(names = "--metrics-port", paramLabel = "N", description = "serve Prometheus metrics on this port")
    Integer metricsPort;

    @Option(names = "--metrics-bind", paramLabel = "ADDR", description = "the metrics address (default 127.0.0.1)")
    String metricsBind;

    @Option(names = "--lease-ttl", paramLabel = "SECONDS",
        description = "take a lease in the store, so only one agent archives")
    Integer leaseTtl;

    @Option(names = "--lease-holder", paramLabel = "ID", description = "this agent's name in the lease")
    String leaseHolder;
  }

  private final MicrometerArchiveListener metrics;
  private final PrometheusMeterRegistry registry;
  private final HttpServer http;
  private final Health health;

  private AgentOptions(MicrometerArchiveListener metrics, PrometheusMeterRegistry registry, HttpServer http,
      Health health) {
    this.metrics = metrics;
    this.registry = registry;
    this.http = http;
    this.health = health;
  }

  /**
   * Applies the agent options to the builder; returns what must be closed with the archiver.
   *
   * @param progress told of every event first
   * @param last told of every event after the metrics and the health line
   * @param env where the {@code --jdbc-url} password may be ({@value UrlDataSource#PASSWORD_ENV})
   */
  static AgentOptions apply(Flags a, Archiver.Builder b, Targets.Target target, String serverId, ArchiveListener progress,
      ArchiveListener last, PrintStream err, Function<String, String> env) throws IOException {
    DataSource ds = UrlDataSource.fromOptions(a.jdbcUrl, a.jdbcPasswordFile, env, err);
    if (a.maxBinlogAge != null) {
      if (ds == null) {
        throw new UsageException("--max-binlog-age needs --jdbc-url (it runs FLUSH BINARY LOGS)");
      }
      b.rotateWhenOlderThan(Duration.ofSeconds(CliOptions.range("--max-binlog-age", a.maxBinlogAge, 0, 1, 86_400 * 7)),
          ds);
    }
    if (ds != null) {
      String p = a.preflight == null ? "warn" : a.preflight;
      b.preflight(ds, switch (p) {
        case "warn" -> Preflight.OnProblem.WARN;
        case "refuse" -> Preflight.OnProblem.REFUSE;
        default -> throw new UsageException("--preflight must be warn or refuse, got '" + p + "'");
      });
    } else if (a.preflight != null) {
      throw new UsageException("--preflight needs --jdbc-url");
    }
    if (a.maxUploadRate != null) {
      b.maxUploadBytesPerSecond(a.maxUploadRate);
    }
    if (a.memoryBudget != null) {
      b.memoryBudget(a.memoryBudget);
    }
    if (a.leaseTtl != null) {
      StoreLease.Builder lb = StoreLease.builder(target.sink(), StoreLease.keyFor(target.prefix(), serverId))
          .ttl(Duration.ofSeconds(CliOptions.range("--lease-ttl", a.leaseTtl, 60, 1, 3600)));
      if (a.leaseHolder != null) {
        lb.holderId(a.leaseHolder);
      }
      b.lease(lb.build());
    }
    MicrometerArchiveListener metrics = new MicrometerArchiveListener(Tags.of("server", serverId));
    PrometheusMeterRegistry registry = null;
    HttpServer http = null;
    if (a.metricsPort != null) {
      InetAddress bind = bindAddress(a.metricsBind == null ? "127.0.0.1" : a.metricsBind);
      registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      metrics.bindTo(registry);
      try {
        http = serve(registry, new InetSocketAddress(bind, CliOptions.range("--metrics-port", a.metricsPort, 0, 0, 65_535)));
      } catch (IOException e) {
        registry.close();
        throw new IOException("cannot serve metrics on " + bind.getHostAddress() + ":" + a.metricsPort
            + ": " + Main.oneLine(e), e);
      }
      String host = bind instanceof java.net.Inet6Address ? "[" + bind.getHostAddress() + "]" : bind.getHostAddress();
      err.printf(Main.FORMAT, "binlog-archive: metrics on http://%s:%d/metrics%n", host, http.getAddress().getPort());
    } else if (a.metricsBind != null) {
      throw new UsageException("--metrics-bind goes with --metrics-port");
    }
    Health health = new Health(metrics, err);
    b.listener(new Fanout(List.of(progress, metrics, health, last)));
    return new AgentOptions(metrics, registry, http, health);
  }

  private static InetAddress bindAddress(String text) {
    try {
      return InetAddress.getByName(text);
    } catch (java.net.UnknownHostException e) {
      throw new UsageException("--metrics-bind must be an address of this host, e.g. 127.0.0.1 or 0.0.0.0, got '"
          + text + "'");
    }
  }

  private static HttpServer serve(PrometheusMeterRegistry registry, InetSocketAddress address) throws IOException {
    HttpServer s = HttpServer.create(address, 0);
    s.createContext("/metrics", ex -> {
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(body);
      }
    });
    s.setExecutor(null);
    s.start();
    return s;
  }

  /** @return the port metrics are served on, or -1 */
  int metricsPort() {
    return http == null ? -1 : http.getAddress().getPort();
  }

  @Override
  public void close() {
    if (http != null) {
      http.stop(0);
    }
    if (registry != null) {
      registry.close();
    }
  }

  /** One line per run on stderr: a summary a human or a log shipper can alert on. */
  static final class Health implements ArchiveListener {
    private final MicrometerArchiveListener metrics;
    private final PrintStream err;
    private final AtomicLong retries = new AtomicLong();

    Health(MicrometerArchiveListener metrics, PrintStream err) {
      this.metrics = metrics;
      this.err = err;
    }

    @Override
    public void retryScheduled(String what, int attempt, Duration delay, Throwable error) {
      retries.incrementAndGet();
    }

    @Override
    public void runFinished(RunSummary s) {
      String state = !s.succeeded() ? "failing" : metrics.lagFiles() > 0 ? "behind" : "ok";
      err.printf(Main.FORMAT,
          "health: %s archived=%d lag_files=%d lag_bytes=%d last_archived_age_s=%.0f retries=%d cursor=%s%s%n", state,
          s.archivedCount(), metrics.lagFiles(), metrics.lagBytes(), metrics.secondsSinceLastArchived(),
          retries.getAndSet(0), s.cursor().map(Cursor::lastSyncedFile).orElse("-"),
          metrics.liveLagBytes() < 0 ? "" : " live_lag_bytes=" + metrics.liveLagBytes());
    }
  }

  /** Passes every event to several listeners (the archiver shields the pipeline from their errors). */
  record Fanout(List<ArchiveListener> all) implements ArchiveListener {
    @Override
    public void runStarted(int candidates) {
      all.forEach(l -> l.runStarted(candidates));
    }

    @Override
    public void fileStarted(BinlogFile file) {
      all.forEach(l -> l.fileStarted(file));
    }

    @Override
    public void fileArchived(FileResult result) {
      all.forEach(l -> l.fileArchived(result));
    }

    @Override
    public void fileSkipped(FileResult result) {
      all.forEach(l -> l.fileSkipped(result));
    }

    @Override
    public void fileFailed(BinlogFile file, Throwable error) {
      all.forEach(l -> l.fileFailed(file, error));
    }

    @Override
    public void retryScheduled(String what, int attempt, Duration delay, Throwable error) {
      all.forEach(l -> l.retryScheduled(what, attempt, delay, error));
    }

    @Override
    public void gapDetected(long afterSequence, long nextSequence) {
      all.forEach(l -> l.gapDetected(afterSequence, nextSequence));
    }

    @Override
    public void backlogMeasured(int files, long bytes) {
      all.forEach(l -> l.backlogMeasured(files, bytes));
    }

    @Override
    public void cursorCommitted(Cursor cursor) {
      all.forEach(l -> l.cursorCommitted(cursor));
    }

    @Override
    public void standingBy(String leaseKey, String holder) {
      all.forEach(l -> l.standingBy(leaseKey, holder));
    }

    @Override
    public void runFinished(RunSummary summary) {
      all.forEach(l -> l.runFinished(summary));
    }

    @Override
    public void segmentArchived(Sidecar segment) {
      all.forEach(l -> l.segmentArchived(segment));
    }

    @Override
    public void segmentFailed(String file, Throwable error) {
      all.forEach(l -> l.segmentFailed(file, error));
    }

    @Override
    public void liveLagMeasured(long bytes, Duration behind) {
      all.forEach(l -> l.liveLagMeasured(bytes, behind));
    }
  }
}
