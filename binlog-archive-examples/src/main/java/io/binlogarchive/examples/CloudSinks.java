package io.binlogarchive.examples;

import com.google.cloud.NoCredentials;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.Sink;
import io.binlogarchive.gcs.GcsSink;

/**
 * Builds S3 and GCS sinks from command-line settings. Credentials come from the SDKs' standard
 * chains (AWS environment/profile/instance role; Google Application Default Credentials); with
 * {@code --endpoint} the GCS client talks to a test server without credentials.
 */
final class CloudSinks {
  private CloudSinks() {}

  static Sink open(String scheme, String bucket, StoreSettings settings) {
    return switch (scheme) {
      case "gs" -> gcs(bucket, settings);
      case "s3" -> S3Sinks.open(bucket, settings);
      default -> throw new UsageException("unsupported scheme " + scheme);
    };
  }

  private static Sink gcs(String bucket, StoreSettings settings) {
    // The client resumes a dropped chunk a few times; the sink's RetryPolicy owns the backoff.
    StorageOptions.Builder options =
        StorageOptions.http()
            .setRetrySettings(StorageOptions.getDefaultRetrySettings().toBuilder().setMaxAttempts(3).build());
    String endpoint = settings.endpoint();
    if (endpoint != null) {
      options.setHost(endpoint).setProjectId("test").setCredentials(NoCredentials.getInstance());
    }
    Storage storage = options.build().getService();
    GcsSink.Builder b = GcsSink.builder().storage(storage).bucket(bucket).retryPolicy(RetryPolicy.defaults())
        .allowInsecureEndpoint(settings.allowInsecureEndpoint());
    if (settings.gcsKmsKeyName() != null) {
      b.kmsKeyName(settings.gcsKmsKeyName());
    }
    return b.build();
  }
}
