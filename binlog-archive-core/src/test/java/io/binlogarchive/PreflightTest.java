package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.MariaDbServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.testing.MariaDbTest;
import java.nio.file.Path;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preflight against a real MariaDB 10.11, with good settings and then bad ones set at run time. */
@MariaDbTest
@DisplayName("Preflight on a real MariaDB server")
class PreflightTest {
  @TempDir static Path tmp;
  static MariaDbServer db;
  static DataSource ds;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start(tmp.resolve("db"), "--sync-binlog=1", "--binlog-expire-logs-seconds=604800");
    ds = db.dataSource();
  }

  @AfterAll
  static void stop() throws Exception {
    db.close();
  }

  @Test
  @DisplayName("passes a server with log_bin, ROW format, sync_binlog=1 and a week of binlog retention")
  void goodSettings() throws Exception {
    db.exec("SET GLOBAL sync_binlog=1", "SET GLOBAL binlog_format=ROW", "SET GLOBAL binlog_expire_logs_seconds=604800");
    Preflight.Report r = Preflight.check(ds, Duration.ofMinutes(15));
    assertThat(r.findings()).isEmpty();
    assertThat(r.server()).startsWith("MariaDB ");
    assertThat(r.serverIdentity()).isEqualTo("server_id 1");
    assertThat(r.binlogRetention()).isEqualTo(Duration.ofDays(7));
  }

  @Test
  @DisplayName("names every bad setting with what to change, and refuses to open the archiver when told to")
  void badSettings() throws Exception {
    db.exec("SET GLOBAL sync_binlog=0", "SET GLOBAL binlog_format=MIXED", "SET GLOBAL binlog_expire_logs_seconds=600");
    try {
      Preflight.Report r = Preflight.check(ds, Duration.ofMinutes(15));
      assertThat(r.findings()).extracting(Preflight.Finding::setting)
          .containsExactlyInAnyOrder("binlog_format", "sync_binlog", "binlog_expire_logs_seconds");
      assertThat(r.toString()).contains("SET GLOBAL sync_binlog=1", "SET GLOBAL binlog_format=ROW",
          "binlog_expire_logs_seconds=86400");
      Path binlogs = db.dataDir();
      Archiver.Builder b = Archiver.builder().source(BinlogSource.directory(binlogs))
          .sink(FileSystemSink.of(tmp.resolve("archive"))).serverId("db1").cursorFile(tmp.resolve("c.json"));
      try (Archiver refused = b.preflight(ds, Preflight.OnProblem.REFUSE).build()) {
        assertThatThrownBy(refused::open)
            .isInstanceOf(ArchiveException.class)
            .hasMessageContaining("refusing to archive")
            .hasMessageContaining("sync_binlog=0")
            .hasMessageContaining("binlog_format=MIXED");
      }
      try (Archiver a = b.preflight(ds, Preflight.OnProblem.WARN).build()) {
        assertThat(a.open()).isSameAs(a);
      }
    } finally {
      db.exec("SET GLOBAL sync_binlog=1", "SET GLOBAL binlog_format=ROW", "SET GLOBAL binlog_expire_logs_seconds=604800");
    }
  }
}
