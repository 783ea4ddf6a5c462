package io.binlogarchive.gcs;

import io.binlogarchive.RetryPolicy;
import com.google.api.gax.retrying.RetrySettings;
import com.google.cloud.NoCredentials;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import java.io.InputStream;
import java.time.Duration;
import java.util.logging.LogManager;

/** Clients for the test server. */
final class GcsTestClients {
  static {
    // keep the client's java.util.logging output at WARN, as the slf4j-simple config does
    try (InputStream in = GcsTestClients.class.getResourceAsStream("/logging.properties")) {
      LogManager.getLogManager().readConfiguration(in);
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private GcsTestClients() {}

  /**
   * @param endpoint the test server
   * @param clientAttempts the client's own attempts per call (1: the sink's RetryPolicy owns all
   *     retries; more: the client also resumes interrupted chunks itself), with 1-10 ms backoff
   */
  static Storage storage(String endpoint, int clientAttempts) {
    RetrySettings retry =
        RetrySettings.newBuilder()
            .setMaxAttempts(clientAttempts)
            .setInitialRetryDelayDuration(Duration.ofMillis(1))
            .setMaxRetryDelayDuration(Duration.ofMillis(10))
            .setRetryDelayMultiplier(2.0)
            .setTotalTimeoutDuration(Duration.ofMinutes(2))
            .setInitialRpcTimeoutDuration(Duration.ofSeconds(30))
            .setMaxRpcTimeoutDuration(Duration.ofSeconds(30))
            .setRpcTimeoutMultiplier(1.0)
            .build();
    return StorageOptions.http()
        .setHost(endpoint)
        .setProjectId("test")
        .setCredentials(NoCredentials.getInstance())
        .setRetrySettings(retry)
        .build()
        .getService();
  }
}
