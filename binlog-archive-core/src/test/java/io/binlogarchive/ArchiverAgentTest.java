package io.binlogarchive;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("A started archiver")
class ArchiverAgentTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("archives files as the server rotates and stops gracefully with a consistent cursor")
  void runsContinuously() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 4);
    LinkedBlockingQueue<String> committed = new LinkedBlockingQueue<>();
    List<String> order = new CopyOnWriteArrayList<>();
    Archiver archiver = Archiver.builder()
        .source(BinlogSource.directory(binlogs))
        .sink(FileSystemSink.of(tmp.resolve("archive")))
        .serverId("db1")
        .cursorFile(tmp.resolve("cursor.json"))
        .pollInterval(Duration.ofHours(1)) // only the directory watch or wakeUp() may trigger runs
        .listener(new ArchiveListener() {
          @Override
          public void cursorCommitted(Cursor c) {
            order.add(c.lastSyncedFile());
            committed.add(c.lastSyncedFile());
          }
        })
        .build();
    try {
      archiver.start();
      assertThat(drainUntil(committed, "mysql-bin.000003")).isTrue();
      // the server rotates: 000005 becomes active, 000004 is closed
      for (int i = 5; i <= 6; i++) {
        String name = String.format("mysql-bin.%06d", i);
        Files.copy(Fixtures.chain().resolve(name), binlogs.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(binlogs.resolve("mysql-bin.index"), "./" + name + "\n", StandardOpenOption.APPEND);
      }
      archiver.wakeUp(); // the watch normally does this; calling it too keeps the test independent of the FS
      assertThat(drainUntil(committed, "mysql-bin.000005")).isTrue();
    } finally {
      archiver.close();
    }
    assertThat(order).containsExactly("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003", "mysql-bin.000004",
        "mysql-bin.000005");
    try (CursorStore store = CursorStore.file(tmp.resolve("cursor.json"))) {
      assertThat(store.load()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000005");
    }
  }

  private static boolean drainUntil(LinkedBlockingQueue<String> q, String name) throws InterruptedException {
    while (true) {
      String s = q.poll(60, TimeUnit.SECONDS);
      if (s == null) {
        return false;
      }
      if (s.equals(name)) {
        return true;
      }
    }
  }

  @Test
  @DisplayName("stands by while another agent holds the lease, telling its listener who holds it on every poll,"
      + " even when the listener throws")
  void reportsStandingBy() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    String key = StoreLease.keyFor("", "db1");
    LinkedBlockingQueue<String> standby = new LinkedBlockingQueue<>();
    try (Archiver holder = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(sink).serverId("db1")
            .cursorFile(tmp.resolve("a.cursor.json"))
            .lease(StoreLease.builder(sink, key).holderId("agent-A").build()).build();
        Archiver standbyAgent = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(sink).serverId("db1")
            .cursorFile(tmp.resolve("b.cursor.json")).pollInterval(Duration.ofMillis(20))
            .lease(StoreLease.builder(sink, key).holderId("agent-B").build())
            .listener(new ArchiveListener() {
              @Override
              public void standingBy(String leaseKey, String holderId) {
                standby.add(leaseKey + " held by " + holderId);
                throw new IllegalStateException("a listener bug");
              }
            }).build()) {
      assertThat(holder.runOnce().succeeded()).isTrue();
      standbyAgent.start();
      assertThat(standby.poll(30, TimeUnit.SECONDS)).isEqualTo("db1/lease.json held by agent-A");
      assertThat(standby.poll(30, TimeUnit.SECONDS)).as("the agent polls on after the listener threw")
          .isEqualTo("db1/lease.json held by agent-A");
      assertThat(standbyAgent.cursor()).isEmpty();
    }
  }
}
