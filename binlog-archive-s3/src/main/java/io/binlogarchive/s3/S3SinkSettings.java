package io.binlogarchive.s3;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.spi.SettingsProblems;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.StorageClass;

/**
 * What an {@link S3Sink} was built with: an immutable value, checked as a whole when it is made
 * (the builder's setters check each value alone), with the derived forms the requests need (the
 * SSE header value or null for the bucket's default, the base64 JSON of the KMS encryption context
 * or null, the effective single-PUT threshold). It does no I/O: the client is only held, and its
 * endpoint only inspected.
 */
record S3SinkSettings(
    S3Client client, String bucket, String prefix,
    Executor executor, int partSize, int maxPartsInFlight, int singlePutThreshold,
    ServerSideEncryption sse, String kmsKeyId, String kmsEncryptionContext, StorageClass storageClass,
    RetryPolicy retryPolicy, int listPageSize, Duration abortWait) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @return the settings of {@code b}
   * @throws IllegalStateException naming every missing or conflicting setting, and a plain http
   *     endpoint of the client that is not a loopback address unless allowed
   */
  static S3SinkSettings of(S3Sink.Builder b) {
    new SettingsProblems()
        .unless(b.client != null, "client is required")
        .unless(b.bucket != null, "bucket is required")
        .unless(!(b.sseS3 && b.sseKms), "both SSE-S3 and SSE-KMS are set; choose one")
        .unless(!b.requireEncryption || b.sseS3 || b.sseKms,
            "requireEncryption is set but neither SSE-S3 nor SSE-KMS is configured")
        .unless(b.singlePutThreshold <= b.partSize,
            "singlePutThreshold " + b.singlePutThreshold + " exceeds partSize " + b.partSize)
        .add(S3Sink.endpointProblem(b.client, "the S3 client", b.allowInsecureEndpoint).orElse(null))
        .throwIfAny(all -> new IllegalStateException("invalid S3Sink configuration: " + all));
    return new S3SinkSettings(
        b.client, b.bucket, b.prefix,
        b.executor, b.partSize, b.maxPartsInFlight, b.singlePutThreshold < 0 ? b.partSize : b.singlePutThreshold,
        b.sseKms ? ServerSideEncryption.AWS_KMS : b.sseS3 ? ServerSideEncryption.AES256 : null, b.kmsKeyId,
        b.kmsContext == null || b.kmsContext.isEmpty() ? null : encodeContext(b.kmsContext), b.storageClass,
        b.retryPolicy, b.listPageSize, b.abortWait);
  }

  /**
   * The KMS encryption context as S3 wants it: a JSON object of strings, keys in order (so the
   * same context always gives the same header), base64-encoded.
   */
  static String encodeContext(Map<String, String> context) {
    try {
      byte[] json = JSON.writeValueAsString(new TreeMap<>(context)).getBytes(StandardCharsets.UTF_8);
      return Base64.getEncoder().encodeToString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode the KMS encryption context as JSON", e); // strings always encode
    }
  }

  @Override
  public String toString() {
    return "s3://" + bucket + "/" + prefix + ", partSize=" + partSize + ", inFlight=" + maxPartsInFlight
        + ", sse=" + (sse == null ? "none" : sse);
  }
}
