package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.MariaDbServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A real MariaDB source with a replication account, and a {@link LiveStream} running on its own thread. */
final class LiveFixture implements AutoCloseable {
  static final String USER = "repl";
  static final String PASSWORD = "s3cret-Repl!";
  static final Duration DEADLINE = Duration.ofSeconds(180);

  final MariaDbServer server;
  final Path spool;
  final Recorder recorder = new Recorder();
  /** Applied to every stream's builder before it is built. */
  java.util.function.UnaryOperator<LiveStream.Builder> customize = b -> b;
  LiveStream stream;
  Thread thread;
  volatile Throwable failure;

  private LiveFixture(MariaDbServer server, Path spool) {
    this.server = server;
    this.spool = spool;
  }

  static LiveFixture start(Path tmp, String... serverArgs) throws Exception {
    MariaDbServer server;
    try {
      server = MariaDbServer.start(tmp.resolve("db"), serverArgs);
    } catch (IOException e) {
      Path log = tmp.resolve("db").resolve("install.log");
      throw new IOException(e.getMessage() + "\n--- install.log ---\n" + (Files.exists(log) ? Files.readString(log) : ""), e);
    }
    server.exec("CREATE USER '" + USER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '" + USER + "'@'%'");
    return new LiveFixture(server, tmp.resolve("spool"));
  }

  SourceConfig.Builder source() {
    return SourceConfig.builder("127.0.0.1", server.port(), USER).password(PASSWORD.toCharArray())
        .tls(TlsMode.DISABLED).replicaServerId(77);
  }

  void startStream(SourceConfig config, FsyncPolicy policy) {
    startStream(config, policy, false);
  }

  void startStream(SourceConfig config, FsyncPolicy policy, boolean manualAcks) {
    stream = customize.apply(LiveStream.builder(config, spool).fsync(policy).listener(recorder)
        .acknowledgeManually(manualAcks).reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500))).build();
    failure = null;
    thread = new Thread(() -> {
      try {
        stream.run();
      } catch (Throwable t) {
        failure = t;
      } finally {
        recorder.wake();
      }
    }, "live-stream");
    thread.start();
  }

  void stopStream() throws InterruptedException {
    stream.stop();
    thread.join(TimeUnit.SECONDS.toMillis(60));
    assertThat(thread.isAlive()).as("stream thread stopped").isFalse();
    assertThat(failure).as("stream failure").isNull();
  }

  /** Waits until the spool's durable position is the server's current binlog end. */
  void awaitCaughtUp() throws Exception {
    // Asked again at each check: MariaDB may add a BINLOG_CHECKPOINT event to a new file a moment later.
    await(() -> {
      String[] master;
      try {
        master = masterStatus();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
      SpoolPosition p = stream.durablePosition();
      return p != null && p.file().equals(master[0]) && p.endOffset() == Long.parseLong(master[1]);
    }, "spool catches up with the server's SHOW MASTER STATUS");
  }

  void await(BooleanSupplier condition, String what) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (failure != null) {
        throw new AssertionError("stream failed while waiting for: " + what, failure);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what + "; spool at " + stream.durablePosition());
      }
      recorder.awaitChange(200);
    }
  }

  String[] masterStatus() throws SQLException {
    try (Connection c = server.connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
      rs.next();
      return new String[] {rs.getString(1), rs.getString(2)};
    }
  }

  /** The server's files against the spool's: closed ones identical, the open one up to the in-use flag. */
  void assertSpoolMatchesServer() throws Exception {
    List<String> serverFiles = server.binaryLogs();
    List<String> spoolFiles = spoolIndex();
    assertThat(spoolFiles).as("spool index").isEqualTo(serverFiles);
    for (int i = 0; i < serverFiles.size(); i++) {
      String name = serverFiles.get(i);
      byte[] theirs = Files.readAllBytes(server.dataDir().resolve(name));
      byte[] ours = Files.readAllBytes(spool.resolve(name));
      if (i < serverFiles.size() - 1) {
        assertThat(ours).as("closed spool file %s is byte-identical to the server's", name).isEqualTo(theirs);
      } else {
        assertThat(maskInUse(ours)).as("open spool file %s equals the server's but for the in-use flag", name)
            .isEqualTo(maskInUse(theirs));
      }
    }
  }

  /**
   * After a SIGKILL of the server the crashed file keeps its in-use flag on the server, while the
   * stream carries it clear: every file is compared with that bit masked; all but the newest must
   * otherwise be identical.
   */
  void assertSpoolMatchesServerAfterCrash() throws Exception {
    List<String> serverFiles = server.binaryLogs();
    assertThat(spoolIndex()).as("spool index").isEqualTo(serverFiles);
    for (String name : serverFiles) {
      byte[] theirs = Files.readAllBytes(server.dataDir().resolve(name));
      byte[] ours = Files.readAllBytes(spool.resolve(name));
      assertThat(maskInUse(ours)).as("spool file %s equals the server's but for the in-use flag", name)
          .isEqualTo(maskInUse(theirs));
    }
  }

  /**
   * An independent reference: {@code mariadb-binlog --read-from-remote-server --raw} fetches the same
   * files over the same protocol; every file, the open one included, must equal the spool's.
   */
  void assertSpoolMatchesMariaDbBinlogRaw(Path dir) throws Exception {
    Files.createDirectories(dir);
    List<String> names = spoolIndex();
    ProcessBuilder pb = new ProcessBuilder("mariadb-binlog", "--read-from-remote-server", "--raw", "--to-last-log",
        "--host=127.0.0.1", "--port=" + server.port(), "--user=" + USER, "--result-file=" + dir + "/", names.get(0))
        .redirectErrorStream(true).redirectOutput(dir.resolve("mariadb-binlog.log").toFile());
    pb.environment().put("MYSQL_PWD", PASSWORD); // not on the command line
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("mariadb-binlog: " + Files.readString(dir.resolve("mariadb-binlog.log"))).isZero();
    for (String name : names) {
      assertThat(Files.readAllBytes(spool.resolve(name))).as("spool file %s equals mariadb-binlog's copy", name)
          .isEqualTo(Files.readAllBytes(dir.resolve(name)));
    }
  }

  static byte[] maskInUse(byte[] b) {
    byte[] c = b.clone();
    if (c.length > 21) {
      c[21] &= (byte) 0xFE;
    }
    return c;
  }

  List<String> spoolIndex() throws IOException {
    List<String> names = new ArrayList<>();
    for (String line : Files.readAllLines(spool.resolve("mysql-bin.index"))) {
      if (!line.isBlank()) {
        names.add(line.strip().replaceFirst("^\\./", ""));
      }
    }
    return names;
  }

  /** Kills the stream's connection from the server's side, as a network cut would. */
  int killReplicaConnections() throws SQLException {
    int killed = 0;
    try (Connection c = server.connection(); Statement st = c.createStatement()) {
      List<Long> ids = new ArrayList<>();
      try (ResultSet rs = st.executeQuery("SHOW PROCESSLIST")) {
        while (rs.next()) {
          if (rs.getString("Command").startsWith("Binlog Dump")) {
            ids.add(rs.getLong("Id"));
          }
        }
      }
      for (long id : ids) {
        st.execute("KILL CONNECTION " + id);
        killed++;
      }
    }
    return killed;
  }

  @Override
  public void close() throws Exception {
    if (stream != null) {
      stream.stop();
      if (thread != null) {
        thread.join(60_000);
      }
    }
    server.close();
  }

  /** Records what the spool reports and wakes waiters. */
  static final class Recorder implements SpoolListener {
    final List<SpoolPosition> durable = new CopyOnWriteArrayList<>();
    final List<String> closed = new CopyOnWriteArrayList<>();
    final List<BinlogGapException> gaps = new CopyOnWriteArrayList<>();
    volatile java.util.function.Consumer<SpoolPosition> onSourceWaiting = p -> {};
    /** Runs on the streaming thread after each durable report: a test may hold the stream there. */
    volatile java.util.function.Consumer<SpoolPosition> onDurable = p -> {};
    volatile java.util.Map<String, Long> serverBinlogs;
    volatile long spoolLag = Long.MIN_VALUE;
    volatile String positionUnknown;

    @Override
    public void serverPosition(java.util.Map<String, Long> binlogs, long lag) {
      serverBinlogs = binlogs;
      spoolLag = lag;
      positionUnknown = null;
      wake();
    }

    @Override
    public void serverPositionUnknown(String why) {
      positionUnknown = why;
      wake();
    }

    @Override
    public void sourceWaiting(SpoolPosition position) {
      onSourceWaiting.accept(position);
    }

    @Override
    public void transactionDurable(SpoolPosition position) {
      durable.add(position);
      wake();
      onDurable.accept(position);
    }

    @Override
    public void fileClosed(String name, long size) {
      closed.add(name + ":" + size);
      wake();
    }

    @Override
    public void gap(BinlogGapException gap) {
      gaps.add(gap);
      wake();
    }

    synchronized void wake() {
      notifyAll();
    }

    synchronized void awaitChange(long millis) throws InterruptedException {
      wait(millis);
    }
  }
}
