package io.binlogarchive.examples;

import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.RunSummary;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.Verifier;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code archive}: one run over the closed binlogs past the cursor, or with {@code --watch} an agent. */
@Command(name = "archive", description = {"Archives the closed binlogs past the cursor.",
    "One run, or with --watch a run every SECONDS (and when the binlog directory changes) until",
    "SIGTERM/SIGINT or --max-runs."})
final class ArchiveCommand extends CliCommand {
  @Option(names = "--binlog-dir", required = true, paramLabel = "DIR", description = "the server's binlog directory")
  String binlogDir;

  @Option(names = "--to", required = true, paramLabel = "URI", description = "the archive")
  String to;

  @Option(names = "--cursor", paramLabel = "FILE",
      description = "the cursor (default: inside a file:// archive, else under ~/.binlog-archive/cursors)")
  String cursor;

  @Option(names = "--compress", paramLabel = "zstd|gzip|none", description = "the codec (default zstd)")
  String compress;

  @Option(names = "--level", paramLabel = "N", description = "compression level (zstd 1..19, default 3; gzip 1..9, default 6)")
  Integer level;

  @Option(names = "--zstd-workers", paramLabel = "N", description = "zstd worker threads per file (0..64, default 2)")
  Integer zstdWorkers;

  @Option(names = "--parallelism", paramLabel = "N", description = "files in flight (1..64, default 1)")
  Integer parallelism;

  @Option(names = "--server-id", paramLabel = "ID", description = "the server's name in the archive (default: default)")
  String serverId = "default";

  @Option(names = "--index", paramLabel = "FILE", description = "list the binlogs from the server's index file")
  String index;

  @ArgGroup(exclusive = true, validate = false)
  Mode mode;

  @ArgGroup(exclusive = false, validate = false)
  Watching watching;

  @Option(names = "--new-timeline", description = "start a new timeline (after a restore or a server rebuild)")
  boolean newTimeline;

  @Option(names = "--read-back", description = "prove each artifact by reading it back before its sidecar is written")
  boolean readBack;

  @ArgGroup(exclusive = true, validate = false, heading = "KEY (client-side encryption):%n")
  CliOptions.Key key;

  @Mixin CliOptions.Store store;

  @Option(names = "--kms-key-name", paramLabel = "NAME", description = "GCS: the bucket-side CMEK key")
  String gcsKmsKeyName;

  @Option(names = "--sse-kms-key-id", paramLabel = "ID", description = "S3: server-side encryption with this KMS key")
  String sseKmsKeyId;

  @Mixin AgentOptions.Flags agent;

  static final class Mode implements CliOptions.OneOf {
    @Option(names = "--dry-run", description = "list what a run would archive; write nothing")
    boolean dryRun;

    @Option(names = "--shadow", description = "read, compress and encrypt every file, upload nothing")
    boolean shadow;
  }

  static final class Watching {
    @Option(names = "--watch", required = true, paramLabel = "SECONDS", description = "keep running: a run every SECONDS (0..86400)")
    Integer seconds;

    @Option(names = "--max-runs", paramLabel = "N", description = "with --watch: stop after N runs")
    Integer maxRuns;
  }

  @Override
  int execute() throws IOException {
    Path dir = Path.of(binlogDir);
    Transform codec = codec();
    Mode m = mode == null ? new Mode() : mode;
    if (m.dryRun && m.shadow) {
      throw new UsageException("--dry-run and --shadow exclude each other");
    }
    Watching w0 = watching == null ? new Watching() : watching;
    int watch = CliOptions.range("--watch", w0.seconds, 0, 0, 86_400);
    int maxRuns = CliOptions.range("--max-runs", w0.maxRuns, 0, 1, Integer.MAX_VALUE);
    if (w0.maxRuns != null && watch == 0) {
      throw new UsageException("--max-runs goes with --watch SECONDS");
    }
    CliOptions.Key k = CliOptions.Key.of(key);
    KeyProvider keys = Keys.fromOptions(k, "--encrypt-key-file", store.allowInsecureEndpoint, env());
    Targets.Target target = Targets.open(to, store.settings(gcsKmsKeyName, sseKmsKeyId));
    Path cursorFile = cursor != null ? Path.of(cursor) : defaultCursor(target, serverId);
    BinlogSource source = index != null ? BinlogSource.indexFile(Path.of(index)) : BinlogSource.directory(dir);
    Archiver.Builder b =
        Archiver.builder()
            .source(source)
            .sink(target.sink())
            .prefix(target.prefix())
            .serverId(serverId)
            .compression(codec)
            .cursorFile(cursorFile)
            .parallelism(CliOptions.range("--parallelism", parallelism, 1, 1, 64))
            .mode(m.dryRun ? Archiver.Mode.DRY_RUN : m.shadow ? Archiver.Mode.SHADOW : Archiver.Mode.ARCHIVE);
    if (newTimeline) {
      b.newTimeline();
    }
    if (keys != null) {
      b.encryption(Transform.aesGcm(keys));
    }
    if (readBack) {
      b.verifier(Verifier.readBack());
    }
    AutoCloseable kms = null;
    try {
      if (k.awsKmsKeyId != null) {
        S3Sinks.Kms aws = S3Sinks.kms(k.awsKmsKeyId, store.settings());
        kms = aws;
        b.encryption(Transform.aesGcm(aws.keys()));
      }
      Main.Watch w = watch > 0 ? new Main.Watch(maxRuns, err()) : null;
      if (w != null) {
        b.pollInterval(Duration.ofSeconds(watch));
      }
      AgentOptions agentOptions = AgentOptions.apply(agent, b, target, serverId, Main.Progress.forStderr(err()),
          w == null ? ArchiveListener.NONE : w, err(), env());
      try (Archiver archiver = b.build()) {
        if (w != null) {
          return w.run(archiver);
        }
        RunSummary s = archiver.runOnce();
        return Main.report(s, err()) ? 0 : 1;
      } finally {
        agentOptions.close(); // the metrics endpoint, after the archiver's last event
      }
    } finally {
      try {
        target.sink().close();
      } finally {
        if (kms != null) {
          closeQuietly(kms);
        }
      }
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // a KMS client that fails to close loses nothing
    }
  }

  Transform codec() {
    String c = compress == null ? "zstd" : compress;
    return switch (c) {
      case "zstd" -> Transform.zstd(CliOptions.range("--level", level, 3, 1, 19),
          CliOptions.range("--zstd-workers", zstdWorkers, Math.min(2, Runtime.getRuntime().availableProcessors()), 0,
              64));
      case "gzip" -> Transform.gzip(CliOptions.range("--level", level, 6, 1, 9));
      case "none" -> {
        if (level != null) {
          throw new UsageException("--level makes no sense with --compress none");
        }
        yield Transform.none();
      }
      default -> throw new UsageException("--compress must be zstd, gzip or none, got '" + c + "'");
    };
  }

  /** Beside a local archive (so the two go together); for cloud targets under the user's home. */
  static Path defaultCursor(Targets.Target target, String serverId) {
    if (target.sink() instanceof FileSystemSink fs) {
      return fs.root().resolve(".binlog-archive").resolve(serverId + ".cursor.json");
    }
    String safe = target.uri().replaceAll("[^A-Za-z0-9._-]+", "_");
    return Path.of(System.getProperty("user.home"), ".binlog-archive", "cursors", safe + "." + serverId + ".json");
  }
}
