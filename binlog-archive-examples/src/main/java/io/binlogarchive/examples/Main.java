package io.binlogarchive.examples;

import io.binlogarchive.ArchiveCatalog;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.BinlogInfo;
import io.binlogarchive.BinlogScanner;
import io.binlogarchive.BinlogSource;
import io.binlogarchive.Cursor;
import io.binlogarchive.FileResult;
import io.binlogarchive.KeyProvider;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.Transform;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The {@code binlog-archive} command-line runner.
 *
 * <p>See {@link #USAGE}. Exit codes: 0 success, 1 failure, 2 bad usage, 3 {@code status --max-age}:
 * the archive is stale, 4 {@code compare}: the two sides differ. Errors are one line on stderr.
 */
public final class Main {
  static final String USAGE =
      String.join(
          "\n",
          "usage: binlog-archive <command> [options]",
          "  archive --binlog-dir DIR --to URI [--cursor FILE] [--compress zstd|gzip|none] [--level N]",
          "          [--parallelism N] [--server-id ID] [--index FILE] [--dry-run] [--shadow]",
          "          [--watch SECONDS [--max-runs N]] [--new-timeline] [--read-back]",
          "          [--encrypt-key-file F [--key-id ID] | --gcp-kms-key NAME [--gcp-kms-endpoint URL] | --kms-key-id ARN]",
          "          [--endpoint URL] [--region R] [--kms-key-name NAME] [--sse-kms-key-id ID]",
          AgentOptions.USAGE,
          "  status  --from URI [--server-id ID] [--endpoint URL] [--region R]",
          "          [--cursor FILE] [--binlog-dir DIR | --index FILE] [--max-age SECONDS]",
          "  inspect FILE",
          CompareCommand.USAGE,
          String.join("\n", RestoreCommands.USAGE),
          ServeCommand.USAGE,
          RewrapCommand.USAGE,
          "Every command takes --verbose (library logs at INFO), --log-format text|json (json: library logs",
          "as one JSON object per line on stdout) and --stats (peak heap and CPU time on exit).",
          "Exit codes: 0 ok, 1 failure, 2 bad usage, 3 status: the archive is stale (--max-age),",
          "4 compare: the two sides differ.",
          "URIs: file:///PATH, s3://bucket/prefix, gs://bucket/prefix");

  private final PrintStream out;
  private final PrintStream err;
  private final Function<String, String> env;

  Main(PrintStream out, PrintStream err) {
    this(out, err, System::getenv);
  }

  /** @param env the environment ({@code GOOGLE_OAUTH_ACCESS_TOKEN}); tests pass their own */
  Main(PrintStream out, PrintStream err, Function<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  /**
   * Runs a command and exits with its code.
   *
   * @param argv the command line
   */
  public static void main(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      if (argv[i].equals("--verbose")) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
      }
      if (argv[i].equals("--log-format=json")
          || argv[i].equals("--log-format") && i + 1 < argv.length && argv[i + 1].equals("json")) {
        System.setProperty("slf4j.provider", JsonLinesLoggerProvider.class.getName());
        System.setProperty("slf4j.internal.verbosity", "WARN");
      }
    }
    boolean stats = java.util.Arrays.asList(argv).contains("--stats");
    int code = new Main(System.out, System.err).run(argv);
    if (stats) {
      printStats(System.err);
    }
    System.exit(code);
  }

  int run(String[] argv) {
    if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h")) {
      (argv.length == 0 ? err : out).println(USAGE);
      return argv.length == 0 ? 2 : 0;
    }
    try {
      argv = java.util.Arrays.stream(argv).filter(x -> !x.equals("--verbose") && !x.equals("--stats"))
          .toArray(String[]::new);
      argv = withoutLogFormat(argv);
      return switch (argv[0]) {
        case "archive" -> archive(argv);
        case "status" -> status(argv);
        case "inspect" -> inspect(argv);
        case "compare" -> CompareCommand.run(argv, out);
        case "restore" -> argv.length > 1 && argv[1].equals("serve") ? ServeCommand.run(argv, out, err, env)
            : RestoreCommands.restore(argv, out, err, env);
        case "verify" -> RestoreCommands.verify(argv, out, err, env);
        case "prune" -> RestoreCommands.prune(argv, out, err, env);
        case "backup" -> RestoreCommands.backup(argv, out, err, env);
        case "rewrap" -> RewrapCommand.run(argv, out, err, env);
        default -> throw new Args.UsageException("unknown command '" + argv[0] + "'");
      };
    } catch (Args.UsageException e) {
      err.println("binlog-archive: " + e.getMessage());
      err.println(USAGE);
      return 2;
    } catch (ArchiveException | IOException | IllegalArgumentException | IllegalStateException e) {
      err.println("binlog-archive: " + oneLine(e));
      return 1;
    }
  }

  /** {@code --log-format text|json} is read in {@link #main}, before the first logger exists. */
  static String[] withoutLogFormat(String[] argv) {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < argv.length; i++) {
      if (argv[i].equals("--log-format") || argv[i].startsWith("--log-format=")) {
        String v = argv[i].startsWith("--log-format=") ? argv[i].substring("--log-format=".length())
            : i + 1 < argv.length ? argv[++i] : null;
        if (!Set.of("text", "json").contains(String.valueOf(v))) {
          throw new Args.UsageException("--log-format must be text or json");
        }
      } else {
        out.add(argv[i]);
      }
    }
    return out.toArray(String[]::new);
  }

  static Set<String> union(Set<String> a, Set<String> b) {
    java.util.Set<String> u = new java.util.HashSet<>(a);
    u.addAll(b);
    return u;
  }

  /** Peak heap (sum of the heap pools' peaks: an upper bound) and process CPU time. */
  static void printStats(PrintStream err) {
    long peak = 0;
    for (java.lang.management.MemoryPoolMXBean p : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == java.lang.management.MemoryType.HEAP && p.getPeakUsage() != null) {
        peak += p.getPeakUsage().getUsed();
      }
    }
    long max = Runtime.getRuntime().maxMemory();
    double cpu = -1;
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      cpu = os.getProcessCpuTime() / 1e9;
    }
    err.printf(Locale.ROOT, "stats: peak_heap_mib=%.1f max_heap_mib=%.1f cpu_seconds=%.2f%n", peak / 1048576.0,
        max / 1048576.0, cpu);
  }

  static String oneLine(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.replace('\n', ' ');
  }

  // ---- archive -------------------------------------------------------------------------------

  private int archive(String[] argv) throws IOException {
    Args a =
        new Args(argv, 1,
            union(Set.of("--binlog-dir", "--to", "--cursor", "--compress", "--level", "--parallelism", "--server-id",
                "--index", "--watch", "--max-runs", "--zstd-workers", "--endpoint", "--kms-key-name",
                "--sse-kms-key-id", "--encrypt-key-file", "--key-id", "--gcp-kms-key", "--gcp-kms-endpoint",
                "--region", "--kms-key-id"),
                AgentOptions.VALUED),
            Set.of("--dry-run", "--shadow", "--new-timeline", "--read-back"));
    Path binlogDir = Path.of(a.required("--binlog-dir"));
    String to = a.required("--to");
    String serverId = a.get("--server-id", "default");
    Transform codec = codec(a);
    if (a.has("--dry-run") && a.has("--shadow")) {
      throw new Args.UsageException("--dry-run and --shadow exclude each other");
    }
    int watch = a.intValue("--watch", 0, 0, 86_400);
    int maxRuns = a.intValue("--max-runs", 0, 1, Integer.MAX_VALUE);
    if (a.has("--max-runs") && watch == 0) {
      throw new Args.UsageException("--max-runs goes with --watch SECONDS");
    }
    if (a.has("--kms-key-id") && (a.has("--encrypt-key-file") || a.has("--key-id") || a.has("--gcp-kms-key"))) {
      throw new Args.UsageException("--kms-key-id excludes --encrypt-key-file, --key-id and --gcp-kms-key");
    }
    KeyProvider keys = Keys.fromArgs(a, "--encrypt-key-file", env);
    Targets.Target target = Targets.open(to, a);
    Path cursor = a.has("--cursor") ? Path.of(a.get("--cursor")) : defaultCursor(target, serverId);
    BinlogSource source =
        a.has("--index") ? BinlogSource.indexFile(Path.of(a.get("--index"))) : BinlogSource.directory(binlogDir);
    Archiver.Builder b =
        Archiver.builder()
            .source(source)
            .sink(target.sink())
            .prefix(target.prefix())
            .serverId(serverId)
            .compression(codec)
            .cursorFile(cursor)
            .parallelism(a.intValue("--parallelism", 1, 1, 64))
            .mode(a.has("--dry-run") ? Archiver.Mode.DRY_RUN : a.has("--shadow") ? Archiver.Mode.SHADOW : Archiver.Mode.ARCHIVE);
    if (a.has("--new-timeline")) {
      b.newTimeline();
    }
    if (keys != null) {
      b.encryption(Transform.aesGcm(keys));
    }
    if (a.has("--read-back")) {
      b.verifier(io.binlogarchive.Verifier.readBack());
    }
    S3Sinks.Kms kms = a.has("--kms-key-id") ? S3Sinks.kms(a) : null;
    if (kms != null) {
      b.encryption(Transform.aesGcm(kms.keys()));
    }
    Watch w = watch > 0 ? new Watch(maxRuns, err) : null;
    if (w != null) {
      b.pollInterval(Duration.ofSeconds(watch));
    }
    try (AgentOptions agent = AgentOptions.apply(a, b, target, serverId, new Progress(err),
            w == null ? ArchiveListener.NONE : w, err);
        Archiver archiver = b.build()) {
      if (w != null) {
        return w.run(archiver);
      }
      RunSummary s = archiver.runOnce();
      return report(s, err) ? 0 : 1;
    } finally {
      target.sink().close();
      if (kms != null) {
        kms.close();
      }
    }
  }

  /**
   * Prints a run's summary line, and its error as one more line.
   *
   * @return whether the run succeeded
   */
  static boolean report(RunSummary s, PrintStream err) {
    err.printf(Locale.ROOT, "binlog-archive: %d archived, %d already archived, %s read in %d ms; cursor %s%n",
        s.archivedCount(),
        s.results().stream().filter(r -> r.status() == FileResult.Status.ALREADY_ARCHIVED).count(),
        bytes(s.bytesRead()), s.duration().toMillis(),
        s.cursor().map(c -> c.timeline() + "/" + c.lastSyncedFile()).orElse("(none)"));
    if (!s.succeeded()) {
      String why = oneLine(s.failure());
      String file = s.failedFile() == null || why.startsWith(s.failedFile().name() + ":") ? ""
          : s.failedFile().name() + ": ";
      err.println("binlog-archive: " + file + why);
    }
    return s.succeeded();
  }

  /**
   * {@code --watch SECONDS}: the archiver runs on its own thread ({@link Archiver#start()}), a run
   * every SECONDS and sooner when the binlog directory changes. A failed run is reported and the
   * next one follows (the metrics and health line show it). The main thread waits for {@code
   * --max-runs} runs, or forever; SIGTERM or SIGINT runs the shutdown hook, which closes the
   * archiver gracefully: no new file starts, files in flight finish, the cursor stays consistent.
   */
  static final class Watch implements ArchiveListener {
    private final int maxRuns;
    private final PrintStream err;
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicInteger runs = new AtomicInteger();
    private volatile boolean lastSucceeded = true;
    private volatile Cursor lastCursor;

    Watch(int maxRuns, PrintStream err) {
      this.maxRuns = maxRuns;
      this.err = err;
    }

    @Override
    public void cursorCommitted(Cursor cursor) {
      lastCursor = cursor;
    }

    @Override
    public void runFinished(RunSummary s) {
      int n = runs.incrementAndGet();
      if (maxRuns > 0 && n > maxRuns) {
        return; // a run that began as the stop was requested: it starts no file
      }
      s.cursor().ifPresent(c -> lastCursor = c);
      lastSucceeded = report(s, err);
      if (maxRuns > 0 && n == maxRuns) {
        done.countDown();
      }
    }

    /** @return 0, or 1 when the last run failed */
    int run(Archiver archiver) throws IOException {
      Thread hook = new Thread(() -> {
        err.println("binlog-archive: stopping: files in flight finish, no new file starts");
        try {
          archiver.close();
          err.println("binlog-archive: stopped; cursor "
              + (lastCursor == null ? "(none)" : lastCursor.timeline() + "/" + lastCursor.lastSyncedFile()));
        } catch (IOException | RuntimeException e) {
          err.println("binlog-archive: stopping: " + oneLine(e));
        }
      }, "binlog-archive-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        archiver.start();
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // the JVM is shutting down: the hook closes the archiver
        }
      }
      archiver.close();
      return lastSucceeded ? 0 : 1;
    }
  }

  static Transform codec(Args a) {
    String c = a.get("--compress", "zstd");
    return switch (c) {
      case "zstd" -> Transform.zstd(a.intValue("--level", 3, 1, 19),
          a.intValue("--zstd-workers", Math.min(2, Runtime.getRuntime().availableProcessors()), 0, 64));
      case "gzip" -> Transform.gzip(a.intValue("--level", 6, 1, 9));
      case "none" -> {
        if (a.has("--level")) {
          throw new Args.UsageException("--level makes no sense with --compress none");
        }
        yield Transform.none();
      }
      default -> throw new Args.UsageException("--compress must be zstd, gzip or none, got '" + c + "'");
    };
  }

  /** Beside a local archive (so the two go together); for cloud targets under the user's home. */
  static Path defaultCursor(Targets.Target target, String serverId) {
    if (target.sink() instanceof io.binlogarchive.FileSystemSink fs) {
      return fs.root().resolve(".binlog-archive").resolve(serverId + ".cursor.json");
    }
    String safe = target.uri().replaceAll("[^A-Za-z0-9._-]+", "_");
    return Path.of(System.getProperty("user.home"), ".binlog-archive", "cursors", safe + "." + serverId + ".json");
  }

  /** One progress line per file on stderr. */
  static final class Progress implements ArchiveListener {
    private final PrintStream err;

    Progress(PrintStream err) {
      this.err = err;
    }

    @Override
    public void fileArchived(FileResult r) {
      Sidecar s = r.sidecar();
      double secs = Math.max(r.duration().toNanos(), 1) / 1e9;
      err.printf(Locale.ROOT, "archived %s  %s -> %s (%.2fx)  %.1f MB/s%n", r.file().name(), bytes(s.size()),
          bytes(s.artifact().size()), s.size() / (double) Math.max(1, s.artifact().size()),
          r.bytesRead() / 1e6 / secs);
    }

    @Override
    public void fileSkipped(FileResult r) {
      err.printf(Locale.ROOT, "%s %s: %s%n", r.status().name().toLowerCase(Locale.ROOT).replace('_', ' '),
          r.file().name(), r.detail());
    }

    @Override
    public void retryScheduled(String what, int attempt, Duration delay, Throwable error) {
      err.printf(Locale.ROOT, "retrying %s in %d ms (attempt %d failed: %s)%n", what, delay.toMillis(), attempt,
          oneLine(error));
    }

    @Override
    public void gapDetected(long after, long next) {
      err.printf(Locale.ROOT, "WARNING: binlogs after sequence %d up to %d were purged before they were archived%n",
          after, next);
    }
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    }
    if (n < 1024L * 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0);
    }
    return String.format(Locale.ROOT, "%.2f GiB", n / 1073741824.0);
  }

  // ---- status --------------------------------------------------------------------------------

  private int status(String[] argv) throws IOException {
    Args a = new Args(argv, 1, union(Set.of("--from", "--server-id", "--endpoint", "--region"), LagStatus.VALUED),
        Set.of());
    // (cloud settings such as --endpoint apply to s3:// and gs:// sources)
    Targets.Target target = Targets.open(a.required("--from"), a);
    try {
      List<String> servers =
          a.has("--server-id") ? List.of(a.get("--server-id")) : ArchiveCatalog.serverIds(target.sink(), target.prefix());
      if (servers.isEmpty()) {
        out.println("no archive under " + target.uri());
        return a.has("--max-age") ? LagStatus.STALE : 0;
      }
      for (String server : servers) {
        ArchiveCatalog catalog = ArchiveCatalog.of(target.sink(), target.prefix(), server);
        for (String timeline : catalog.timelines()) {
          List<Sidecar> sidecars = catalog.sidecars(timeline);
          long total = sidecars.stream().mapToLong(Sidecar::size).sum();
          long stored = sidecars.stream().mapToLong(s -> s.artifact().size()).sum();
          out.printf(Locale.ROOT, "server %s timeline %s: %d file(s), %s -> %s%n", server, timeline, sidecars.size(),
              bytes(total), bytes(stored));
          out.printf(Locale.ROOT, "  %-22s %12s %12s %-6s %-10s %-20s %s%n", "FILE", "SIZE", "STORED", "CODEC", "KEY_ID",
              "LAST_EVENT", "SHA256");
          for (Sidecar s : sidecars) {
            BinlogInfo info = s.binlog();
            out.printf(Locale.ROOT, "  %-22s %12d %12d %-6s %-10s %-20s %s%n", s.file(), s.size(), s.artifact().size(),
                s.artifact().codec(), s.artifact().keyId() == null ? "-" : s.artifact().keyId(),
                info == null || info.lastEventTime() == null ? "-" : info.lastEventTime().toString(), s.sha256());
          }
        }
      }
      if (LagStatus.requested(a)) {
        if (servers.size() != 1) {
          throw new Args.UsageException("several servers under " + target.uri() + ": give --server-id for the lag");
        }
        return LagStatus.report(a, target, servers.get(0), out);
      }
      return 0;
    } finally {
      target.sink().close();
    }
  }

  // ---- inspect -------------------------------------------------------------------------------

  private int inspect(String[] argv) throws IOException {
    Args a = new Args(argv, 1, Set.of(), Set.of());
    if (a.positional().size() != 1) {
      throw new Args.UsageException("inspect takes one FILE");
    }
    Path file = Path.of(a.positional().get(0));
    if (!Files.isRegularFile(file)) {
      throw new io.binlogarchive.NotFoundException("no such file: " + file);
    }
    BinlogInfo info = BinlogScanner.scan(file);
    out.println(new com.fasterxml.jackson.databind.ObjectMapper()
        .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
        .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .writerWithDefaultPrettyPrinter()
        .writeValueAsString(info));
    return 0;
  }
}
