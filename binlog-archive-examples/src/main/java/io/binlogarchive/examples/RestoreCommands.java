package io.binlogarchive.examples;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.restore.ArchiveProblem;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.restore.PruneResult;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.restore.RestoreWindow;
import io.binlogarchive.restore.RetentionPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.restore.VerifyOptions;
import io.binlogarchive.restore.VerifyReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The read-side commands of the runner: {@code restore plan|fetch}, {@code verify}, {@code prune}
 * and {@code backup register|list}. Times are UTC: {@code 2026-11-22T10:00:00Z} or {@code
 * 2026-11-22 10:00:00}.
 */
final class RestoreCommands {
  private RestoreCommands() {}

  /** What every read-side command takes: the archive, the server, the store and the KEY. */
  static final class ReadOptions {
    @Option(names = "--from", required = true, paramLabel = "URI", description = "the archive")
    String from;

    @Option(names = "--server-id", paramLabel = "ID", description = "the server (default: the archive's only one)")
    String serverId;

    @Option(names = "--parallelism", paramLabel = "N", description = "downloads in flight (1..64, default 2)")
    Integer parallelism;

    @ArgGroup(exclusive = true, validate = false, heading = "KEY (to read encrypted artifacts):%n")
    CliOptions.Key key;

    @Mixin CliOptions.Store store;
  }

  /** The archive a command reads, and what to close after: the sink and any KMS client. */
  record Opened(Targets.Target target, ArchiveReader reader, String serverId, AutoCloseable kms)
      implements AutoCloseable {
    @Override
    public void close() throws IOException {
      try {
        target.sink().close();
      } finally {
        if (kms != null) {
          try {
            kms.close();
          } catch (Exception e) {
            // a KMS client that fails to close loses nothing
          }
        }
      }
    }
  }

  /**
   * Opens the archive {@code --from} names, with the key the options give: {@code --key-file},
   * {@code --gcp-kms-key}, or {@code --kms-key-id} (AWS KMS: credentials and region as for S3, the
   * endpoint from the SDK's {@code AWS_ENDPOINT_URL_KMS} / {@code aws.endpointUrlKms}, as {@code
   * archive} does).
   *
   * @param listener told of each file fetched or verified
   */
  static Opened open(ReadOptions r, boolean sync, boolean allowUnencrypted, ArchiveReader.Listener listener,
      Function<String, String> env) throws IOException {
    CliOptions.Key k = CliOptions.Key.of(r.key);
    KeyProvider keys = Keys.fromOptions(k, "--key-file", r.store.allowInsecureEndpoint, env);
    Targets.Target target = Targets.open(r.from, r.store.settings());
    AutoCloseable kms = null;
    try {
      if (k.awsKmsKeyId != null) {
        S3Sinks.Kms aws = S3Sinks.kms(k.awsKmsKeyId, r.store.settings());
        kms = aws;
        keys = aws.keys();
      }
      String serverId = serverId(r.serverId, target);
      ArchiveReader.Builder b = ArchiveReader.builder().sink(target.sink()).prefix(target.prefix()).serverId(serverId)
          .parallelism(CliOptions.range("--parallelism", r.parallelism, 2, 1, 64))
          .syncFetchedFiles(sync)
          .allowUnencrypted(allowUnencrypted)
          .listener(listener);
      if (keys != null) {
        b.keyProvider(keys);
      }
      return new Opened(target, b.build(), serverId, kms);
    } catch (IOException | RuntimeException e) {
      try {
        new Opened(target, null, null, kms).close();
      } catch (IOException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** {@code --server-id}, else the archive's only server ("default" for an empty archive). */
  static String serverId(String given, Targets.Target target) throws IOException {
    if (given != null) {
      return given;
    }
    List<String> ids = ArchiveCatalog.serverIds(target.sink(), target.prefix());
    if (ids.size() > 1) {
      throw new UsageException("the archive holds several servers " + ids + "; choose one with --server-id");
    }
    return ids.isEmpty() ? "default" : ids.get(0);
  }

  /**
   * Fetch and verify progress on stderr: one line per file, or a bar once {@link #bar} is set (on a
   * terminal). Problems are always a line of their own.
   */
  static final class Progress implements ArchiveReader.Listener {
    private final PrintStream err;
    volatile TerminalProgress bar;

    Progress(PrintStream err) {
      this.err = err;
    }

    @Override
    public void fileFetched(Sidecar s, Path file, boolean reused, Duration d) {
      TerminalProgress b = bar;
      if (b != null) {
        b.step(s.size());
        return;
      }
      double secs = Math.max(d.toNanos(), 1) / 1e9;
      err.printf(Main.FORMAT, reused ? "kept    %s (already fetched and verified)%n"
          : "fetched %s  %s  %.1f MB/s, SHA-256 verified%n", s.file(), Main.bytes(s.size()),
          s.size() / 1e6 / secs);
    }

    @Override
    public void fileVerified(Sidecar s, ArchiveProblem p) {
      TerminalProgress b = bar;
      if (b != null) {
        b.step(s.size());
      }
      if (p != null) {
        err.printf(Main.FORMAT, "PROBLEM %s: %s%n", s.file(), p.message());
      }
    }

    /** What {@link #barOnTerminal} returns: closing it ends the bar. */
    interface Bar {
      void close();
    }

    /** Draws a bar from now on when stderr is a terminal; close what this returns. */
    Bar barOnTerminal(String task, long total) {
      if (!Main.isTerminal(err)) {
        return () -> { };
      }
      TerminalProgress b = new TerminalProgress(task, total, err);
      bar = b;
      return () -> {
        bar = null;
        b.close();
      };
    }
  }

  static Instant time(String option, String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      try {
        return LocalDateTime.parse(text.replace(' ', 'T')).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException e2) {
        throw new UsageException(option + " must be a UTC time like 2026-11-22T10:00:00Z or '2026-11-22 10:00:00',"
            + " got '" + text + "'");
      }
    }
  }

  private static String[] filePos(String option, String text) {
    int c = text.lastIndexOf(':');
    if (c <= 0 || !text.substring(c + 1).matches("\\d{1,18}")) {
      throw new UsageException(option + " must be FILE:POSITION, e.g. mysql-bin.000042:1234, got '" + text + "'");
    }
    return new String[] {text.substring(0, c), text.substring(c + 1)};
  }

  static Duration age(String text) {
    try {
      if (text.matches("\\d+[dhm]")) {
        long n = Long.parseLong(text.substring(0, text.length() - 1));
        return switch (text.charAt(text.length() - 1)) {
          case 'd' -> Duration.ofDays(n);
          case 'h' -> Duration.ofHours(n);
          default -> Duration.ofMinutes(n);
        };
      }
      return Duration.parse(text);
    } catch (DateTimeParseException | NumberFormatException e) {
      throw new UsageException("--max-age must be like 7d, 36h, 90m or PT12H, got '" + text + "'");
    }
  }

  // ---- restore --------------------------------------------------------------------------------

  /** {@code restore}: groups {@code plan} and {@code fetch}. */
  @Command(name = "restore", description = "Plans or fetches a point-in-time restore.",
      synopsisSubcommandLabel = "(plan | fetch | serve)", subcommands = {Plan.class, Fetch.class, ServeCommand.class})
  static final class Restore extends CliCommand {
    @Override
    int execute() {
      throw needsSubcommand(spec);
    }
  }

  /** The options every {@code restore} command shares (the archive, start, target), and the planning. */
  abstract static class Planning extends CliCommand {
    @Mixin ReadOptions read;

    @ArgGroup(exclusive = true, validate = false, heading = "Start (default: the newest base backup before the target,"
        + " or the first archived file):%n")
    Start start;

    @ArgGroup(exclusive = true, validate = false, heading = "Target (default: everything archived):%n")
    Until until;

    @Option(names = "--allow-unencrypted",
        description = "with a KEY: accept unencrypted artifacts too (refused by default)")
    boolean allowUnencrypted;

    static final class Start implements CliOptions.OneOf {
      @Option(names = "--backup", paramLabel = "NAME", description = "start at this registered base backup")
      String backup;

      @Option(names = "--start", paramLabel = "FILE:POS", description = "start at this file and position")
      String start;
    }

    static final class Until implements CliOptions.OneOf {
      @Option(names = "--until", paramLabel = "TIME", description = "the last transaction at or before TIME (UTC)")
      String time;

      @Option(names = "--until-gtid", paramLabel = "SET", description = "up to and including this GTID set")
      String gtid;

      @Option(names = "--until-position", paramLabel = "FILE:POS", description = "up to this file and position")
      String position;
    }

    RestoreTarget target() {
      Until u = until == null ? new Until() : until;
      int targets = (u.time != null ? 1 : 0) + (u.gtid != null ? 1 : 0) + (u.position != null ? 1 : 0);
      if (targets > 1) {
        throw new UsageException("give one of --until, --until-gtid, --until-position");
      }
      if (u.time != null) {
        return RestoreTarget.time(time("--until", u.time));
      }
      if (u.gtid != null) {
        return RestoreTarget.gtid(u.gtid);
      }
      if (u.position != null) {
        String[] fp = filePos("--until-position", u.position);
        return RestoreTarget.position(fp[0], Long.parseLong(fp[1]));
      }
      return RestoreTarget.latest();
    }

    RestorePlan plan(ArchiveReader reader, RestoreTarget target) throws IOException {
      Start s = start == null ? new Start() : start;
      if (s.backup != null) {
        return reader.plan(s.backup, target);
      }
      if (s.start != null) {
        String[] fp = filePos("--start", s.start);
        return reader.planFrom(fp[0], Long.parseLong(fp[1]), target);
      }
      return reader.plan(target); // the newest base backup before the target, or the first file
    }

    void checkStart() {
      if (start != null && start.backup != null && start.start != null) {
        throw new UsageException("give either --backup NAME or --start FILE:POS, not both");
      }
    }
  }

  /** The options {@code restore plan} and {@code restore fetch} share. */
  abstract static class Restoring extends Planning {
    @Option(names = "--to-dir", paramLabel = "DIR", description = "fetch: where the binlogs go (created owner-only)")
    String toDir;

    @Option(names = "--sync", description = "fetch: fsync each fetched file")
    boolean sync;

    @Option(names = "--as-relay-log", paramLabel = "NAME", description = "fetch: the files become the relay logs NAME.*"
        + " of the restored server whose data directory --to-dir is; prints START SLAVE SQL_THREAD UNTIL the target")
    String asRelayLog;
  }

  /** {@code restore plan}: what a restore would fetch and replay, on stdout. */
  @Command(name = "plan", description = "Prints the restore plan: the files, the start and the stop.")
  static final class Plan extends Restoring {
    @Override
    int execute() throws IOException {
      RestoreTarget target = target();
      checkStart();
      try (Opened o = open(read, sync, allowUnencrypted, new Progress(err()), env())) {
        out().print(plan(o.reader(), target).describe());
        return 0;
      }
    }
  }

  /** {@code restore fetch}: downloads, decrypts, decompresses and proves the plan's files into a directory. */
  @Command(name = "fetch", description = {"Fetches the plan's binlogs into --to-dir.",
      "Each file is proven by its SHA-256; the replay command goes to stdout."})
  static final class Fetch extends Restoring {
    @Override
    int execute() throws IOException {
      RestoreTarget target = target();
      checkStart();
      if (toDir == null) {
        throw new UsageException("restore fetch needs --to-dir DIR");
      }
      Progress progress = new Progress(err());
      try (Opened o = open(read, sync, allowUnencrypted, progress, env())) {
        RestorePlan plan = plan(o.reader(), target);
        err().print(plan.describe());
        Path dir = Path.of(toDir);
        FetchResult f;
        Progress.Bar bar = progress.barOnTerminal("fetch", plan.totalBytes());
        try {
          f = o.reader().fetch(plan, dir);
        } finally {
          bar.close();
        }
        err().printf(Main.FORMAT, "binlog-archive: %d fetched, %d kept, %s written to %s in %d ms%n", f.fetched(),
            f.reused(), Main.bytes(f.bytesWritten()), dir, f.duration().toMillis());
        if (asRelayLog != null) {
          return ServeCommand.asRelayLogs(f, asRelayLog, out(), err());
        }
        err().println("replay with:");
        out().println(f.replayShellCommand(
            "mariadb".equals(plan.flavor()) || plan.flavor() == null ? "mariadb" : "mysql"));
        return 0;
      }
    }
  }

  // ---- verify ---------------------------------------------------------------------------------

  /** {@code verify}: checks the archive (sizes and store checksums, or with --full every byte). */
  @Command(name = "verify", description = {"Checks the archive and prints its restorable windows.",
      "Sizes and store checksums, or with --full every artifact downloaded, decoded and its SHA-256 proven.",
      "Exit 1 on a problem."})
  static final class Verify extends CliCommand {
    @Mixin ReadOptions read;

    @Option(names = "--full", description = "download and decode every artifact, prove its SHA-256")
    boolean full;

    @Option(names = "--all", description = "check again the files the state file says are unchanged")
    boolean all;

    @Option(names = "--state", paramLabel = "FILE", description = "what earlier runs proved (default: beside the archive or"
        + " under ~/.binlog-archive/verify)")
    String stateFile;

    @Option(names = "--allow-unencrypted", description = "with a KEY: accept unencrypted artifacts too")
    boolean allowUnencrypted;

    @Override
    int execute() throws IOException {
      Progress progress = new Progress(err());
      try (Opened o = open(read, false, allowUnencrypted, progress, env())) {
        Path state = stateFile != null ? Path.of(stateFile) : defaultState(o.target(), o.serverId());
        VerifyOptions opts = VerifyOptions.defaults().withStateFile(state);
        if (full) {
          opts = opts.withFull();
        }
        if (all) {
          opts = opts.withRecheckAll();
        }
        VerifyReport r;
        Progress.Bar bar = full ? progress.barOnTerminal("verify", -1) : () -> { };
        try {
          r = o.reader().verify(opts);
        } finally {
          bar.close();
        }
        out().printf(Main.FORMAT, "verified %s (%s): %d file(s) checked, %d unchanged since the last run, %s %s%n",
            o.target().uri(), r.full() ? "full: downloaded, decoded, SHA-256" : "sizes and store checksums",
            r.filesChecked(), r.filesUnchanged(), Main.bytes(r.bytesChecked()), r.full() ? "decoded" : "listed");
        for (ArchiveProblem p : r.problems()) {
          out().println("  " + (p.breaksWindow() ? "PROBLEM " : "note    ") + p.kind() + " "
              + (p.objectKey() == null ? "" : p.objectKey() + ": ") + p.message());
        }
        for (RestoreWindow w : r.windows()) {
          out().println("  window  " + w);
        }
        if (r.windows().isEmpty()) {
          out().println("  no restorable window");
        }
        out().println("state: " + state);
        return r.ok() ? 0 : 1;
      }
    }
  }

  static Path defaultState(Targets.Target target, String serverId) {
    if (target.sink() instanceof FileSystemSink fs) {
      return fs.root().resolve(".binlog-archive").resolve(serverId + ".verify.json");
    }
    String safe = target.uri().replaceAll("[^A-Za-z0-9._-]+", "_");
    return Path.of(System.getProperty("user.home"), ".binlog-archive", "verify", safe + "." + serverId + ".json");
  }

  // ---- prune ----------------------------------------------------------------------------------

  /** {@code prune}: deletes what a retention policy no longer needs; a dry run unless --apply. */
  @Command(name = "prune", description = "Deletes what the retention policy no longer needs (a dry run unless --apply).")
  static final class Prune extends CliCommand {
    @Mixin ReadOptions read;

    @ArgGroup(exclusive = true, validate = false, multiplicity = "1", heading = "Policy (one of):%n")
    Policy policy;

    @Option(names = "--apply", description = "delete (without it, only list)")
    boolean apply;

    static final class Policy implements CliOptions.OneOf {
      @Option(names = "--keep-backups", paramLabel = "N", description = "keep what the newest N base backups need")
      Integer keepBackups;

      @Option(names = "--max-age", paramLabel = "7d|36h|PT12H", description = "keep what restores within this age")
      String maxAge;
    }

    @Override
    int execute() throws IOException {
      Policy p = policy == null ? new Policy() : policy;
      if ((p.keepBackups != null) == (p.maxAge != null)) {
        throw new UsageException("give either --keep-backups N or --max-age AGE");
      }
      RetentionPolicy retention = p.keepBackups != null
          ? RetentionPolicy.keepNewestBackups(CliOptions.range("--keep-backups", p.keepBackups, 1, 1, 10_000))
          : RetentionPolicy.maxAge(age(p.maxAge));
      try (Opened o = open(read, false, false, new Progress(err()), env())) {
        PruneResult r = o.reader().maintenance().prune(retention, apply);
        out().printf(Main.FORMAT, "%s: %s; keeping from %s; backups kept %s, dropped %s%n",
            r.applied() ? "pruned" : "dry run (add --apply to delete)", r.policy(), r.keptFrom(), r.retainedBackups(),
            r.droppedBackups());
        out().printf(Main.FORMAT, "%d binlog(s), %d object(s), %s %s%n", r.deletedFiles().size(),
            r.deletedKeys().size(), Main.bytes(r.freedBytes()), r.applied() ? "freed" : "would be freed");
        for (String k : r.deletedKeys()) {
          out().println((r.applied() ? "  deleted " : "  would delete ") + k);
        }
        return 0;
      }
    }
  }

  // ---- backup ---------------------------------------------------------------------------------

  /** {@code backup}: groups {@code register} and {@code list}. */
  @Command(name = "backup", description = "Registers or lists the base backups restores start from.",
      synopsisSubcommandLabel = "(register | list)", subcommands = {Register.class, ListBackups.class})
  static final class Backup extends CliCommand {
    @Override
    int execute() {
      throw needsSubcommand(spec);
    }
  }

  /** {@code backup register}: records a base backup's binlog position (and GTID state) in the archive. */
  @Command(name = "register", description = "Records a base backup's binlog coordinates in the archive.")
  static final class Register extends CliCommand {
    @Mixin ReadOptions read;

    @Option(names = "--name", required = true, paramLabel = "N", description = "the backup's name")
    String name;

    @Option(names = "--file", required = true, paramLabel = "F", description = "the binlog file it was taken at")
    String file;

    @Option(names = "--position", required = true, paramLabel = "P", description = "the position in that file")
    long position;

    @Option(names = "--gtid", paramLabel = "SET", description = "the server's GTID state at the backup")
    String gtid;

    @Option(names = "--taken-at", paramLabel = "TIME", description = "when it was taken (UTC)")
    String takenAt;

    @Option(names = "--timeline", paramLabel = "T", description = "the archive timeline it belongs to")
    String timeline;

    @Override
    int execute() throws IOException {
      BaseBackup b = BaseBackup.of(name, file, position);
      if (gtid != null) {
        b = b.withGtid(gtid);
      }
      if (takenAt != null) {
        b = b.withTakenAt(time("--taken-at", takenAt));
      }
      if (timeline != null) {
        b = b.withTimeline(timeline);
      }
      try (Opened o = open(read, false, false, new Progress(err()), env())) {
        o.reader().maintenance().registerBaseBackup(b);
        out().printf(Main.FORMAT, "registered base backup %s at %s:%d%s in %s%n", b.name(), b.file(), b.position(),
            b.gtid() == null ? "" : " (GTID " + b.gtid() + ")", o.target().uri());
        return 0;
      }
    }
  }

  /** {@code backup list}: the registered base backups. */
  @Command(name = "list", description = "Lists the registered base backups.")
  static final class ListBackups extends CliCommand {
    @Mixin ReadOptions read;

    @Override
    int execute() throws IOException {
      try (Opened o = open(read, false, false, new Progress(err()), env())) {
        for (BaseBackup b : o.reader().maintenance().baseBackups()) {
          out().printf(Main.FORMAT, "%-24s %s:%d  gtid=%s  taken_at=%s%s%n", b.name(), b.file(), b.position(),
              b.gtid() == null ? "-" : b.gtid(), b.takenAt() == null ? "-" : b.takenAt(),
              b.timeline() == null ? "" : "  timeline=" + b.timeline());
        }
        return 0;
      }
    }
  }
}
