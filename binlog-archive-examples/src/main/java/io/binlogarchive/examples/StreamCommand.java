package io.binlogarchive.examples;

import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.FileResult;
import io.binlogarchive.SegmentArchiver;
import io.binlogarchive.Sidecar;
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
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stream}: connects to the server as a replica, rebuilds its binlogs in a local spool
 * ({@link LiveStream}), stores the open file as segments every interval ({@link SegmentArchiver})
 * and archives each file whole once it is closed ({@link Archiver} over the spool). SIGTERM stops it
 * gracefully: the stream stops, what is durable in the spool is stored, the archiver finishes.
 */
@Command(name = "stream", description = {"Streams the server's binlogs over the replication protocol into the archive.",
    "The open binlog is stored as segments every --segment-interval-ms, each closed binlog whole. Runs until",
    "SIGTERM/SIGINT, which stores what the spool holds first. Password: --password-file or "
        + StreamCommand.PASSWORD_ENV + ".",
    "Exit 5 if the server had purged binlogs the stream needed (a gap in the archive)."})
final class StreamCommand extends CliCommand {
  static final String PASSWORD_ENV = "BINLOG_ARCHIVE_SOURCE_PASSWORD";
  /** Exit status when the server had purged binlogs the stream needed (a gap in the archive). */
  static final int GAP = 5;

  @Option(names = "--source", required = true, paramLabel = "mysql://USER@HOST:PORT",
      description = "the server, as a replica connects to it (no password here)")
  String source;

  @Mixin ArchiveCommand.WriteOptions write;

  @Option(names = "--password-file", paramLabel = "F", description = "the replication user's password, in a file")
  String passwordFile;

  @Option(names = "--replica-server-id", paramLabel = "N",
      description = "the server id this replica registers with (1..4294967295, default 47710)")
  Long replicaServerId;

  @Option(names = "--segment-interval-ms", paramLabel = "N",
      description = "store the open binlog as a segment this often (10..3600000, default 1000)")
  Integer segmentIntervalMs;

  @Option(names = "--semi-sync", description = "acknowledge as a semi-synchronous replica (see --ack-after)")
  boolean semiSync;

  @Option(names = "--ack-after", paramLabel = "store|spool", description = "with --semi-sync: acknowledge once a"
      + " segment holding the transaction is proven in the store (default), or once the spool has synced it")
  String ackAfter;

  @Option(names = "--spool", paramLabel = "DIR", description = "where the binlogs are rebuilt (default under"
      + " ~/.binlog-archive/spool)")
  String spool;

  @Option(names = "--tls", paramLabel = "disabled|preferred|required|verify-ca|verify-identity",
      description = "TLS to the server (default preferred)")
  String tls;

  @Option(names = "--ca-file", paramLabel = "F", description = "the CA certificates (PEM) for verify-ca and verify-identity")
  String caFile;

  @Mixin AgentOptions.Flags agent;

  @Override
  int execute() throws IOException {
    SourceConfig config = sourceConfig(env());
    int intervalMs = CliOptions.range("--segment-interval-ms", segmentIntervalMs, 1000, 10, 3_600_000);
    String ack = ackAfter == null ? "store" : ackAfter;
    if (!ack.equals("store") && !ack.equals("spool")) {
      throw new UsageException("--ack-after must be store or spool, got '" + ack + "'");
    }
    if (ackAfter != null && !semiSync) {
      throw new UsageException("--ack-after goes with --semi-sync");
    }
    boolean ackAfterStore = semiSync && ack.equals("store");
    write.codec(); // bad usage before anything is opened
    try (ArchiveCommand.Opened opened = write.open(env())) {
      Path spoolDir = spool != null ? Path.of(spool) : defaultSpool(opened.target(), opened.serverId());
      Files.createDirectories(spoolDir);
      Archiver.Builder b = opened.builder(LiveStream.spoolSource(spoolDir)).pollInterval(Duration.ofSeconds(10));
      AtomicBoolean gap = new AtomicBoolean();
      Acks acks = new Acks();
      AgentOptions agentOptions = AgentOptions.apply(agent, b, opened.target(), opened.serverId(),
          new Main.Progress(err()), ackAfterStore ? acks : ArchiveListener.NONE, err(), env());
      try (Archiver archiver = b.build()) {
        SegmentArchiver segments = SegmentArchiver.builder(archiver).directory(spoolDir)
            .interval(Duration.ofMillis(intervalMs)).build();
        LiveStream stream = LiveStream.builder(config, spoolDir).listener(new SpoolListener() {
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
          public void serverPosition(Map<String, Long> binlogs, long spoolLag) {
            segments.serverPosition(binlogs);
          }

          @Override
          public void serverPositionUnknown(String why) {
            segments.serverPosition(null);
          }

          @Override
          public void gap(BinlogGapException e) {
            gap.set(true);
            err().println("binlog-archive: GAP: " + Main.oneLine(e));
          }
        }).acknowledgeManually(ackAfterStore).build();
        acks.stream = stream;
        boolean ok = run(stream, segments, archiver, spoolDir, config, opened.target().uri(), err());
        return ok ? gap.get() ? GAP : 0 : 1;
      } finally {
        agentOptions.close(); // the metrics endpoint, after the archiver's last event
      }
    }
  }

  /** Runs until the stream stops (SIGTERM, or a fatal error); then stores what is durable. */
  private static boolean run(LiveStream stream, SegmentArchiver segments, Archiver archiver, Path spool,
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
      err.printf(Main.FORMAT, "binlog-archive: streaming %s into %s (spool %s)%n", source, to, spool);
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
    private final ArrayDeque<SpoolPosition> waiting = new ArrayDeque<>();
    volatile LiveStream stream;

    synchronized void waiting(SpoolPosition p) {
      waiting.add(p);
    }

    @Override
    public void segmentArchived(Sidecar segment) {
      stored(segment.file(), segment.segment().end());
    }

    @Override
    public void fileArchived(FileResult result) {
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
  SourceConfig sourceConfig(Function<String, String> env) {
    URI uri;
    try {
      uri = new URI(source);
    } catch (URISyntaxException e) {
      throw new UsageException("--source must be mysql://USER@HOST:PORT, got an invalid URI");
    }
    if (!"mysql".equals(uri.getScheme()) || uri.getHost() == null || uri.getRawUserInfo() == null
        || (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/"))) {
      throw new UsageException("--source must be mysql://USER@HOST:PORT");
    }
    if (uri.getRawUserInfo().contains(":")) {
      throw new UsageException("--source must not hold a password: use --password-file or " + PASSWORD_ENV);
    }
    SourceConfig.Builder b = SourceConfig.builder(uri.getHost(), uri.getPort() < 0 ? 3306 : uri.getPort(),
        uri.getUserInfo());
    if (passwordFile != null) {
      Path file = Path.of(passwordFile);
      if (!Files.isReadable(file)) {
        throw new UsageException("--password-file " + file + " is not a readable file");
      }
      b.password(() -> readPassword(file));
    } else if (env.apply(PASSWORD_ENV) != null) {
      String p = env.apply(PASSWORD_ENV);
      b.password(p::toCharArray);
    }
    if (tls != null) {
      try {
        b.tls(TlsMode.parse(tls));
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
    }
    if (caFile != null) {
      b.caFile(Path.of(caFile));
    }
    if (replicaServerId != null) {
      if (replicaServerId < 1 || replicaServerId > 0xffffffffL) {
        throw new UsageException("--replica-server-id must be 1..4294967295, got " + replicaServerId);
      }
      b.replicaServerId(replicaServerId);
    }
    if (semiSync) {
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
  static Path defaultSpool(Targets.Target target, String serverId) {
    String safe = target.uri().replaceAll("[^A-Za-z0-9._-]+", "_");
    return Path.of(System.getProperty("user.home"), ".binlog-archive", "spool", safe + "." + serverId);
  }
}
