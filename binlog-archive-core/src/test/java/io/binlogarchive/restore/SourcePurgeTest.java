package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.MariaDbServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ArchiveMaintenance#purgeSource} on a real MariaDB server: binlogs leave the server only when
 * their local bytes are proven equal to what the archive restores.
 */
@SlowTest
@MariaDbTest
@DisplayName("Purging the source server")
class SourcePurgeTest {
  @TempDir Path tmp;
  MariaDbServer server;
  FileSystemSink sink;
  ArchiveReader reader;
  List<String> before;

  @BeforeEach
  void archiveFiveFiles() throws Exception {
    server = MariaDbServer.start(tmp.resolve("server"));
    server.exec("CREATE DATABASE shop");
    for (int i = 0; i < 5; i++) {
      server.load("shop", 200, i);
      server.flushLogs();
    }
    sink = FileSystemSink.of(tmp.resolve("archive"));
    try (Archiver a = Archiver.builder().source(BinlogSource.indexFile(server.indexFile())).sink(sink)
        .serverId("src").cursorFile(tmp.resolve("cursor.json")).retryPolicy(RetryPolicy.none()).build()) {
      assertThat(a.runOnce().failure()).isNull();
    }
    reader = ArchiveReader.builder().sink(sink).serverId("src").retryPolicy(RetryPolicy.none()).build();
    before = server.binaryLogs();
    assertThat(before).hasSize(6); // five archived, the active one not
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  Path binlogDir() {
    return server.indexFile().getParent();
  }

  @Test
  @DisplayName("purges every file a full verify proved and whose local bytes match their sidecars")
  void provenFilesGo() throws Exception {
    VerifyReport full = reader.verify(VerifyOptions.defaults().withFull());

    assertThat(reader.maintenance().purgeSource(server.dataSource(), binlogDir(), full, true))
        .contains("PURGE BINARY LOGS TO '" + before.get(5) + "'");

    // the server itself may keep the newest of them a little longer (its binlog checkpoint)
    assertThat(server.binaryLogs()).doesNotContainAnyElementsOf(before.subList(0, 4)).endsWith(before.get(5));
  }

  @Test
  @DisplayName("refuses a metadata-only verify report and purges nothing")
  void metadataOnlyIsNotEnough() throws Exception {
    VerifyReport metadataOnly = reader.verify(VerifyOptions.defaults());
    assertThat(metadataOnly.windows()).isNotEmpty();

    assertThatThrownBy(() -> reader.maintenance().purgeSource(server.dataSource(), binlogDir(), metadataOnly, true))
        .isInstanceOf(ArchiveException.class).hasMessageContaining("metadata-only");

    assertThat(server.binaryLogs()).isEqualTo(before);
  }

  @Test
  @DisplayName("keeps a file whose local bytes differ from the archive (same size), and everything after it")
  void differingLocalFileStays() throws Exception {
    String changed = before.get(2);
    try (RandomAccessFile f = new RandomAccessFile(binlogDir().resolve(changed).toFile(), "rw")) {
      f.seek(f.length() - 1);
      int b = f.read();
      f.seek(f.length() - 1);
      f.write(b ^ 0x01);
    }
    VerifyReport full = reader.verify(VerifyOptions.defaults().withFull());
    assertThat(full.problems()).isEmpty();

    assertThat(reader.maintenance().purgeSource(server.dataSource(), binlogDir(), full, true))
        .contains("PURGE BINARY LOGS TO '" + changed + "'");

    assertThat(server.binaryLogs()).isEqualTo(before.subList(2, 6));
  }

  @Test
  @DisplayName("purges nothing when the local files are not where it was told to look")
  void missingLocalFilesStay() throws Exception {
    VerifyReport full = reader.verify(VerifyOptions.defaults().withFull());

    assertThat(reader.maintenance().purgeSource(server.dataSource(), tmp.resolve("not-the-binlog-dir"), full, true)).isEmpty();

    assertThat(server.binaryLogs()).isEqualTo(before);
  }
}
