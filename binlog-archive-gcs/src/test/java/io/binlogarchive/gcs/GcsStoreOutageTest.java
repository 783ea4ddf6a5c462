package io.binlogarchive.gcs;

import com.google.cloud.storage.Storage;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testkit.StoreOutageKit;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;

/**
 * The store-outage kit against {@link GcsJsonApiTestServer} (our JSON API test double, not Google's
 * server), stopped while a resumable upload request of an artifact has reached it and before it
 * acts on it, and restarted on the same port with its objects and sessions. An interrupted upload
 * leaves an unfinished session behind by design: {@code GcsSink} forgets it (closing the channel
 * would finalise it; it sends no cancelling {@code DELETE} either), it holds no object and GCS
 * discards it after a week; the kit checks that each one left belongs to an artifact archived since.
 */
@DisplayName("GcsSink on the GCS test server through a server outage")
class GcsStoreOutageTest extends StoreOutageKit {
  private static final String BUCKET = "outage";

  @Override
  protected Store store(Path dir, UploadGate gate) throws Exception {
    GcsJsonApiTestServer server = GcsJsonApiTestServer.start();
    server.createBucket(BUCKET);
    server.onUpload(gate::uploading);
    // one client attempt per call: the sink's RetryPolicy owns every retry
    Storage client = GcsTestClients.storage(server.endpoint(), 1);
    return new Store() {
      @Override
      public Sink sink(RetryPolicy retry) {
        return GcsSink.builder().storage(client).bucket(BUCKET).chunkSize(GcsSink.MIN_CHUNK_SIZE).retryPolicy(retry)
            .build();
      }

      @Override
      public void stop() {
        server.stop();
      }

      @Override
      public void restart() throws Exception {
        server.restart();
      }

      @Override
      public byte[] storedBytes(String key) {
        return server.objectBytes(BUCKET, key);
      }

      @Override
      public List<String> uploadsLeft() {
        return server.unfinishedSessionNames(BUCKET);
      }

      @Override
      public boolean abandonsUploadsByDesign() {
        return true;
      }

      @Override
      public String location() {
        return "gs://" + BUCKET + "/";
      }

      @Override
      public void close() throws Exception {
        client.close();
        server.close();
      }
    };
  }
}
