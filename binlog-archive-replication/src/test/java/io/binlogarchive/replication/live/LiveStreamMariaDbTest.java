package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("The live stream rebuilds a real MariaDB's binlogs byte for byte")
class LiveStreamMariaDbTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("across size rotations and FLUSH BINARY LOGS, closed files are identical and the open one differs only in the in-use flag")
  void rotations() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      f.server.load("w", 2000, 1);
      f.startStream(f.source().build(), FsyncPolicy.perTransaction());
      f.server.load("w", 20000, 2);
      f.server.flushLogs();
      f.server.load("w", 500, 3);
      f.awaitCaughtUp();
      assertThat(f.server.binaryLogs().size()).isGreaterThan(3);
      f.assertSpoolMatchesServer();
      assertThat(f.recorder.closed).hasSize(f.server.binaryLogs().size() - 1);
      f.stopStream();
    }
  }
}
