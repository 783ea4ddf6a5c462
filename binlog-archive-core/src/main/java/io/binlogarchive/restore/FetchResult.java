package io.binlogarchive.restore;

import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@link ArchiveReader#fetch(RestorePlan, Path)} left in the target directory: the plan's
 * binlogs under their original names, each proven against its sidecar's SHA-256, and the command
 * that replays them.
 *
 * @param plan the plan fetched (for a GTID target, with its stop position filled in)
 * @param directory the target directory
 * @param files the fetched binlogs, in replay order
 * @param fetched how many were downloaded in this call
 * @param reused how many were already there, complete and verified (not downloaded again)
 * @param bytesDownloaded artifact bytes downloaded
 * @param bytesWritten plaintext bytes written
 * @param duration how long the fetch took
 */
public record FetchResult(
    RestorePlan plan,
    Path directory,
    List<Path> files,
    int fetched,
    int reused,
    long bytesDownloaded,
    long bytesWritten,
    Duration duration) {

  private static final DateTimeFormatter DATETIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

  /**
   * Copies the list.
   *
   * @param plan the plan fetched (for a GTID target, with its stop position filled in)
   * @param directory the target directory
   * @param files the fetched binlogs, in replay order
   * @param fetched how many were downloaded in this call
   * @param reused how many were already there, complete and verified (not downloaded again)
   * @param bytesDownloaded artifact bytes downloaded
   * @param bytesWritten plaintext bytes written
   * @param duration how long the fetch took
   */
  public FetchResult {
    files = List.copyOf(files);
  }

  /**
   * The replay command's arguments, for {@link ProcessBuilder}: {@code mariadb-binlog} (or {@code
   * mysqlbinlog}) with {@code --start-position} (first file) and {@code --stop-datetime} (in UTC:
   * run it with {@code TZ=UTC}, see {@link #replayEnvironment()}) or {@code --stop-position} (last
   * file), then the files. Pipe its output into {@code mariadb} / {@code mysql}. When a MariaDB file
   * before the last was left by a server crash, {@code --loose-skip-gtid-strict-mode} is added (see the
   * operations guide, "Server crashes").
   *
   * @return the command
   */
  public List<String> replayCommand() {
    List<String> cmd = new ArrayList<>();
    cmd.add(plan.replayTool());
    if (replaysCrashedFile()) {
      cmd.add("--loose-skip-gtid-strict-mode"); // older mariadb-binlog has no such check, nor option
    }
    if (plan.startPosition() > 4) {
      cmd.add("--start-position=" + plan.startPosition());
    }
    if (plan.stopDatetime() != null) {
      cmd.add("--stop-datetime=" + DATETIME.format(plan.stopDatetime()));
    }
    if (plan.stopPosition() > 0) {
      cmd.add("--stop-position=" + plan.stopPosition());
    }
    for (Path f : files) {
      cmd.add(f.toString());
    }
    return cmd;
  }

  /**
   * Whether a MariaDB file before the last was left by a server crash (its sidecar records the
   * in-use flag). Such a file may end inside a transaction that recovery rolled back; {@code
   * mariadb-binlog} ends it with {@code ROLLBACK}, but the recovered server gave its GTID to the next
   * transaction, and {@code mariadb-binlog}'s own GTID order check (on by default in 10.11) stops
   * at that repeat. The target server still checks GTIDs as it applies them.
   */
  private boolean replaysCrashedFile() {
    if (!"mariadb-binlog".equals(plan.replayTool())) {
      return false;
    }
    List<Sidecar> sidecars = plan.files();
    for (int i = 0; i < sidecars.size() - 1; i++) {
      BinlogInfo info = sidecars.get(i).binlog();
      if (info != null && info.inUse()) {
        return true;
      }
    }
    return false;
  }

  /** @return {@code TZ=UTC}: the environment {@code --stop-datetime} is written for */
  public String replayEnvironment() {
    return "TZ=UTC";
  }

  /**
   * @param client the client the output is piped into, e.g. {@code mariadb -h HOST -u USER -p}
   * @return a shell command line, e.g. {@code TZ=UTC mariadb-binlog --start-position=1234
   *     --stop-datetime='2026-11-22 10:00:01' /restore/mysql-bin.000003 ... | mariadb}
   */
  public String replayShellCommand(String client) {
    StringBuilder sb = new StringBuilder(replayEnvironment());
    for (String a : replayCommand()) {
      sb.append(' ').append(shellQuote(a));
    }
    return sb.append(" | ").append(client).toString();
  }

  /** @return when the plan's stop datetime is, as the command writes it (UTC), or null */
  static String datetime(Instant t) {
    return t == null ? null : DATETIME.format(t);
  }

  static String shellQuote(String s) {
    if (s.matches("[A-Za-z0-9_./=:@%+,-]+")) {
      return s;
    }
    int eq = s.indexOf('=');
    if (s.startsWith("--") && eq > 0 && s.substring(0, eq).matches("--[a-z-]+")) {
      return s.substring(0, eq + 1) + "'" + s.substring(eq + 1).replace("'", "'\\''") + "'";
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
