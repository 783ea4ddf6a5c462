package io.binlogarchive;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Checks, over the caller's {@link DataSource}, that the server's settings let the archive be
 * complete: binary logging on, row format, a durable binlog, binlogs kept long enough for the
 * archiver to catch up after an outage, and a server identity. Works on MySQL 5.7/8.x and MariaDB
 * 10.x; only reads variables (no privilege beyond a login is needed).
 *
 * <pre>{@code
 * Preflight.Report r = Preflight.check(dataSource, Duration.ofHours(1));
 * if (!r.ok()) System.err.println(r);
 * }</pre>
 */
public final class Preflight {

  /** What the archiver does when a check fails. */
  public enum OnProblem {
    /** Log each problem at WARN with what to change, then archive anyway. */
    WARN,
    /** Refuse to open the archiver (its first run, start or {@code open()}): an {@link ArchiveException} lists every problem. */
    REFUSE
  }

  /**
   * One failed check.
   *
   * @param setting the server variable
   * @param actual its value ({@code null} if the server does not have it)
   * @param expected what it should be
   * @param advice what to change, and why
   */
  public record Finding(String setting, String actual, String expected, String advice) {
    @Override
    public String toString() {
      return setting + "=" + actual + " (want " + expected + "): " + advice;
    }
  }

  /**
   * What the server said and what is wrong.
   *
   * @param server {@code MySQL <version>} or {@code MariaDB <version>}
   * @param serverIdentity {@code server_uuid} (MySQL) or {@code server_id} (MariaDB)
   * @param binlogRetention how long the server keeps binlogs ({@link Duration#ZERO} if forever)
   * @param findings the failed checks; empty when all is well
   */
  public record Report(String server, String serverIdentity, Duration binlogRetention, List<Finding> findings) {
    /**
     * Copies the list.
     *
     * @param server {@code MySQL <version>} or {@code MariaDB <version>}
     * @param serverIdentity {@code server_uuid} (MySQL) or {@code server_id} (MariaDB)
     * @param binlogRetention how long the server keeps binlogs ({@link Duration#ZERO} if forever)
     * @param findings the failed checks; empty when all is well
     */
    public Report {
      findings = List.copyOf(findings);
    }

    /** @return whether every check passed */
    public boolean ok() {
      return findings.isEmpty();
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("preflight of " + server + " (" + serverIdentity + "): ");
      if (findings.isEmpty()) {
        return sb.append("all checks passed").toString();
      }
      sb.append(findings.size()).append(" problem(s)");
      for (Finding f : findings) {
        sb.append("; ").append(f);
      }
      return sb.toString();
    }
  }

  private Preflight() {}

  /**
   * @param dataSource the caller's data source (the library ships no driver)
   * @param worstCaseLag how long the archive may fall behind: the rotation age, the poll interval
   *     and the retry budget together; binlogs must be kept for at least twice that
   * @return the report
   * @throws ArchiveException if the server cannot be asked
   */
  public static Report check(DataSource dataSource, Duration worstCaseLag) {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(worstCaseLag, "worstCaseLag");
    Map<String, String> v = new HashMap<>();
    String version;
    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT VERSION()")) {
        rs.next();
        version = rs.getString(1);
      }
      try (ResultSet rs = st.executeQuery("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format',"
          + " 'sync_binlog', 'binlog_expire_logs_seconds', 'expire_logs_days', 'server_uuid', 'server_id')")) {
        while (rs.next()) {
          v.put(rs.getString(1).toLowerCase(Locale.ROOT), rs.getString(2));
        }
      }
    } catch (SQLException e) {
      throw new ArchiveException("preflight could not read the server's settings: " + e.getMessage(), e);
    }
    boolean mariadb = version.toLowerCase(Locale.ROOT).contains("mariadb");
    String server = (mariadb ? "MariaDB " : "MySQL ") + version;
    List<Finding> findings = new ArrayList<>();
    String logBin = v.get("log_bin");
    if (!"ON".equalsIgnoreCase(logBin) && !"1".equals(logBin)) {
      findings.add(new Finding("log_bin", logBin, "ON",
          "binary logging is off, so there is nothing to archive: start the server with log_bin (e.g."
              + " log_bin=mysql-bin in my.cnf) and restart it"));
    }
    String format = v.get("binlog_format");
    if (!"ROW".equalsIgnoreCase(format)) {
      findings.add(new Finding("binlog_format", format, "ROW",
          "statement-based events can replay differently on restore: SET GLOBAL binlog_format=ROW and put"
              + " binlog_format=ROW in my.cnf"));
    }
    String sync = v.get("sync_binlog");
    if (!"1".equals(sync)) {
      findings.add(new Finding("sync_binlog", sync, "1",
          "with sync_binlog other than 1 a crash of the server host can lose committed transactions from the"
              + " binlog before they are archived: SET GLOBAL sync_binlog=1 and put it in my.cnf"));
    }
    Duration retention = retention(v);
    Duration needed = worstCaseLag.multipliedBy(2);
    if (!retention.isZero() && retention.compareTo(needed) < 0) {
      String var = v.containsKey("binlog_expire_logs_seconds") ? "binlog_expire_logs_seconds" : "expire_logs_days";
      findings.add(new Finding(var, v.get(var), ">= " + needed.toSeconds() + " s (twice the worst-case lag "
          + worstCaseLag.toSeconds() + " s)",
          "the server may purge binlogs before the archiver catches up after an outage, leaving a gap: SET GLOBAL"
              + " binlog_expire_logs_seconds=" + Math.max(needed.toSeconds(), 86_400) + " (or more) and put it in"
              + " my.cnf"));
    }
    String identity;
    if (v.get("server_uuid") != null) {
      identity = "server_uuid " + v.get("server_uuid");
    } else {
      identity = "server_id " + v.get("server_id");
    }
    if ("0".equals(v.get("server_id"))) {
      findings.add(new Finding("server_id", "0", "a unique non-zero number",
          "server_id 0 cannot tell this server's binlogs from another's: set server_id in my.cnf"));
    }
    return new Report(server, identity, retention, findings);
  }

  /** MySQL 8 and MariaDB 10.6+ have binlog_expire_logs_seconds; older servers only expire_logs_days. */
  static Duration retention(Map<String, String> v) {
    String seconds = v.get("binlog_expire_logs_seconds");
    if (seconds != null && !seconds.isBlank()) {
      long s = Long.parseLong(seconds.trim());
      if (s > 0) {
        return Duration.ofSeconds(s);
      }
    }
    String days = v.get("expire_logs_days");
    if (days != null && !days.isBlank()) {
      double d = Double.parseDouble(days.trim());
      return Duration.ofSeconds((long) (d * 86_400));
    }
    return Duration.ZERO;
  }
}
