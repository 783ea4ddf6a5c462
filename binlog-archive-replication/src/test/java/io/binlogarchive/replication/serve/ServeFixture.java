package io.binlogarchive.replication.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.MariaDbServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/** Points a real MariaDB replica at a {@link BinlogServer} and waits for it to apply the target. */
final class ServeFixture {
  static final String PASSWORD = "s3rve-Pass";

  private ServeFixture() {}

  /** CHANGE MASTER TO the server (by file and position, or by GTID), START SLAVE. */
  static void startReplica(MariaDbServer replica, BinlogServer server, boolean useGtid) throws SQLException {
    replica.exec(server.replicaStatements(PASSWORD, useGtid).toArray(String[]::new));
  }

  /**
   * Polls SHOW SLAVE STATUS (bounded, 5 minutes) until the I/O thread is in {@code state} ({@code
   * No}: stopped; {@code Connecting}: lost its source and retrying); the status then.
   */
  static Map<String, String> awaitIoThread(MariaDbServer replica, String state) throws Exception {
    return awaitStatus(replica, "Slave_IO_Running", state);
  }

  /** Polls SHOW SLAVE STATUS (bounded, 5 minutes) until the SQL thread is in {@code state}; the status then. */
  static Map<String, String> awaitSqlThread(MariaDbServer replica, String state) throws Exception {
    return awaitStatus(replica, "Slave_SQL_Running", state);
  }

  private static Map<String, String> awaitStatus(MariaDbServer replica, String column, String state) throws Exception {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
    Map<String, String> status = slaveStatus(replica);
    while (!state.equals(status.get(column)) && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      status = slaveStatus(replica);
    }
    return status;
  }

  /**
   * Waits (on the server side, with {@code MASTER_POS_WAIT}) until the replica's SQL thread has
   * applied everything up to {@code at}.
   *
   * @return MASTER_POS_WAIT's answer: the number of events waited for (0 or more), -1 on timeout, or
   *     null if the SQL thread stopped
   */
  static Long awaitApplied(MariaDbServer replica, ServePosition at) throws SQLException {
    try (Connection c = replica.connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT MASTER_POS_WAIT('" + at.file() + "', " + at.position() + ", 300)")) {
      rs.next();
      long v = rs.getLong(1);
      return rs.wasNull() ? null : v;
    }
  }

  /** SHOW SLAVE STATUS as column name to value. */
  static Map<String, String> slaveStatus(MariaDbServer replica) throws SQLException {
    Map<String, String> out = replica.slaveStatus();
    assertThat(out).as("the replica has a slave status").isNotEmpty();
    return out;
  }

  /** Stops replication and forgets the source, as the CLI does once the target is applied. */
  static void stopReplica(MariaDbServer replica) throws SQLException {
    replica.exec("STOP SLAVE", "RESET SLAVE ALL");
  }
}
