package io.binlogarchive.gcs;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testkit.SinkCompatibilityKit;
import io.binlogarchive.store.StoredObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;

/**
 * The compatibility kit against real Google Cloud Storage. Runs only when {@code
 * BINLOG_ARCHIVE_GCS_IT_BUCKET} names a bucket and Application Default Credentials are available
 * (e.g. {@code gcloud auth application-default login}); otherwise every test reports itself skipped.
 * Each test writes under a fresh {@code binlog-archive-it/<uuid>/} prefix and deletes it afterwards.
 */
@DisplayName("GcsSink against real Google Cloud Storage (BINLOG_ARCHIVE_GCS_IT_BUCKET)")
class GcsSinkRealGcsTest extends SinkCompatibilityKit {
  private static final String BUCKET = System.getenv("BINLOG_ARCHIVE_GCS_IT_BUCKET");
  private final List<Sink> opened = new ArrayList<>();
  private Storage storage;

  @Override
  protected Sink newSink() {
    assumeTrue(
        BUCKET != null && !BUCKET.isBlank(),
        "skipped: set BINLOG_ARCHIVE_GCS_IT_BUCKET to a bucket (and Application Default Credentials) to run against real GCS");
    if (storage == null) {
      storage = StorageOptions.getDefaultInstance().getService();
    }
    GcsSink sink =
        GcsSink.builder()
            .storage(storage)
            .bucket(BUCKET)
            .prefix("binlog-archive-it/" + UUID.randomUUID())
            .pageSize(10)
            .build();
    opened.add(sink);
    return sink;
  }

  @Override
  protected int multiPartSize() {
    return 2 * GcsSink.DEFAULT_CHUNK_SIZE + 3;
  }

  @AfterEach
  void deleteWhatWasWritten() throws Exception {
    for (Sink s : opened) {
      for (StoredObject o : s.list("")) {
        s.delete(o.key());
      }
    }
    if (storage != null) {
      storage.close();
    }
  }
}
