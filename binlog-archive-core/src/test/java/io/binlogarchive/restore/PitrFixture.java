package io.binlogarchive.restore;

import io.binlogarchive.testing.MariaDbServer;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Helpers of the point-in-time recovery proofs (core's {@code RestorePitrTest}, the runner's CLI
 * proof): dumps, replays, checksums, the server's clock.
 */
public final class PitrFixture {
  private PitrFixture() {}

  /** Fails (never skips) when a client tool the proof needs is missing. */
  public static void requireTools() {
    for (String tool : List.of("mariadbd", "mariadb", "mariadb-dump", "mariadb-binlog")) {
      boolean found = false;
      for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/usr/bin").split(":")) {
        if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
          found = true;
        }
      }
      if (!found) {
        throw new IllegalStateException(tool + " is not installed; install MariaDB (apt-get install"
            + " mariadb-server-core mariadb-client): the PITR proofs need the real tools and must not be skipped");
      }
    }
  }

  /** @return the {@code mariadb} client command line for {@code s} (root, loopback, no option files) */
  public static List<String> client(MariaDbServer s) {
    return List.of("mariadb", "--no-defaults", "-h127.0.0.1", "-P" + s.port(), "-uroot");
  }

  /** A dump with coordinates: {@code --single-transaction --master-data=2 --gtid}. */
  public static BaseBackup dump(MariaDbServer s, String name, Path file) throws Exception {
    Instant takenAt = Instant.ofEpochSecond(serverSecond(s));
    run(List.of("mariadb-dump", "--no-defaults", "-h127.0.0.1", "-P" + s.port(), "-uroot", "--single-transaction",
        "--master-data=2", "--gtid", "--databases", "shop"), null, file);
    String text = Files.readString(file, StandardCharsets.UTF_8);
    Matcher pos = Pattern.compile("CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\\d+)").matcher(text);
    Matcher gtid = Pattern.compile("SET GLOBAL gtid_slave_pos='([^']*)'").matcher(text);
    assertThat(pos.find()).as("dump has CHANGE MASTER coordinates").isTrue();
    assertThat(gtid.find()).as("dump has gtid_slave_pos").isTrue();
    return BaseBackup.of(name, pos.group(1), Long.parseLong(pos.group(2))).withGtid(gtid.group(1)).withTakenAt(takenAt);
  }

  /** Loads a dump into a server through the {@code mariadb} client. */
  public static void load(MariaDbServer s, Path dump) throws Exception {
    run(client(s), dump, null);
  }

  /** Pipes the replay command into the {@code mariadb} client of {@code s}, with TZ=UTC. */
  public static void replay(FetchResult f, MariaDbServer s, Path work) throws Exception {
    ProcessBuilder binlog = new ProcessBuilder(f.replayCommand()).redirectError(work.resolve("binlog.err").toFile());
    binlog.environment().put("TZ", "UTC");
    ProcessBuilder mariadb = new ProcessBuilder(client(s)).redirectError(work.resolve("client.err").toFile())
        .redirectOutput(work.resolve("client.out").toFile());
    List<Process> ps = ProcessBuilder.startPipeline(List.of(binlog, mariadb));
    for (Process p : ps) {
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(ps.get(0).exitValue()).as("mariadb-binlog: %s", Files.readString(work.resolve("binlog.err"))).isZero();
    assertThat(ps.get(1).exitValue()).as("mariadb: %s", Files.readString(work.resolve("client.err"))).isZero();
  }

  /** A check run against a restored server. */
  @FunctionalInterface
  public interface Check<T> {
    T on(MariaDbServer restored) throws Exception;
  }

  /**
   * Starts a fresh server in {@code work/fresh}, loads {@code dump} into it, replays the fetched
   * binlogs, runs {@code check} on it and stops it.
   */
  public static <T> T restoreFresh(FetchResult fetched, Path dump, Path work, Check<T> check) throws Exception {
    try (MariaDbServer fresh = MariaDbServer.start(work.resolve("fresh"))) {
      load(fresh, dump);
      replay(fetched, fresh, work);
      return check.on(fresh);
    }
  }

  /** @return the first column of the query's first row, or {@code null} if there is no row */
  public static String firstValue(MariaDbServer s, String query) throws SQLException {
    try (Connection c = s.connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(query)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** Runs a tool to completion (at most 120 s), from {@code stdin} and into {@code stdout} if given; it must exit 0. */
  public static void run(List<String> cmd, Path stdin, Path stdout) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Path err = Files.createTempFile("pitr", ".err");
    pb.redirectError(err.toFile());
    if (stdin != null) {
      pb.redirectInput(stdin.toFile());
    }
    if (stdout != null) {
      pb.redirectOutput(stdout.toFile());
    } else {
      pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    }
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s failed: %s", cmd, Files.readString(err)).isZero();
    Files.deleteIfExists(err);
  }

  /** CHECKSUM TABLE of every base table of {@code shop}; a missing table shows as absent. */
  public static Map<String, Long> checksums(MariaDbServer s) throws SQLException {
    Map<String, Long> out = new TreeMap<>();
    try (Connection c = s.connection(); Statement st = c.createStatement()) {
      List<String> tables = new java.util.ArrayList<>();
      try (ResultSet rs = st.executeQuery("SELECT table_name FROM information_schema.tables WHERE table_schema='shop'"
          + " AND table_type='BASE TABLE'")) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
      for (String t : tables) {
        try (ResultSet rs = st.executeQuery("CHECKSUM TABLE shop." + t)) {
          rs.next();
          out.put(t, rs.getLong(2));
        }
      }
    }
    return out;
  }

  /** @return the server's own {@code UNIX_TIMESTAMP()} */
  public static long serverSecond(MariaDbServer s) throws SQLException {
    try (Connection c = s.connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT UNIX_TIMESTAMP()")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** @return the server's {@code @@gtid_binlog_pos} */
  public static String gtidBinlogPos(MariaDbServer s) throws SQLException {
    try (Connection c = s.connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT @@gtid_binlog_pos")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** Polls the server's own clock until its second is past {@code second}. */
  public static void awaitServerSecondAfter(MariaDbServer s, long second) throws Exception {
    try (Connection c = s.connection(); Statement st = c.createStatement()) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline) {
        try (ResultSet rs = st.executeQuery("SELECT UNIX_TIMESTAMP()")) {
          rs.next();
          if (rs.getLong(1) > second) {
            return;
          }
        }
        Thread.onSpinWait();
      }
    }
    throw new IllegalStateException("the server's clock did not pass " + second + " within 10 s");
  }

  /**
   * Damages an artifact: eight bytes in its middle complemented, not one bit flipped: zstd's format
   * has a few bits its decoder never reads, and a flip there decodes to the very same binlog (which a
   * fetch rightly accepts, since the plaintext matches its SHA-256).
   */
  public static void tamper(Path artifact) throws IOException {
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(artifact.toFile(), "rw")) {
      long at = f.length() / 2;
      byte[] b = new byte[8];
      f.seek(at);
      f.readFully(b);
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) ~b[i];
      }
      f.seek(at);
      f.write(b);
    }
  }

  /** Copies a directory tree, keeping file attributes. */
  public static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }
}
