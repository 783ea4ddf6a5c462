package io.binlogarchive.examples;

import com.google.cloud.NoCredentials;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sink;
import io.binlogarchive.gcs.GcsSink;

/**
 * Builds S3 and GCS sinks from command-line settings. Credentials come from the SDKs' standard
 * chains (AWS environment/profile/instance role; Google Application Default Credentials); with
 * {@code --endpoint} the GCS client talks to a test server without credentials.
 */
final class CloudSinks {
  private CloudSinks() {}

  static Sink open(String scheme, String bucket, Args args) {
    return switch (scheme) {
      case "gs" -> gcs(bucket, args);
      case "s3" -> S3Sinks.open(bucket, args);
      default -> throw new Args.UsageException("unsupported scheme " + scheme);
    };
  }

  private static Sink gcs(String bucket, Args args) {
    // The client resumes a dropped chunk a few times; the sink's RetryPolicy owns the backoff.
    StorageOptions.Builder options =
        StorageOptions.http()
            .setRetrySettings(StorageOptions.getDefaultRetrySettings().toBuilder().setMaxAttempts(3).build());
    String endpoint = args.get("--endpoint");
    if (endpoint != null) {
      options.setHost(endpoint).setProjectId("test").setCredentials(NoCredentials.getInstance());
    }
    Storage storage = options.build().getService();
    GcsSink.Builder b = GcsSink.builder().storage(storage).bucket(bucket).retryPolicy(RetryPolicy.defaults())
        .allowInsecureEndpoint(args.allowInsecureEndpoint());
    if (args.has("--kms-key-name")) {
      b.kmsKeyName(args.get("--kms-key-name"));
    }
    return b.build();
  }
}
