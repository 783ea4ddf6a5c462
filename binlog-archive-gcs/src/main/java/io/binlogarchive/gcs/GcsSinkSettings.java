package io.binlogarchive.gcs;

import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageClass;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.spi.Endpoints;
import io.binlogarchive.store.spi.SettingsProblems;
import java.net.URI;
import java.util.Base64;

/**
 * What a {@link GcsSink} was built with: an immutable value, checked as a whole when it is made
 * (the builder's setters check each value alone). It does no I/O: the client is only held, and its
 * host only inspected. The customer-supplied key is kept in the base64 form the client takes and
 * never appears in {@link #toString()}.
 */
record GcsSinkSettings(
    Storage storage, String bucket, String prefix, int chunkSize, int pageSize,
    String kmsKeyName, StorageClass storageClass, String customerKeyBase64, RetryPolicy retry) {

  /**
   * @return the settings of {@code b}
   * @throws IllegalArgumentException naming every missing or conflicting setting, and a plain http
   *     host of the client that is not a loopback address unless allowed
   */
  static GcsSinkSettings of(GcsSink.Builder b) {
    String host = b.storage == null || b.storage.getOptions() == null ? null : b.storage.getOptions().getHost();
    new SettingsProblems()
        .unless(b.storage != null, "storage (a com.google.cloud.storage.Storage client) is required")
        .unless(b.bucket != null, "bucket is required")
        .add(host == null ? null : Endpoints.transportProblem(URI.create(host), "the Storage client", b.allowInsecureEndpoint))
        .unless(b.kmsKeyName == null || b.customerKey == null,
            "kmsKeyName and customerSuppliedKey cannot both be set: GCS accepts one kind of key per object")
        .throwIfAny(all -> new IllegalArgumentException("invalid GcsSink settings: " + all));
    String customerKey = b.customerKey == null ? null : Base64.getEncoder().encodeToString(b.customerKey);
    return new GcsSinkSettings(b.storage, b.bucket, b.prefix, b.chunkSize, b.pageSize,
        b.kmsKeyName, b.storageClass, customerKey, b.retry);
  }

  /** @return the sink's description, as {@link GcsSink#toString()} gives it; never the customer-supplied key */
  @Override
  public String toString() {
    return "GcsSink[gs://" + bucket + "/" + prefix + ", chunkSize=" + chunkSize + ", pageSize=" + pageSize
        + (kmsKeyName == null ? "" : ", kmsKeyName=" + kmsKeyName)
        + (storageClass == null ? "" : ", storageClass=" + storageClass)
        + (customerKeyBase64 == null ? "" : ", customer-supplied key")
        + ", " + retry + "]";
  }
}
