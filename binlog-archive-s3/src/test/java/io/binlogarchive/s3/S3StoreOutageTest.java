package io.binlogarchive.s3;

import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testkit.StoreOutageKit;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.DisplayName;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * The store-outage kit against s3proxy with its objects on disk ({@link S3ProxyServer#onDisk}),
 * stopped while a multipart upload's part is about to be sent (the upload was created, so only an
 * abort can end it) and restarted on the same port.
 */
@DisplayName("S3Sink on s3proxy through a server outage")
class S3StoreOutageTest extends StoreOutageKit {

  @Override
  protected Store store(Path dir, UploadGate gate) throws Exception {
    S3ProxyServer server = S3ProxyServer.onDisk(dir);
    server.start();
    String bucket = server.newBucket();
    ExecutionInterceptor hold = new ExecutionInterceptor() {
      @Override
      public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        if (context.request() instanceof UploadPartRequest part) {
          gate.uploading(part.key());
        }
      }
    };
    S3Client client = S3ProxyServer.client(server.endpoint(), Duration.ofSeconds(30), hold);
    ExecutorService parts = Executors.newFixedThreadPool(4);
    return new Store() {
      @Override
      public Sink sink(RetryPolicy retry) {
        // artifacts go multipart (one part each), sidecars in one PUT
        return S3Sink.builder().client(client).bucket(bucket).executor(parts).partSize(S3Sink.MIN_PART_SIZE)
            .singlePutThreshold(64 * 1024).retryPolicy(retry).build();
      }

      @Override
      public void stop() throws Exception {
        server.stop();
      }

      @Override
      public void restart() throws Exception {
        server.restart();
      }

      @Override
      public byte[] storedBytes(String key) {
        return server.storedBytes(bucket, key);
      }

      @Override
      public List<String> uploadsLeft() {
        return server.uploads(bucket).stream().map(MultipartUpload::key).toList();
      }

      @Override
      public String location() {
        return "s3://" + bucket + "/";
      }

      @Override
      public void close() throws Exception {
        parts.shutdownNow();
        client.close();
        server.close();
      }
    };
  }
}
