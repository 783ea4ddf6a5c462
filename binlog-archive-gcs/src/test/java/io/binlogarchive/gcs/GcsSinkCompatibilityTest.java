package io.binlogarchive.gcs;

import com.google.cloud.storage.Storage;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testing.SlowTest;
import io.binlogarchive.testkit.SinkCompatibilityKit;
import io.binlogarchive.testing.StoreTests;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;

@SlowTest
@DisplayName("GcsSink against the GCS JSON API test server")
class GcsSinkCompatibilityTest extends SinkCompatibilityKit {
  private static final AtomicInteger BUCKETS = new AtomicInteger();
  private static GcsJsonApiTestServer server;
  private static Storage storage;

  @BeforeAll
  static void startServer() throws Exception {
    server = GcsJsonApiTestServer.start();
    storage = GcsTestClients.storage(server.endpoint(), 1);
  }

  @AfterAll
  static void stopServer() throws Exception {
    storage.close();
    server.close();
  }

  @Override
  protected Sink newSink() {
    String bucket = "compat-" + BUCKETS.incrementAndGet();
    server.createBucket(bucket);
    return GcsSink.builder()
        .storage(storage)
        .bucket(bucket)
        .prefix("archive/")
        .chunkSize(GcsSink.MIN_CHUNK_SIZE * 4)
        .pageSize(10)
        .retryPolicy(StoreTests.noSleepRetries(3))
        .build();
  }
}
