package io.binlogarchive.examples;

import io.binlogarchive.FetchResult;
import io.binlogarchive.RestorePlan;
import io.binlogarchive.RestoreTarget;
import io.binlogarchive.replication.serve.BinlogServer;
import io.binlogarchive.replication.serve.RelayLogs;
import io.binlogarchive.replication.serve.ServePosition;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * {@code restore serve}: the archive as the replication source of a restored server, which then
 * applies it natively (see {@link BinlogServer}). Prints the statements to run on the restored
 * server, or with {@code --apply-to} runs them, waits until the target is applied, reports, and
 * stops and resets replication there.
 */
final class ServeCommand {
  static final String USAGE = String.join("\n",
      "  restore serve --from URI (--backup NAME | --start FILE:POS)",
      "          [--until TIME | --until-gtid SET | --until-position FILE:POS] --listen HOST:PORT",
      "          [--user U] [--password-file F] [--spool DIR] [--prefetch N] [--use-gtid] [--timeout 6h]",
      "          [--apply-to mysql://USER@HOST:PORT [--apply-password-file F]] [--server-id ID] [KEY]",
      "          (--apply-to's password: BINLOG_ARCHIVE_APPLY_PASSWORD or --apply-password-file)",
      "  restore fetch ... --to-dir DATADIR --as-relay-log NAME: the files become the relay logs of the",
      "          restored server (stopped replication, --relay-log=NAME); prints CHANGE MASTER TO ...;",
      "          START SLAVE SQL_THREAD UNTIL <the target>");
  static final String APPLY_PASSWORD_ENV = "BINLOG_ARCHIVE_APPLY_PASSWORD";

  private ServeCommand() {}

  static int run(String[] argv, PrintStream out, PrintStream err, Function<String, String> env)
      throws IOException {
    Args a = new Args(argv, 2, RestoreCommands.valued("--backup", "--start", "--until", "--until-gtid",
        "--until-position", "--listen", "--user", "--password-file", "--spool", "--prefetch", "--apply-to",
        "--apply-password-file", "--timeout"), Set.of("--use-gtid"));
    if (a.has("--backup") == a.has("--start")) {
      throw new Args.UsageException("give either --backup NAME or --start FILE:POS");
    }
    RestoreTarget target = target(a);
    InetSocketAddress listen = listen(a.required("--listen"));
    Duration timeout;
    try {
      timeout = RestoreCommands.age(a.get("--timeout", "6h"));
    } catch (Args.UsageException e) {
      throw new Args.UsageException("--timeout must be like 6h, 90m or PT2H, got '" + a.get("--timeout") + "'");
    }
    URI applyTo = a.has("--apply-to") ? applyUri(a.get("--apply-to")) : null;
    if (applyTo == null && !a.has("--password-file")) {
      throw new Args.UsageException("restore serve needs --password-file F (the password the replica logs in"
          + " with), unless --apply-to sets up the replica itself");
    }
    byte[] password = a.has("--password-file") ? readSecret(Path.of(a.get("--password-file")), "--password-file")
        : randomPassword();
    String applyPassword = applyTo == null ? null : applyPassword(a, env);
    try (RestoreCommands.Opened o = RestoreCommands.open(a, err, env)) {
      RestorePlan plan;
      if (a.has("--backup")) {
        plan = o.reader().plan(a.get("--backup"), target);
      } else {
        String[] fp = RestoreCommands.filePos("--start", a.get("--start"));
        plan = o.reader().planFrom(fp[0], Long.parseLong(fp[1]), target);
      }
      err.print(plan.describe());
      Path spool = a.has("--spool") ? Path.of(a.get("--spool")) : Files.createTempDirectory("binlog-archive-serve");
      BinlogServer.Builder b = BinlogServer.builder().reader(o.reader()).plan(plan).spool(spool).listen(listen)
          .user(a.get("--user", "repl")).password(password)
          .prefetch(a.intValue("--prefetch", 3, 1, 64)).parallelism(a.intValue("--parallelism", 2, 1, 64));
      try (BinlogServer server = b.build()) {
        server.start();
        boolean useGtid = a.has("--use-gtid");
        if (applyTo == null) {
          return serveForOperator(server, useGtid, a.get("--password-file"), timeout, out, err);
        }
        return apply(server, useGtid, new String(password, StandardCharsets.UTF_8), applyTo, applyPassword, timeout,
            out, err);
      } finally {
        Arrays.fill(password, (byte) 0);
        if (!a.has("--spool")) {
          Files.deleteIfExists(spool);
        }
      }
    }
  }

  /** Prints the statements, waits until the target is sent, then keeps serving heartbeats until killed. */
  private static int serveForOperator(BinlogServer server, boolean useGtid, String passwordFile, Duration timeout,
      PrintStream out, PrintStream err) throws IOException {
    err.println("binlog-archive: serving on " + server.address() + "; run on the restored server (its server_id must"
        + " differ from the source's):");
    for (String s : server.replicaStatements(null, useGtid)) {
      out.println(s.replace("'<password>'", "'<the password in " + passwordFile + ">'") + ";");
    }
    out.flush();
    ServePosition at = awaitTarget(server, timeout);
    err.println("binlog-archive: everything up to " + server.plan().target() + " was sent; the replica has applied it"
        + " when SELECT MASTER_POS_WAIT('" + at.file() + "', " + at.position() + ") returns; then run STOP SLAVE;"
        + " RESET SLAVE ALL; and stop this command (it keeps the replica's connection alive meanwhile)");
    out.println("target " + at);
    out.flush();
    try {
      Thread.currentThread().join(); // serve heartbeats until the operator stops the command
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** Sets up the replica over JDBC, waits until it applied the target, reports, stops and resets it. */
  private static int apply(BinlogServer server, boolean useGtid, String password, URI to, String applyPassword,
      Duration timeout, PrintStream out, PrintStream err) throws IOException {
    String url = "jdbc:mariadb://" + to.getHost() + ":" + (to.getPort() < 0 ? 3306 : to.getPort()) + "/";
    String user = to.getUserInfo();
    long t0 = System.nanoTime();
    try (Connection c = DriverManager.getConnection(url, user, applyPassword); Statement st = c.createStatement()) {
      for (String s : server.replicaStatements(password, useGtid)) {
        st.execute(s);
      }
      err.println("binlog-archive: replication started on " + to.getHost() + ":" + to.getPort() + " from "
          + server.address());
      try {
        ServePosition at;
        try {
          at = awaitTarget(server, timeout);
        } catch (IOException e) {
          err.println("binlog-archive: " + e.getMessage());
          err.println("binlog-archive: the replica stopped before that file: " + replicaState(st));
          return 1;
        }
        long waitSeconds = Math.max(1, timeout.minusNanos(System.nanoTime() - t0).toSeconds());
        try (ResultSet rs = st.executeQuery("SELECT MASTER_POS_WAIT('" + at.file().replace("'", "''") + "', "
            + at.position() + ", " + waitSeconds + ")")) {
          rs.next();
          long r = rs.getLong(1);
          if (rs.wasNull() || r < 0) {
            err.println("binlog-archive: the replica did not apply up to " + at + (rs.wasNull()
                ? " (its SQL thread stopped)" : " within " + timeout) + ": " + replicaState(st));
            return 1;
          }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        out.printf(Locale.ROOT, "restored to %s: the replica applied everything up to %s in %.1f s%n",
            server.plan().target(), at, secs);
        return 0;
      } finally {
        st.execute("STOP SLAVE");
        st.execute("RESET SLAVE ALL");
        err.println("binlog-archive: replication stopped and reset on " + to.getHost() + ":" + to.getPort());
      }
    } catch (SQLException e) {
      throw new IOException("the restored server at " + to.getHost() + ":" + to.getPort() + " failed: "
          + e.getMessage(), e);
    }
  }

  /** {@code restore fetch --as-relay-log NAME}: places the fetched files as relay logs, prints the statements. */
  static int asRelayLogs(FetchResult fetched, String name, PrintStream out, PrintStream err) throws IOException {
    RelayLogs relay = RelayLogs.place(fetched, name);
    err.println("binlog-archive: " + relay.files().size() + " relay log(s) " + name + ".* in " + fetched.directory()
        + "; run on the restored server, then wait until Slave_SQL_Running is No (the target is applied) and run"
        + " STOP SLAVE; RESET SLAVE ALL;");
    for (String s : relay.statements()) {
      out.println(s + ";");
    }
    return 0;
  }

  private static ServePosition awaitTarget(BinlogServer server, Duration timeout) throws IOException {
    try {
      return server.awaitTarget(timeout);
    } catch (TimeoutException e) {
      throw new IOException("the target was not reached within " + timeout + "; last position sent: "
          + server.position().map(ServePosition::toString).orElse("none"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while serving");
    }
  }

  private static String replicaState(Statement st) throws SQLException {
    try (ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
      if (!rs.next()) {
        return "no replication configured";
      }
      return "Master_Log_File=" + rs.getString("Master_Log_File") + " Read_Master_Log_Pos="
          + rs.getString("Read_Master_Log_Pos") + " Exec_Master_Log_Pos=" + rs.getString("Exec_Master_Log_Pos")
          + " Last_IO_Error=" + rs.getString("Last_IO_Error") + " Last_SQL_Error=" + rs.getString("Last_SQL_Error");
    }
  }

  private static RestoreTarget target(Args a) {
    int n = (a.has("--until") ? 1 : 0) + (a.has("--until-gtid") ? 1 : 0) + (a.has("--until-position") ? 1 : 0);
    if (n > 1) {
      throw new Args.UsageException("give one of --until, --until-gtid, --until-position");
    }
    if (a.has("--until")) {
      return RestoreTarget.time(RestoreCommands.time("--until", a.get("--until")));
    }
    if (a.has("--until-gtid")) {
      return RestoreTarget.gtid(a.get("--until-gtid"));
    }
    if (a.has("--until-position")) {
      String[] fp = RestoreCommands.filePos("--until-position", a.get("--until-position"));
      return RestoreTarget.position(fp[0], Long.parseLong(fp[1]));
    }
    return RestoreTarget.latest();
  }

  static InetSocketAddress listen(String text) {
    int c = text.lastIndexOf(':');
    if (c <= 0 || !text.substring(c + 1).matches("\\d{1,5}") || Integer.parseInt(text.substring(c + 1)) > 65535) {
      throw new Args.UsageException("--listen must be HOST:PORT, e.g. 127.0.0.1:3307, got '" + text + "'");
    }
    return new InetSocketAddress(text.substring(0, c), Integer.parseInt(text.substring(c + 1)));
  }

  static URI applyUri(String text) {
    URI u;
    try {
      u = URI.create(text);
    } catch (IllegalArgumentException e) {
      u = null;
    }
    if (u == null || !"mysql".equals(u.getScheme()) || u.getHost() == null || u.getUserInfo() == null
        || u.getUserInfo().contains(":")) {
      throw new Args.UsageException("--apply-to must be mysql://USER@HOST:PORT (no password in it: use "
          + APPLY_PASSWORD_ENV + " or --apply-password-file), got '" + text.replaceAll(":[^:@/]*@", ":***@") + "'");
    }
    return u;
  }

  private static String applyPassword(Args a, Function<String, String> env) throws IOException {
    if (a.has("--apply-password-file")) {
      return new String(readSecret(Path.of(a.get("--apply-password-file")), "--apply-password-file"),
          StandardCharsets.UTF_8);
    }
    String p = env.apply(APPLY_PASSWORD_ENV);
    return p == null ? "" : p;
  }

  private static byte[] readSecret(Path file, String option) throws IOException {
    byte[] b;
    try {
      b = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IOException(option + ": cannot read " + file + ": " + e.getMessage(), e);
    }
    int n = b.length;
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r')) {
      n--;
    }
    if (n == 0) {
      throw new Args.UsageException(option + ": " + file + " is empty");
    }
    byte[] trimmed = Arrays.copyOf(b, n);
    Arrays.fill(b, (byte) 0);
    return trimmed;
  }

  /** A one-time password for a replica that --apply-to sets up: never printed. */
  private static byte[] randomPassword() {
    byte[] r = new byte[18];
    new SecureRandom().nextBytes(r);
    return HexFormat.of().formatHex(r).getBytes(StandardCharsets.US_ASCII);
  }
}
