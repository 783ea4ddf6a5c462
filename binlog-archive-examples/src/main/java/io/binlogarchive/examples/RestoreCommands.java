package io.binlogarchive.examples;

import static io.binlogarchive.examples.ReadOptions.open;

import io.binlogarchive.examples.ReadOptions.Opened;
import io.binlogarchive.restore.ArchiveProblem;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.restore.PruneResult;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.restore.RestoreWindow;
import io.binlogarchive.restore.RetentionPolicy;
import io.binlogarchive.restore.VerifyOptions;
import io.binlogarchive.restore.VerifyReport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The read-side commands of the runner: {@code restore plan|fetch}, {@code verify}, {@code prune}
 * and {@code backup register|list}. Times are UTC: {@code 2026-11-22T10:00:00Z} or {@code
 * 2026-11-22 10:00:00}. Each opens the archive through {@link ReadOptions} and reports progress
 * through {@link FileProgress}.
 */
final class RestoreCommands {
  private RestoreCommands() {}

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
      try (Opened o = open(read, sync, allowUnencrypted, new FileProgress(err()), env())) {
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
      FileProgress progress = new FileProgress(err());
      try (Opened o = open(read, sync, allowUnencrypted, progress, env())) {
        RestorePlan plan = plan(o.reader(), target);
        err().print(plan.describe());
        Path dir = Path.of(toDir);
        FetchResult f;
        FileProgress.Bar bar = progress.barOnTerminal("fetch", plan.totalBytes());
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
      FileProgress progress = new FileProgress(err());
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
        FileProgress.Bar bar = full ? progress.barOnTerminal("verify", -1) : () -> { };
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
      try (Opened o = open(read, false, false, new FileProgress(err()), env())) {
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
      try (Opened o = open(read, false, false, new FileProgress(err()), env())) {
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
      try (Opened o = open(read, false, false, new FileProgress(err()), env())) {
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
