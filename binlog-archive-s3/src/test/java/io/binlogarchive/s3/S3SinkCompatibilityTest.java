package io.binlogarchive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testing.SlowTest;
import io.binlogarchive.testkit.SinkCompatibilityKit;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.s3.S3Client;

@SlowTest
@DisplayName("S3Sink against s3proxy")
class S3SinkCompatibilityTest extends SinkCompatibilityKit {
  @RegisterExtension static final S3ProxyServer s3 = new S3ProxyServer();

  private static ExecutorService parts;
  private static S3Client client;

  @BeforeAll
  static void start() {
    parts = Executors.newFixedThreadPool(4);
    client = S3ProxyServer.client(s3.endpoint(), Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() {
    parts.shutdownNow();
    client.close();
  }

  /** Whatever a kit test did (abort, lose a race, fail), no multipart upload may be left behind. */
  @AfterEach
  void noUploadLeftBehind() {
    if (sink instanceof S3Sink s) {
      assertThat(s3.uploads(s.bucket())).as("multipart uploads left in %s", s.bucket()).isEmpty();
    }
  }

  @Override
  protected Sink newSink() {
    return S3Sink.builder()
        .client(client)
        .bucket(s3.newBucket())
        .prefix("archive")
        .executor(parts)
        .partSize(S3Sink.MIN_PART_SIZE)
        .maxPartsInFlight(3)
        .listPageSize(10)
        .retryPolicy(RetryPolicy.none())
        .build();
  }
}
