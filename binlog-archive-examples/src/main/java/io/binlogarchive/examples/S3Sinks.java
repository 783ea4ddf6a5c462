package io.binlogarchive.examples;

import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.spi.ForwardingSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.s3.AwsKmsKeyProvider;
import io.binlogarchive.s3.S3Sink;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.AwsProfileRegionProvider;
import software.amazon.awssdk.regions.providers.AwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.SystemSettingsRegionProvider;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Builds the S3 sink and the AWS KMS key provider from command-line settings.
 *
 * <p>Credentials come from the SDK's default chain (system properties {@code aws.accessKeyId} /
 * {@code aws.secretAccessKey}, the {@code AWS_*} environment, profiles, container and instance
 * roles); the region from {@code --region}, else the SDK's chain, else {@code us-east-1} when
 * {@code --endpoint} points at an S3-compatible store (s3proxy, MinIO), which also turns on
 * path-style addressing. The S3 client's own retries are off: the sink's {@link RetryPolicy} retries
 * each call. The runner owns the client and the part-upload threads and releases both when the sink
 * is closed.
 */
final class S3Sinks {
  /** Part uploads in flight across all writers. */
  private static final int PART_THREADS = 4;

  private S3Sinks() {}

  static Sink open(String bucket, StoreSettings settings) {
    if (settings.gcsKmsKeyName() != null) {
      throw new UsageException("--kms-key-name is for gs:// targets; for S3 use --sse-kms-key-id (server side)"
          + " or --kms-key-id (client side)");
    }
    var builder = S3Client.builder()
        .region(region(settings))
        .overrideConfiguration(o -> o
            .retryStrategy(AwsRetryStrategy.doNotRetry()) // the sink's RetryPolicy retries
            .apiCallAttemptTimeout(Duration.ofMinutes(2)));
    URI endpoint = endpoint(settings);
    if (endpoint != null) {
      builder.endpointOverride(endpoint).forcePathStyle(true);
    }
    S3Client client = builder.build();
    AtomicInteger n = new AtomicInteger();
    ExecutorService parts = Executors.newFixedThreadPool(PART_THREADS, r -> {
      Thread t = new Thread(r, "s3-part-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    try {
      S3Sink.Builder b = S3Sink.builder()
          .client(client)
          .bucket(bucket)
          .executor(parts)
          .maxPartsInFlight(PART_THREADS)
          .retryPolicy(RetryPolicy.defaults())
          .allowInsecureEndpoint(settings.allowInsecureEndpoint());
      if (settings.sseKmsKeyId() != null) {
        b.sseKms(settings.sseKmsKeyId());
      }
      return new OwnedS3Sink(b.build(), client, parts);
    } catch (RuntimeException e) {
      parts.shutdownNow();
      client.close();
      throw e;
    }
  }

  /**
   * A KMS client (same credentials, region and endpoint rules as S3, except that {@code --endpoint}
   * is S3's: a KMS endpoint comes from the SDK's {@code AWS_ENDPOINT_URL_KMS}) and the key provider
   * on it, for {@code --kms-key-id}.
   */
  static Kms kms(String keyId, StoreSettings settings) {
    KmsClient client = KmsClient.builder().region(region(settings)).build();
    try {
      return new Kms(AwsKmsKeyProvider.builder().client(client).keyId(keyId)
          .allowInsecureEndpoint(settings.allowInsecureEndpoint()).build(), client);
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** A KMS key provider and the client the runner owns for it. */
  record Kms(AwsKmsKeyProvider keys, KmsClient client) implements AutoCloseable {
    @Override
    public void close() {
      client.close();
    }
  }

  static Region region(StoreSettings settings) {
    if (settings.region() != null) {
      return Region.of(settings.region());
    }
    // with a local endpoint, do not wait for the instance metadata service
    var chain = settings.endpoint() != null
        ? new AwsRegionProviderChain(new SystemSettingsRegionProvider(), new AwsProfileRegionProvider())
        : DefaultAwsRegionProviderChain.builder().build();
    try {
      return chain.getRegion();
    } catch (SdkClientException e) {
      if (settings.endpoint() != null) {
        return Region.US_EAST_1;
      }
      throw new UsageException("no AWS region: pass --region or set AWS_REGION");
    }
  }

  private static URI endpoint(StoreSettings settings) {
    String e = settings.endpoint();
    if (e == null) {
      return null;
    }
    try {
      URI u = new URI(e);
      if (u.getScheme() == null || u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
        throw new UsageException("--endpoint must be an http(s) URL, got '" + e + "'");
      }
      return u;
    } catch (URISyntaxException x) {
      throw new UsageException("--endpoint must be an http(s) URL, got '" + e + "'");
    }
  }

  /** The sink plus what the runner created for it: closing it shuts both down. */
  private static final class OwnedS3Sink extends ForwardingSink {
    private final S3Sink sink;
    private final S3Client client;
    private final ExecutorService parts;

    OwnedS3Sink(S3Sink sink, S3Client client, ExecutorService parts) {
      super(sink);
      this.sink = sink;
      this.client = client;
      this.parts = parts;
    }

    @Override
    public void close() {
      // writers are finished (committed or aborted) before the runner closes the sink; the sink
      // gets a last chance to abort multipart uploads whose abort failed, while the client is open
      try {
        sink.close();
      } finally {
        parts.shutdownNow();
        client.close();
      }
    }

    @Override
    public String toString() {
      return delegate.toString();
    }
  }
}
