package io.binlogarchive.examples;

import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
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
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code restore serve}: the archive as the replication source of a restored server, which then
 * applies it natively (see {@link BinlogServer}). Prints the statements to run on the restored
 * server, or with {@code --apply-to} runs them, waits until the target is applied, reports, and
 * stops and resets replication there.
 */
@Command(name = "serve", description = {"Serves the plan to a restored server as its replication source.",
    "Prints CHANGE MASTER TO ...; START SLAVE; or, with --apply-to, runs them, waits until the target is applied,",
    "reports, and stops and resets replication there."})
final class ServeCommand extends RestoreCommands.Planning {
  static final String APPLY_PASSWORD_ENV = "BINLOG_ARCHIVE_APPLY_PASSWORD";

  @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "where replicas connect")
  String listen;

  @Option(names = "--user", paramLabel = "U", description = "the replica's user name (default repl)")
  String user = "repl";

  @Option(names = "--password-file", paramLabel = "F",
      description = "the replica's password (required unless --apply-to sets the replica up)")
  String passwordFile;

  @Option(names = "--spool", paramLabel = "DIR", description = "where files are fetched ahead (default: a temporary directory)")
  String spool;

  @Option(names = "--prefetch", paramLabel = "N", description = "files fetched ahead of the replica (1..64, default 3)")
  Integer prefetch;

  @Option(names = "--use-gtid", description = "the replica connects by GTID (MariaDB, a base backup with its GTID)")
  boolean useGtid;

  @Option(names = "--timeout", paramLabel = "DURATION", description = "how long to wait for the target (default 6h)")
  String timeout = "6h";

  @Option(names = "--apply-to", paramLabel = "URI", description = "mysql://USER@HOST:PORT: set up the restored server"
      + " over JDBC (password: " + APPLY_PASSWORD_ENV + " or --apply-password-file)")
  String applyTo;

  @Option(names = "--apply-password-file", paramLabel = "F", description = "the password for --apply-to")
  String applyPasswordFile;

  @Option(names = "--tls-cert", paramLabel = "PEM", description = "TLS certificate chain (PEM): replicas must then"
      + " connect with TLS (MASTER_SSL=1); needed for caching_sha2_password full authentication")
  String tlsCert;

  @Option(names = "--tls-key", paramLabel = "PEM", description = "the certificate's unencrypted PKCS#8 private key"
      + " (PEM, BEGIN PRIVATE KEY)")
  String tlsKey;

  @Override
  int execute() throws IOException {
    RestoreTarget target = target();
    checkStart();
    InetSocketAddress address = listen(listen);
    Duration wait;
    try {
      wait = RestoreCommands.age(timeout);
    } catch (UsageException e) {
      throw new UsageException("--timeout must be like 6h, 90m or PT2H, got '" + timeout + "'");
    }
    URI to = applyTo == null ? null : applyUri(applyTo);
    if (to == null && applyPasswordFile != null) {
      throw new UsageException("--apply-password-file goes with --apply-to");
    }
    if (to == null && passwordFile == null) {
      throw new UsageException("restore serve needs --password-file F (the password the replica logs in"
          + " with), unless --apply-to sets up the replica itself");
    }
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new UsageException("--tls-cert and --tls-key go together");
    }
    int ahead = CliOptions.range("--prefetch", prefetch, 3, 1, 64);
    int parallel = CliOptions.range("--parallelism", read.parallelism, 2, 1, 64);
    byte[] password = passwordFile != null ? readSecret(Path.of(passwordFile), "--password-file") : randomPassword();
    try {
      String applyPassword = to == null ? null : applyPassword(env());
      try (ReadOptions.Opened o = ReadOptions.open(read, false, allowUnencrypted,
          new FileProgress(err()), env())) {
        RestorePlan plan = plan(o.reader(), target);
        err().print(plan.describe());
        Path dir = spool != null ? Path.of(spool) : Files.createTempDirectory("binlog-archive-serve");
        BinlogServer.Builder b = BinlogServer.builder().reader(o.reader()).plan(plan).spool(dir).listen(address)
            .user(user).password(password).prefetch(ahead).parallelism(parallel);
        if (tlsCert != null) {
          b.tls(Path.of(tlsCert), Path.of(tlsKey));
        }
        try (BinlogServer server = b.build()) {
          server.start();
          if (to == null) {
            return serveForOperator(server, useGtid, passwordFile, wait, out(), err());
          }
          return apply(server, useGtid, new String(password, StandardCharsets.UTF_8), to, applyPassword, wait, out(),
              err());
        } finally {
          if (spool == null) {
            Files.deleteIfExists(dir);
          }
        }
      }
    } finally {
      Arrays.fill(password, (byte) 0); // on every path, a bad archive or key included
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
        out.printf(Main.FORMAT, "restored to %s: the replica applied everything up to %s in %.1f s%n",
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

  static InetSocketAddress listen(String text) {
    int c = text.lastIndexOf(':');
    if (c <= 0 || !text.substring(c + 1).matches("\\d{1,5}") || Integer.parseInt(text.substring(c + 1)) > 65535) {
      throw new UsageException("--listen must be HOST:PORT, e.g. 127.0.0.1:3307, got '" + text + "'");
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
      throw new UsageException("--apply-to must be mysql://USER@HOST:PORT (no password in it: use "
          + APPLY_PASSWORD_ENV + " or --apply-password-file), got '" + text.replaceAll(":[^:@/]*@", ":***@") + "'");
    }
    return u;
  }

  private String applyPassword(Function<String, String> env) throws IOException {
    if (applyPasswordFile != null) {
      return new String(readSecret(Path.of(applyPasswordFile), "--apply-password-file"), StandardCharsets.UTF_8);
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
      throw new UsageException(option + ": " + file + " is empty");
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
