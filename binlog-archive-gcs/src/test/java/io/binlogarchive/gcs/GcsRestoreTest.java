package io.binlogarchive.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.storage.Storage;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.restore.RestoreFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.testing.StoreTests;
import io.binlogarchive.restore.VerifyOptions;
import io.binlogarchive.restore.VerifyReport;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("Restore from GCS (the JSON API test server), zstd + AES-256-GCM")
class GcsRestoreTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("an archive written through GcsSink verifies in full and fetches back to the original binlogs, byte for byte")
  void fetchAndVerify() throws Exception {
    try (GcsJsonApiTestServer server = GcsJsonApiTestServer.start();
        Storage storage = GcsTestClients.storage(server.endpoint(), 1)) {
      server.createBucket("restore");
      GcsSink sink = GcsSink.builder().storage(storage).bucket("restore").prefix("archive")
          .chunkSize(GcsSink.MIN_CHUNK_SIZE).retryPolicy(StoreTests.noSleepRetries(3)).build();
      Path binlogs = RestoreFixture.archiveChain(sink, tmp, 5);
      ArchiveReader reader = RestoreFixture.reader(sink);

      VerifyReport full = reader.verify(VerifyOptions.defaults().withFull());
      assertThat(full.problems()).isEmpty();
      assertThat(full.filesChecked()).isEqualTo(4);

      RestorePlan plan = reader.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
      assertThat(plan.files().get(0).artifact().key()).endsWith(".zst.aes");
      FetchResult fetched = reader.fetch(plan, tmp.resolve("restore"));
      assertThat(fetched.fetched()).isEqualTo(4);
      RestoreFixture.assertOriginals(fetched, binlogs);
    }
  }
}
