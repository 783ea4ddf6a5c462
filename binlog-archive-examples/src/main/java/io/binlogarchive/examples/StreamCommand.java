package io.binlogarchive.examples;

import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.BinlogFile;
import io.binlogarchive.BinlogSource;
import io.binlogarchive.SegmentArchiver;
import io.binlogarchive.replication.live.BinlogGapException;
import io.binlogarchive.replication.live.LiveStream;
import io.binlogarchive.replication.live.SourceConfig;
import io.binlogarchive.replication.live.SpoolListener;
import io.binlogarchive.replication.live.SpoolPosition;
import io.binlogarchive.replication.live.TlsMode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * {@code stream}: connects to the server as a replica, rebuilds its binlogs in a local spool
 * ({@link LiveStream}), stores the open file as segments every interval ({@link SegmentArchiver})
 * and archives each file whole once it is closed ({@link Archiver} over the spool). SIGTERM stops it
 * gracefully: the stream stops, what is durable in the spool is stored, the archiver finishes.
 */
final class StreamCommand {
  static final String PASSWORD_ENV = "BINLOG_ARCHIVE_SOURCE_PASSWORD";
  /** Exit status when the server had purged binlogs the stream needed (a gap in the archive). */
  static final int GAP = 5;
  static final String USAGE = String.join("\n",
      "  stream  --source mysql://USER@HOST:PORT --to URI [--password-file F] [--server-id ID]",
      "          [--replica-server-id N] [--segment-interval-ms N] [--semi-sync [--ack-after store|spool]]",
      "          [--spool DIR]",
      "          [--tls disabled|preferred|required|verify-ca|verify-identity] [--ca-file F]",
      "          plus archive's --cursor, --compress, --level, KEY, store, --read-back and agent options;",
      "          password also from " + PASSWORD_ENV + "; exit 5 if the server had purged needed binlogs");

  private StreamCommand() {}

  static int run(String[] argv, PrintStream err, Function<String, String> env) throws IOException {
    Args a = new Args(argv, 1,
        Main.union(Set.of("--source", "--password-file", "--replica-server-id", "--segment-interval-ms", "--spool",
            "--tls", "--ca-file", "--ack-after"), Main.STORE_VALUED),
        Set.of("--semi-sync", "--read-back"));
    SourceConfig source = source(a, env);
    int intervalMs = a.intValue("--segment-interval-ms", 1000, 10, 3_600_000);
    String ackAfter = a.get("--ack-after", "store");
    if (!Set.of("store", "spool").contains(ackAfter) || (a.has("--ack-after") && !a.has("--semi-sync"))) {
      throw new Args.UsageException("--ack-after is store or spool, and goes with --semi-sync");
    }
    boolean ackAfterStore = a.has("--semi-sync") && ackAfter.equals("store");
    try (Main.StoreSetup store = Main.StoreSetup.open(a, env)) {
      Path spool = a.has("--spool") ? Path.of(a.get("--spool")) : defaultSpool(store);
      Files.createDirectories(spool);
      Archiver.Builder b = store.builder(a, new SpoolSource(spool)).pollInterval(Duration.ofSeconds(10));
      AtomicBoolean gap = new AtomicBoolean();
      Acks acks = new Acks();
      try (AgentOptions agent = AgentOptions.apply(a, b, store.target(), store.serverId(), new Main.Progress(err),
              ackAfterStore ? acks : ArchiveListener.NONE, err);
          Archiver archiver = b.build()) {
        SegmentArchiver segments = SegmentArchiver.builder(archiver).directory(spool)
            .interval(Duration.ofMillis(intervalMs)).build();
        LiveStream stream = LiveStream.builder(source, spool).listener(new SpoolListener() {
          @Override
          public void transactionDurable(SpoolPosition p) {
            segments.durable(p.file(), p.endOffset());
          }

          @Override
          public void fileClosed(String name, long size) {
            segments.durable(name, size);
            archiver.wakeUp();
          }

          @Override
          public void sourceWaiting(SpoolPosition p) {
            acks.waiting(p);
            segments.durable(p.file(), p.endOffset());
            segments.flushSoon(); // the source's commit waits for this segment
          }

          @Override
          public void gap(BinlogGapException e) {
            gap.set(true);
            err.println("binlog-archive: GAP: " + Main.oneLine(e));
          }
        }).acknowledgeManually(ackAfterStore).build();
        acks.stream = stream;
        return stream(stream, segments, archiver, spool, source, store.target().uri(), err) ? (gap.get() ? GAP : 0) : 1;
      }
    }
  }

  /** Runs until the stream stops (SIGTERM, or a fatal error); then stores what is durable. */
  private static boolean stream(LiveStream stream, SegmentArchiver segments, Archiver archiver, Path spool,
      SourceConfig source, String to, PrintStream err) throws IOException {
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      err.println("binlog-archive: stopping: the stream stops, what is durable in the spool is stored");
      stream.stop();
      try {
        finished.await(5, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "binlog-archive-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    boolean ok = true;
    try {
      archiver.start();
      segments.start();
      err.printf(Locale.ROOT, "binlog-archive: streaming %s into %s (spool %s)%n", source, to, spool);
      try {
        stream.run();
      } catch (IOException | RuntimeException e) {
        ok = false;
        err.println("binlog-archive: the stream stopped: " + Main.oneLine(e));
      }
      segments.close();
      archiver.close();
      err.println("binlog-archive: stopped; live position " + segments.lastSegment()
          .map(s -> s.file() + ":" + s.segment().end()).orElse("(none)"));
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook waited for this
      }
    }
    return ok;
  }

  /**
   * With {@code --semi-sync} (and {@code --ack-after store}, the default): a transaction the source
   * waits for is acknowledged only once a segment holding it is proven in the store, or its file is
   * archived whole. Acknowledging a position covers every position before it.
   */
  static final class Acks implements ArchiveListener {
    private final java.util.ArrayDeque<SpoolPosition> waiting = new java.util.ArrayDeque<>();
    volatile LiveStream stream;

    synchronized void waiting(SpoolPosition p) {
      waiting.add(p);
    }

    @Override
    public void segmentArchived(io.binlogarchive.Sidecar segment) {
      stored(segment.file(), segment.segment().end());
    }

    @Override
    public void fileArchived(io.binlogarchive.FileResult result) {
      stored(result.file().name(), Long.MAX_VALUE);
    }

    private void stored(String file, long end) {
      SpoolPosition ack = null;
      synchronized (this) {
        long seq = sequence(file);
        while (!waiting.isEmpty()) {
          SpoolPosition p = waiting.peek();
          long s = sequence(p.file());
          if (s < seq || (s == seq && p.endOffset() <= end)) {
            ack = waiting.poll();
          } else {
            break;
          }
        }
      }
      LiveStream s = stream;
      if (ack != null && s != null) {
        try {
          s.acknowledge(ack);
        } catch (IOException e) {
          // the stream reconnects by itself; the source stops waiting for the old connection
        }
      }
    }

    private static long sequence(String file) {
      try {
        return Long.parseLong(file.substring(file.lastIndexOf('.') + 1));
      } catch (RuntimeException e) {
        return -1;
      }
    }
  }

  /** {@code mysql://USER@HOST:PORT}; the password never comes from the command line. */
  static SourceConfig source(Args a, Function<String, String> env) {
    String text = a.required("--source");
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new Args.UsageException("--source must be mysql://USER@HOST:PORT, got an invalid URI");
    }
    if (!"mysql".equals(uri.getScheme()) || uri.getHost() == null || uri.getRawUserInfo() == null
        || (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/"))) {
      throw new Args.UsageException("--source must be mysql://USER@HOST:PORT");
    }
    if (uri.getRawUserInfo().contains(":")) {
      throw new Args.UsageException("--source must not hold a password: use --password-file or " + PASSWORD_ENV);
    }
    SourceConfig.Builder b = SourceConfig.builder(uri.getHost(), uri.getPort() < 0 ? 3306 : uri.getPort(),
        uri.getUserInfo());
    if (a.has("--password-file")) {
      Path file = Path.of(a.get("--password-file"));
      if (!Files.isReadable(file)) {
        throw new Args.UsageException("--password-file " + file + " is not a readable file");
      }
      b.password(() -> readPassword(file));
    } else if (env.apply(PASSWORD_ENV) != null) {
      String p = env.apply(PASSWORD_ENV);
      b.password(p::toCharArray);
    }
    if (a.has("--tls")) {
      try {
        b.tls(TlsMode.parse(a.get("--tls")));
      } catch (IllegalArgumentException e) {
        throw new Args.UsageException(e.getMessage());
      }
    }
    if (a.has("--ca-file")) {
      b.caFile(Path.of(a.get("--ca-file")));
    }
    if (a.has("--replica-server-id")) {
      b.replicaServerId(a.intValue("--replica-server-id", 0, 1, Integer.MAX_VALUE));
    }
    if (a.has("--semi-sync")) {
      b.semiSync(true);
    }
    return b.build();
  }

  private static char[] readPassword(Path file) {
    try {
      String p = Files.readString(file, StandardCharsets.UTF_8);
      return p.endsWith("\r\n") ? p.substring(0, p.length() - 2).toCharArray()
          : p.endsWith("\n") ? p.substring(0, p.length() - 1).toCharArray() : p.toCharArray();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the password file " + file + ": " + e.getMessage());
    }
  }

  /** Under the user's home, one directory per target and server id. */
  static Path defaultSpool(Main.StoreSetup store) {
    String safe = store.target().uri().replaceAll("[^A-Za-z0-9._-]+", "_");
    return Path.of(System.getProperty("user.home"), ".binlog-archive", "spool", safe + "." + store.serverId());
  }

  /** The spool's closed files; none until the stream has written the spool's index. */
  static final class SpoolSource implements BinlogSource {
    private final Path spool;

    SpoolSource(Path spool) {
      this.spool = spool;
    }

    @Override
    public List<BinlogFile> closedFiles() throws IOException {
      try (var files = Files.list(spool)) {
        if (files.noneMatch(p -> p.getFileName().toString().endsWith(".index"))) {
          return List.of();
        }
      }
      return BinlogSource.directory(spool).closedFiles();
    }

    @Override
    public String describe() {
      return "spool " + spool;
    }
  }
}
