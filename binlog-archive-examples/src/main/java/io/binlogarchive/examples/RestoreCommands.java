package io.binlogarchive.examples;

import io.binlogarchive.ArchiveCatalog;
import io.binlogarchive.ArchiveProblem;
import io.binlogarchive.ArchiveReader;
import io.binlogarchive.BaseBackup;
import io.binlogarchive.FetchResult;
import io.binlogarchive.FileSystemSink;
import io.binlogarchive.PruneResult;
import io.binlogarchive.RestorePlan;
import io.binlogarchive.RestoreTarget;
import io.binlogarchive.RestoreWindow;
import io.binlogarchive.RetentionPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.VerifyOptions;
import io.binlogarchive.VerifyReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The read-side commands of the runner: {@code restore plan|fetch}, {@code verify}, {@code prune}
 * and {@code backup register|list}. Times are UTC: {@code 2026-11-22T10:00:00Z} or {@code
 * 2026-11-22 10:00:00}.
 */
final class RestoreCommands {
  static final List<String> USAGE = List.of(
      "  restore plan|fetch --from URI (--backup NAME | --start FILE:POS)",
      "          [--until TIME | --until-gtid SET | --until-position FILE:POS] [--to-dir DIR]",
      "          [--server-id ID] [KEY] [--parallelism N] [--sync] [--endpoint URL] [--region R]",
      "  verify  --from URI [--full] [--all] [--state FILE] [--server-id ID] [KEY]",
      "          KEY: --key-file F [--key-id ID] | --gcp-kms-key NAME [--gcp-kms-endpoint URL] | --kms-key-id ARN",
      "  prune   --from URI (--keep-backups N | --max-age 7d|36h|PT12H) [--apply] [--server-id ID]",
      "  backup  register --from URI --name N --file F --position P [--gtid SET] [--taken-at TIME]",
      "          [--timeline T] [--server-id ID]",
      "  backup  list --from URI [--server-id ID]");

  private static final Set<String> COMMON = Set.of("--from", "--server-id", "--endpoint", "--region", "--key-file",
      "--key-id", "--gcp-kms-key", "--gcp-kms-endpoint", "--kms-key-id", "--parallelism");

  private RestoreCommands() {}

  static Set<String> valued(String... more) {
    Set<String> s = new HashSet<>(COMMON);
    s.addAll(List.of(more));
    return s;
  }

  /** The archive a command reads, and what to close after: the sink and any KMS client. */
  record Opened(Targets.Target target, ArchiveReader reader, String serverId, S3Sinks.Kms kms)
      implements AutoCloseable {
    @Override
    public void close() throws IOException {
      try {
        target.sink().close();
      } finally {
        if (kms != null) {
          kms.close();
        }
      }
    }
  }

  /**
   * Opens the archive {@code --from} names, with the key the options give: {@code --key-file},
   * {@code --gcp-kms-key}, or {@code --kms-key-id} (AWS KMS: credentials and region as for S3, the
   * endpoint from the SDK's {@code AWS_ENDPOINT_URL_KMS} / {@code aws.endpointUrlKms}, as {@code
   * archive} does).
   */
  static Opened open(Args a, PrintStream err, Function<String, String> env) throws IOException {
    if (a.has("--kms-key-id") && (a.has("--key-file") || a.has("--key-id") || a.has("--gcp-kms-key"))) {
      throw new Args.UsageException("--kms-key-id excludes --key-file, --key-id and --gcp-kms-key");
    }
    io.binlogarchive.KeyProvider keys = Keys.fromArgs(a, "--key-file", env);
    Targets.Target target = Targets.open(a.required("--from"), a);
    S3Sinks.Kms kms = null;
    try {
      if (a.has("--kms-key-id")) {
        kms = S3Sinks.kms(a);
        keys = kms.keys();
      }
      return open(a, err, target, keys, kms);
    } catch (IOException | RuntimeException e) {
      try {
        new Opened(target, null, null, kms).close();
      } catch (IOException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private static Opened open(Args a, PrintStream err, Targets.Target target, io.binlogarchive.KeyProvider keys,
      S3Sinks.Kms kms) throws IOException {
    String serverId = a.get("--server-id");
    if (serverId == null) {
      List<String> ids = ArchiveCatalog.serverIds(target.sink(), target.prefix());
      if (ids.size() == 1) {
        serverId = ids.get(0);
      } else if (ids.isEmpty()) {
        serverId = "default";
      } else {
        throw new Args.UsageException("the archive holds several servers " + ids + "; choose one with --server-id");
      }
    }
    ArchiveReader.Builder b = ArchiveReader.builder().sink(target.sink()).prefix(target.prefix()).serverId(serverId)
        .parallelism(a.intValue("--parallelism", 2, 1, 64))
        .syncFetchedFiles(a.has("--sync"))
        .listener(new ArchiveReader.Listener() {
          @Override
          public void fileFetched(Sidecar s, Path file, boolean reused, Duration d) {
            double secs = Math.max(d.toNanos(), 1) / 1e9;
            err.printf(Locale.ROOT, reused ? "kept    %s (already fetched and verified)%n"
                : "fetched %s  %s  %.1f MB/s, SHA-256 verified%n", s.file(), Main.bytes(s.size()),
                s.size() / 1e6 / secs);
          }

          @Override
          public void fileVerified(Sidecar s, ArchiveProblem p) {
            if (p != null) {
              err.printf(Locale.ROOT, "PROBLEM %s: %s%n", s.file(), p.message());
            }
          }
        });
    if (keys != null) {
      b.keyProvider(keys);
    }
    return new Opened(target, b.build(), serverId, kms);
  }

  static Instant time(String option, String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      try {
        return LocalDateTime.parse(text.replace(' ', 'T')).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException e2) {
        throw new Args.UsageException(option + " must be a UTC time like 2026-11-22T10:00:00Z or '2026-11-22 10:00:00',"
            + " got '" + text + "'");
      }
    }
  }

  static String[] filePos(String option, String text) {
    int c = text.lastIndexOf(':');
    if (c <= 0 || !text.substring(c + 1).matches("\\d{1,18}")) {
      throw new Args.UsageException(option + " must be FILE:POSITION, e.g. mysql-bin.000042:1234, got '" + text + "'");
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
      throw new Args.UsageException("--max-age must be like 7d, 36h, 90m or PT12H, got '" + text + "'");
    }
  }

  // ---- restore --------------------------------------------------------------------------------

  static int restore(String[] argv, PrintStream out, PrintStream err, Function<String, String> env)
      throws IOException {
    if (argv.length < 2 || !(argv[1].equals("plan") || argv[1].equals("fetch"))) {
      throw new Args.UsageException("restore needs 'plan' or 'fetch'");
    }
    boolean fetch = argv[1].equals("fetch");
    Args a = new Args(argv, 2, valued("--backup", "--start", "--until", "--until-gtid", "--until-position", "--to-dir",
        "--as-relay-log"), Set.of("--sync"));
    int targets = (a.has("--until") ? 1 : 0) + (a.has("--until-gtid") ? 1 : 0) + (a.has("--until-position") ? 1 : 0);
    if (targets > 1) {
      throw new Args.UsageException("give one of --until, --until-gtid, --until-position");
    }
    if (a.has("--backup") == a.has("--start")) {
      throw new Args.UsageException("give either --backup NAME or --start FILE:POS");
    }
    if (fetch && !a.has("--to-dir")) {
      throw new Args.UsageException("restore fetch needs --to-dir DIR");
    }
    RestoreTarget target;
    if (a.has("--until")) {
      target = RestoreTarget.time(time("--until", a.get("--until")));
    } else if (a.has("--until-gtid")) {
      target = RestoreTarget.gtid(a.get("--until-gtid"));
    } else if (a.has("--until-position")) {
      String[] fp = filePos("--until-position", a.get("--until-position"));
      target = RestoreTarget.position(fp[0], Long.parseLong(fp[1]));
    } else {
      target = RestoreTarget.latest();
    }
    Opened o = open(a, err, env);
    try {
      RestorePlan plan;
      if (a.has("--backup")) {
        plan = o.reader().plan(a.get("--backup"), target);
      } else {
        String[] fp = filePos("--start", a.get("--start"));
        plan = o.reader().planFrom(fp[0], Long.parseLong(fp[1]), target);
      }
      if (!fetch) {
        out.print(plan.describe());
        return 0;
      }
      err.print(plan.describe());
      Path dir = Path.of(a.get("--to-dir"));
      FetchResult f = o.reader().fetch(plan, dir);
      err.printf(Locale.ROOT, "binlog-archive: %d fetched, %d kept, %s written to %s in %d ms%n", f.fetched(),
          f.reused(), Main.bytes(f.bytesWritten()), dir, f.duration().toMillis());
      if (a.has("--as-relay-log")) {
        return ServeCommand.asRelayLogs(f, a.get("--as-relay-log"), out, err);
      }
      err.println("replay with:");
      out.println(f.replayShellCommand("mariadb".equals(plan.flavor()) || plan.flavor() == null ? "mariadb" : "mysql"));
      return 0;
    } finally {
      o.close();
    }
  }

  // ---- verify ---------------------------------------------------------------------------------

  static int verify(String[] argv, PrintStream out, PrintStream err, Function<String, String> env)
      throws IOException {
    Args a = new Args(argv, 1, valued("--state"), Set.of("--full", "--all"));
    Opened o = open(a, err, env);
    try {
      Path state = a.has("--state") ? Path.of(a.get("--state")) : defaultState(o.target(), o.serverId());
      VerifyOptions opts = VerifyOptions.defaults().withStateFile(state);
      if (a.has("--full")) {
        opts = opts.withFull();
      }
      if (a.has("--all")) {
        opts = opts.withRecheckAll();
      }
      VerifyReport r = o.reader().verify(opts);
      out.printf(Locale.ROOT, "verified %s (%s): %d file(s) checked, %d unchanged since the last run, %s %s%n",
          o.target().uri(), r.full() ? "full: downloaded, decoded, SHA-256" : "sizes and store checksums",
          r.filesChecked(), r.filesUnchanged(), Main.bytes(r.bytesChecked()), r.full() ? "decoded" : "listed");
      for (ArchiveProblem p : r.problems()) {
        out.println("  " + (p.breaksWindow() ? "PROBLEM " : "note    ") + p.kind() + " "
            + (p.objectKey() == null ? "" : p.objectKey() + ": ") + p.message());
      }
      for (RestoreWindow w : r.windows()) {
        out.println("  window  " + w);
      }
      if (r.windows().isEmpty()) {
        out.println("  no restorable window");
      }
      out.println("state: " + state);
      return r.ok() ? 0 : 1;
    } finally {
      o.close();
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

  static int prune(String[] argv, PrintStream out, PrintStream err, Function<String, String> env)
      throws IOException {
    Args a = new Args(argv, 1, valued("--keep-backups", "--max-age"), Set.of("--apply"));
    if (a.has("--keep-backups") == a.has("--max-age")) {
      throw new Args.UsageException("give either --keep-backups N or --max-age AGE");
    }
    RetentionPolicy policy = a.has("--keep-backups")
        ? RetentionPolicy.keepNewestBackups(a.intValue("--keep-backups", 1, 1, 10_000))
        : RetentionPolicy.maxAge(age(a.get("--max-age")));
    Opened o = open(a, err, env);
    try {
      PruneResult r = o.reader().prune(policy, a.has("--apply"));
      out.printf(Locale.ROOT, "%s: %s; keeping from %s; backups kept %s, dropped %s%n",
          r.applied() ? "pruned" : "dry run (add --apply to delete)", r.policy(), r.keptFrom(), r.retainedBackups(),
          r.droppedBackups());
      out.printf(Locale.ROOT, "%d binlog(s), %d object(s), %s %s%n", r.deletedFiles().size(), r.deletedKeys().size(),
          Main.bytes(r.freedBytes()), r.applied() ? "freed" : "would be freed");
      for (String k : r.deletedKeys()) {
        out.println((r.applied() ? "  deleted " : "  would delete ") + k);
      }
      return 0;
    } finally {
      o.close();
    }
  }

  // ---- backup ---------------------------------------------------------------------------------

  static int backup(String[] argv, PrintStream out, PrintStream err, Function<String, String> env)
      throws IOException {
    if (argv.length < 2 || !(argv[1].equals("register") || argv[1].equals("list"))) {
      throw new Args.UsageException("backup needs 'register' or 'list'");
    }
    if (argv[1].equals("list")) {
      Args a = new Args(argv, 2, valued(), Set.of());
      Opened o = open(a, err, env);
      try {
        for (BaseBackup b : o.reader().baseBackups()) {
          out.printf(Locale.ROOT, "%-24s %s:%d  gtid=%s  taken_at=%s%s%n", b.name(), b.file(), b.position(),
              b.gtid() == null ? "-" : b.gtid(), b.takenAt() == null ? "-" : b.takenAt(),
              b.timeline() == null ? "" : "  timeline=" + b.timeline());
        }
        return 0;
      } finally {
        o.close();
      }
    }
    Args a = new Args(argv, 2, valued("--name", "--file", "--position", "--gtid", "--taken-at", "--timeline"), Set.of());
    long position;
    try {
      position = Long.parseLong(a.required("--position"));
    } catch (NumberFormatException e) {
      throw new Args.UsageException("--position must be a number, got '" + a.get("--position") + "'");
    }
    BaseBackup b = BaseBackup.of(a.required("--name"), a.required("--file"), position);
    if (a.has("--gtid")) {
      b = b.withGtid(a.get("--gtid"));
    }
    if (a.has("--taken-at")) {
      b = b.withTakenAt(time("--taken-at", a.get("--taken-at")));
    }
    if (a.has("--timeline")) {
      b = b.withTimeline(a.get("--timeline"));
    }
    Opened o = open(a, err, env);
    try {
      o.reader().registerBaseBackup(b);
      out.printf(Locale.ROOT, "registered base backup %s at %s:%d%s in %s%n", b.name(), b.file(), b.position(),
          b.gtid() == null ? "" : " (GTID " + b.gtid() + ")", o.target().uri());
      return 0;
    } finally {
      o.close();
    }
  }
}
