package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ArchiveReader#plan(RestoreTarget)}: a restore without a named start, on the first three
 * files of the real MariaDB chain (events from 03:53:27 to 03:53:38 on 2026-11-22; file 3 begins
 * at 03:53:33).
 */
@DisplayName("A restore without a named start")
class RestoreStartChoiceTest {
  static final Instant IN_FILE_2 = Instant.parse("2026-11-22T03:53:30Z");

  @TempDir Path tmp;
  ArchiveReader reader;

  @BeforeEach
  void archive() throws Exception {
    FileSystemSink sink = TestArchive.archiveChain(tmp, 4);
    reader = ArchiveReader.builder().sink(sink).serverId("db1").retryPolicy(RetryPolicy.none()).build();
  }

  void registerTwoBackups() throws IOException {
    reader.maintenance().registerBaseBackup(new BaseBackup("early", "mysql-bin.000001", 4, null,
        Instant.parse("2026-11-22T03:53:27Z"), null));
    reader.maintenance().registerBaseBackup(new BaseBackup("late", "mysql-bin.000003", 4, null,
        Instant.parse("2026-11-22T03:53:33Z"), null));
  }

  @Test
  @DisplayName("with no base backup registered, starts at the beginning of the timeline's first archived file and says so")
  void noBackupStartsAtFirstFile() throws IOException {
    RestorePlan plan = reader.plan(RestoreTarget.latest());

    assertThat(plan.backup()).isNull();
    assertThat(plan.startFile()).isEqualTo("mysql-bin.000001");
    assertThat(plan.startPosition()).isEqualTo(4);
    assertThat(plan.files()).hasSize(3);
    assertThat(plan.startChoice()).isEqualTo("the first archived file of timeline t0001, as no base backup is registered");
    assertThat(plan.describe()).contains("start chosen: the first archived file of timeline t0001");
  }

  @Test
  @DisplayName("starts at the newest registered base backup that precedes the target, by time, position or latest")
  void newestPrecedingBackup() throws IOException {
    registerTwoBackups();

    RestorePlan latest = reader.plan(RestoreTarget.latest());
    assertThat(latest.backup()).isEqualTo("late");
    assertThat(latest.startFile()).isEqualTo("mysql-bin.000003");
    assertThat(latest.describe()).contains("(base backup late)",
        "start chosen: base backup late, the newest registered one before the target");

    RestorePlan byTime = reader.plan(RestoreTarget.time(IN_FILE_2));
    assertThat(byTime.backup()).isEqualTo("early");
    assertThat(byTime.files()).extracting(Sidecar::file).containsExactly("mysql-bin.000001", "mysql-bin.000002");
    assertThat(byTime.startChoice()).contains("base backup early");

    RestorePlan byPosition = reader.plan(RestoreTarget.position("mysql-bin.000002", 4));
    assertThat(byPosition.backup()).isEqualTo("early");

    RestorePlan named = reader.plan("late", RestoreTarget.latest());
    assertThat(named.startChoice()).isNull();
    assertThat(named.describe()).doesNotContain("start chosen");
  }

  @Test
  @DisplayName("passes over a backup whose start file is not archived yet (the active binlog), and says so")
  void backupOfUnarchivedFileIsPassedOver() throws IOException {
    registerTwoBackups();
    reader.maintenance().registerBaseBackup(new BaseBackup("newest", "mysql-bin.000004", 4, null,
        Instant.parse("2026-11-22T03:53:40Z"), null));

    RestorePlan plan = reader.plan(RestoreTarget.latest());

    assertThat(plan.backup()).isEqualTo("late");
    assertThat(plan.startChoice()).isEqualTo("base backup late, the newest registered one before the target;"
        + " passed over: newest (its start mysql-bin.000004 is not a restorable file of the archive)");
  }

  @Test
  @DisplayName("fails naming the backups when every registered one starts after the target")
  void everyBackupAfterTarget() throws IOException {
    registerTwoBackups();

    assertThatThrownBy(() -> reader.plan(RestoreTarget.time(Instant.parse("2026-11-22T03:00:00Z"))))
        .isInstanceOf(ArchiveException.class)
        .hasMessageContaining("no registered base backup precedes it")
        .hasMessageContaining("late (taken at 2026-11-22T03:53:33Z)")
        .hasMessageContaining("early (taken at 2026-11-22T03:53:27Z)");
  }
}
