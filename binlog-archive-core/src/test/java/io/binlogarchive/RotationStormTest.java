package io.binlogarchive;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.testing.MariaDbServer;
import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SlowTest
@MariaDbTest
@DisplayName("A rotation storm on a real MariaDB server")
class RotationStormTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("1,000 tiny binlogs made by FLUSH BINARY LOGS in a loop are all archived, in order")
  void thousandTinyBinlogs() throws Exception {
    try (MariaDbServer db = MariaDbServer.start(tmp.resolve("db"))) {
      db.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64))");
      RotationStorm.Result r = RotationStorm.run(db, tmp, 1000);
      List<String> all = db.binaryLogs();
      List<String> closed = all.subList(0, all.size() - 1);
      assertThat(closed).hasSizeGreaterThanOrEqualTo(1000);
      assertThat(r.summary().succeeded()).isTrue();
      assertThat(r.committed()).containsExactlyElementsOf(closed);
      // counted before the checks below read the archive through the same counting sink
      double callsPerFile = r.storeCallsPerFileBeyondUpload();
      System.out.printf("rotation storm: %d files, flush %d ms, archive %d ms = %.2f ms/file, %.2f store calls/file"
              + " beyond the upload %s%n", r.files(), r.flushTime().toMillis(), r.archiveTime().toMillis(),
          r.millisPerFile(), callsPerFile, r.sink().snapshot());
      assertThat(callsPerFile).as("store calls per file beyond the upload").isLessThanOrEqualTo(3.0);
      assertThat(ArchiveCatalog.of(r.sink(), "", "db1").sidecars("t0001")).extracting(Sidecar::file)
          .containsExactlyElementsOf(closed);
    }
  }
}
