package io.binlogarchive.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.mariadb.jdbc.MariaDbDataSource;

/**
 * A throwaway MariaDB server for tests: a fresh data directory, {@code mariadbd} on a free loopback
 * port, binary logging on. It is the real server from Debian's packages, not a fake; if the
 * binaries are missing the test fails (CI installs them) rather than being skipped.
 */
public final class MariaDbServer implements AutoCloseable {
  private final Path dir;
  private final int port;
  private final List<String> command;
  private volatile Process process;

  private MariaDbServer(Path dir, int port, List<String> command) {
    this.dir = dir;
    this.port = port;
    this.command = List.copyOf(command);
  }

  /**
   * Starts a server in {@code dir} (which must be empty or missing).
   *
   * @param dir working directory; the data directory is {@code dir/data}
   * @param extraArgs more {@code mariadbd} options
   */
  public static MariaDbServer start(Path dir, String... extraArgs) throws IOException, InterruptedException {
    TagGuard.require(MariaDbTest.TAG, "MariaDbTest", "MariaDbServer.start");
    requireBinary("mariadbd");
    requireBinary("mariadb-install-db");
    Files.createDirectories(dir);
    Path data = dir.resolve("data");
    run(dir.resolve("install.log"), "mariadb-install-db", "--no-defaults", "--datadir=" + data, "--user=root",
        "--auth-root-authentication-method=normal", "--skip-test-db");
    int port = freePort();
    List<String> cmd = new ArrayList<>(List.of(
        "mariadbd", "--no-defaults", "--datadir=" + data, "--user=root", "--bind-address=127.0.0.1",
        "--port=" + port, "--socket=" + dir.resolve("sock"), "--pid-file=" + dir.resolve("pid"),
        "--log-error=" + dir.resolve("err.log"), "--skip-name-resolve", "--server-id=1", "--log-bin=mysql-bin",
        "--binlog-format=ROW", "--max-binlog-size=1M", "--gtid-strict-mode=1", "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci", "--innodb-buffer-pool-size=32M"));
    cmd.addAll(List.of(extraArgs));
    MariaDbServer server = new MariaDbServer(dir, port, cmd);
    server.launch();
    return server;
  }

  private void launch() throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("stdout.log").toFile()));
    privateTmp(pb, dir);
    process = pb.start();
    awaitReady();
  }

  /**
   * Kills {@code mariadbd} with SIGKILL, as a crash would: nothing is flushed or closed.
   *
   * @return the exit value (137: killed by signal 9)
   */
  public int kill() throws InterruptedException {
    TagGuard.require(CrashTest.TAG, "CrashTest", "MariaDbServer.kill");
    Process p = process;
    p.destroyForcibly(); // SIGKILL on Linux
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("mariadbd " + p.pid() + " did not die within 30 s of SIGKILL");
    }
    return p.exitValue();
  }

  /**
   * Starts {@code mariadbd} again on the same data directory, port and options, after {@link #kill()};
   * it runs its crash recovery before it accepts connections.
   */
  public void restart() throws IOException, InterruptedException {
    if (process.isAlive()) {
      throw new IllegalStateException("mariadbd " + process.pid() + " is still running");
    }
    launch();
  }

  /** @return the server's error log */
  public Path errorLog() {
    return dir.resolve("err.log");
  }

  private void awaitReady() throws IOException, InterruptedException {
    // Poll the server's own readiness probe; bounded, no fixed sleeps.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    SQLException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("mariadbd exited with " + process.exitValue() + "; see " + dir.resolve("err.log") + ":\n"
            + tail(dir.resolve("err.log")));
      }
      try (Connection c = connection()) {
        return;
      } catch (SQLException e) {
        last = e;
        process.waitFor(50, TimeUnit.MILLISECONDS);
      }
    }
    close();
    throw new IOException("mariadbd did not accept connections within 60 s: " + last + "\n" + tail(dir.resolve("err.log")));
  }

  private static String tail(Path p) throws IOException {
    if (!Files.exists(p)) {
      return "";
    }
    List<String> lines = Files.readAllLines(p);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }

  public Connection connection() throws SQLException {
    return DriverManager.getConnection(jdbcUrl());
  }

  public String jdbcUrl() {
    return "jdbc:mariadb://127.0.0.1:" + port + "/?user=root&password=";
  }

  public DataSource dataSource() throws SQLException {
    MariaDbDataSource ds = new MariaDbDataSource();
    ds.setUrl(jdbcUrl());
    return ds;
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dir.resolve("data");
  }

  public Path indexFile() {
    return dataDir().resolve("mysql-bin.index");
  }

  /** Runs statements in one session. */
  public void exec(String... sql) throws SQLException {
    try (Connection c = connection(); Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  /** Closes the current binlog and opens the next. */
  public void flushLogs() throws SQLException {
    exec("FLUSH BINARY LOGS");
  }

  /** @return the names from SHOW BINARY LOGS */
  public List<String> binaryLogs() throws SQLException {
    List<String> names = new ArrayList<>();
    try (Connection c = connection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW BINARY LOGS")) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  /** @return SHOW SLAVE STATUS's row by column label; empty if the server has no replication set up */
  public Map<String, String> slaveStatus() throws SQLException {
    Map<String, String> out = new LinkedHashMap<>();
    try (Connection c = connection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
      if (rs.next()) {
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
          out.put(rs.getMetaData().getColumnLabel(i), rs.getString(i));
        }
      }
    }
    return out;
  }

  /**
   * Writes roughly {@code rows} rows of OLTP-style load into {@code db.t}, so binlogs fill up.
   */
  public void load(String db, int rows, long seed) throws SQLException {
    try (Connection c = connection(); Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE IF NOT EXISTS " + db);
      st.execute("CREATE TABLE IF NOT EXISTS " + db + ".t (id INT PRIMARY KEY AUTO_INCREMENT, k INT, v VARCHAR(200)) ENGINE=InnoDB");
      java.util.Random r = new java.util.Random(seed);
      int batch = 50;
      for (int i = 0; i < rows; i += batch) {
        StringBuilder sb = new StringBuilder("INSERT INTO " + db + ".t (k, v) VALUES ");
        for (int j = 0; j < batch; j++) {
          if (j > 0) {
            sb.append(',');
          }
          sb.append('(').append(r.nextInt(1000)).append(",'").append(Long.toHexString(r.nextLong())).append("-")
              .append("x".repeat(r.nextInt(120))).append("')");
        }
        st.execute(sb.toString());
        if (i % 500 == 0) {
          st.execute("UPDATE " + db + ".t SET k = k + 1 WHERE k = " + r.nextInt(1000));
        }
      }
    }
  }

  /** Stops the server (SIGTERM to the process we started, then SIGKILL if it lingers). */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void requireBinary(String name) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, name))) {
        return;
      }
    }
    for (String d : new String[] {"/usr/sbin", "/usr/bin", "/usr/local/bin"}) {
      if (Files.isExecutable(Path.of(d, name))) {
        return;
      }
    }
    throw new IllegalStateException(
        name + " is not installed; install MariaDB (apt-get install mariadb-server-core mariadb-client) — these tests"
            + " need a real server and must not be skipped");
  }

  /**
   * Gives the server its own temporary directory: every {@code mariadbd} that starts deletes the
   * {@code #sql*} files in its tmpdir, which broke another server's concurrent bootstrap when all
   * shared {@code /tmp} (install failed with "Unknown table 'mysql.tmp_user_sys'").
   */
  private static void privateTmp(ProcessBuilder pb, Path dir) throws IOException {
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    pb.environment().put("TMPDIR", tmp.toString());
  }

  private static void run(Path log, String... cmd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    privateTmp(pb, log.getParent());
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed; see " + log + ":\n" + tail(log));
    }
  }
}
