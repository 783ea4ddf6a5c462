package io.binlogarchive;

import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.MariaDbServer;
import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bounded-RPO agent against a real MariaDB server under a steady trickle of writes: rotation by
 * age every couple of seconds, for {@code -Dsoak.seconds} (default 60).
 */
@SlowTest
@MariaDbTest
@DisplayName("A started archiver with a bounded binlog age, on a real MariaDB server under steady writes")
class RpoSoakTest {
  @TempDir Path tmp;

  static final Duration MAX_AGE = Duration.ofSeconds(2);
  static final Duration POLL = Duration.ofSeconds(1);

  /** One committed transaction: when it committed, and the active file right after the commit. */
  record Commit(long atMillis, String file) {}

  @Test
  @DisplayName("archives every closed binlog in order and verified, and no transaction waits longer than age + poll + upload")
  void soak() throws Exception {
    long soakSeconds = Long.getLong("soak.seconds", 60);
    try (MariaDbServer db = MariaDbServer.start(tmp.resolve("db"), "--sync-binlog=1")) {
      db.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64))");
      DataSource ds = db.dataSource();
      Map<String, Long> archivedAtMillis = new ConcurrentHashMap<>();
      List<String> committed = new CopyOnWriteArrayList<>();
      AtomicLong maxFileMillis = new AtomicLong();
      List<Throwable> failures = new CopyOnWriteArrayList<>();
      ArchiveListener listener = new ArchiveListener() {
        @Override
        public void fileArchived(FileResult r) {
          archivedAtMillis.put(r.file().name(), System.currentTimeMillis());
          maxFileMillis.accumulateAndGet(r.duration().toMillis(), Math::max);
        }

        @Override
        public void fileFailed(BinlogFile file, Throwable error) {
          failures.add(error);
        }

        @Override
        public void cursorCommitted(Cursor c) {
          committed.add(c.lastSyncedFile());
        }
      };
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      List<Commit> commits = new ArrayList<>();
      AtomicBoolean writing = new AtomicBoolean(true);
      try (Archiver archiver = Archiver.builder()
          .source(BinlogSource.directory(db.dataDir()))
          .sink(sink)
          .serverId("db1")
          .cursorFile(tmp.resolve("cursor.json"))
          .pollInterval(POLL)
          .rotateWhenOlderThan(MAX_AGE, ds)
          .preflight(ds, Preflight.OnProblem.REFUSE)
          .listener(listener)
          .build()) {
        archiver.start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(soakSeconds);
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
          int i = 0;
          while (System.nanoTime() < end) {
            st.execute("INSERT INTO app.t (v) VALUES ('row " + i++ + "')");
            long at = System.currentTimeMillis();
            try (ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
              rs.next();
              commits.add(new Commit(at, rs.getString(1)));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // the load's pace, not synchronisation
          }
        }
        writing.set(false);
        // the rotator closes the last written file within MAX_AGE; wait for it, bounded
        String lastFile = commits.get(commits.size() - 1).file();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!archivedAtMillis.containsKey(lastFile) && System.nanoTime() < deadline) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        assertThat(archivedAtMillis).as("the last written file is archived").containsKey(lastFile);
      }
      assertThat(failures).isEmpty();

      long maxLag = 0;
      for (Commit c : commits) {
        maxLag = Math.max(maxLag, archivedAtMillis.get(c.file()) - c.atMillis());
      }
      long bound = MAX_AGE.toMillis() + POLL.toMillis() + maxFileMillis.get() + 1000;
      System.out.printf("RPO soak: %d s, %d transactions, %d binlogs archived; max lag %d ms (bound %d ms = age %d +"
              + " poll %d + slowest file %d + 1000 slack)%n", soakSeconds, commits.size(), committed.size(), maxLag, bound,
          MAX_AGE.toMillis(), POLL.toMillis(), maxFileMillis.get());
      assertThat(maxLag).as("max lag, ms").isLessThanOrEqualTo(bound);

      // every closed binlog is archived, in order, and its sidecar matches the local file
      List<String> closed = db.binaryLogs();
      closed = closed.subList(0, closed.size() - 1);
      assertThat(committed).containsExactlyElementsOf(closed);
      assertThat(committed.size()).isGreaterThanOrEqualTo((int) (soakSeconds / 4));
      ArchiveCatalog catalog = ArchiveCatalog.of(sink, "", "db1");
      List<Sidecar> sidecars = catalog.sidecars("t0001");
      assertThat(sidecars).extracting(Sidecar::file).containsExactlyElementsOf(closed);
      for (Sidecar s : sidecars) {
        assertThat(s.sha256()).as(s.file()).isEqualTo(
            Digests.hex(Digests.sha256().digest(Files.readAllBytes(db.dataDir().resolve(s.file())))));
      }
    }
  }
}
