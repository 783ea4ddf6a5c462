package io.binlogarchive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testkit.SinkCompatibilityKit;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The compatibility kit and the proofs against real Amazon S3. Runs only when {@code
 * BINLOG_ARCHIVE_S3_IT_BUCKET} names a bucket the standard AWS environment (credentials chain,
 * {@code AWS_REGION}) may write to; {@code BINLOG_ARCHIVE_S3_IT_KMS_KEY_ID} adds SSE-KMS. Objects
 * go under {@code binlog-archive-it/<random>/} and are deleted afterwards. Without the variable
 * every test is skipped, and nothing touches the network.
 */
@DisplayName("S3Sink against real Amazon S3")
class S3RealAwsTest extends SinkCompatibilityKit {
  static final String BUCKET = System.getenv("BINLOG_ARCHIVE_S3_IT_BUCKET");
  static final String KMS_KEY = System.getenv("BINLOG_ARCHIVE_S3_IT_KMS_KEY_ID");

  private static S3Client client;
  private static ExecutorService parts;
  private String prefix;

  private static synchronized S3Client client() {
    if (client == null) {
      client = S3Client.builder().overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())).build();
      parts = Executors.newFixedThreadPool(4);
    }
    return client;
  }

  @AfterAll
  static void release() {
    if (client != null) {
      client.close();
      parts.shutdownNow();
    }
  }

  @Override
  protected Sink newSink() {
    // per test (the kit opens a sink before each), so every test is reported as skipped with the reason
    Assumptions.assumeTrue(
        BUCKET != null && !BUCKET.isBlank(),
        "skipped: set BINLOG_ARCHIVE_S3_IT_BUCKET (and AWS credentials and AWS_REGION) to run against real S3");
    prefix = "binlog-archive-it/" + UUID.randomUUID() + "/";
    S3Sink.Builder b =
        S3Sink.builder()
            .client(client())
            .bucket(BUCKET)
            .prefix(prefix)
            .executor(parts)
            .partSize(S3Sink.MIN_PART_SIZE)
            .listPageSize(10)
            .retryPolicy(RetryPolicy.defaults());
    if (KMS_KEY != null && !KMS_KEY.isBlank()) {
      b.sseKms(KMS_KEY).requireEncryption(true);
    }
    return b.build();
  }

  @AfterEach
  void deleteEverything() {
    if (client == null || prefix == null) {
      return;
    }
    for (S3Object o : client.listObjectsV2Paginator(r -> r.bucket(BUCKET).prefix(prefix)).contents()) {
      client.deleteObject(r -> r.bucket(BUCKET).key(o.key()));
    }
    for (MultipartUpload u : client.listMultipartUploads(r -> r.bucket(BUCKET).prefix(prefix)).uploads()) {
      client.abortMultipartUpload(r -> r.bucket(BUCKET).key(u.key()).uploadId(u.uploadId()));
    }
  }

  @Test
  @DisplayName("S3 reports the composite SHA-256 of a multipart upload, and it matches ours")
  void compositeProof() throws Exception {
    byte[] data = new byte[2 * S3Sink.MIN_PART_SIZE + 5];
    new java.util.Random(1).nextBytes(data);
    StoredObject o;
    try (SinkWriter w = sink.create("proof/multi", Map.of())) {
      w.write(data);
      o = w.commit();
    }
    assertThat(o.checksums()).containsKey("sha256-composite");
    assertThat(client.listMultipartUploads(r -> r.bucket(BUCKET).prefix(prefix)).uploads()).isEmpty();
  }

  @Test
  @DisplayName("S3 reports the whole-object SHA-256 of a single PUT")
  void singleProof() throws Exception {
    StoredObject o;
    try (SinkWriter w = sink.create("proof/single", Map.of())) {
      w.write(new byte[] {1, 2, 3});
      o = w.commit();
    }
    assertThat(o.checksums()).containsEntry("sha256", "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81");
    assertThat(sink.stat("proof/single")).get().extracting(s -> s.checksums().get("sha256"))
        .isEqualTo(o.checksums().get("sha256"));
  }
}
