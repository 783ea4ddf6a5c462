package io.binlogarchive.gcs;

import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Storage.BlobSourceOption;
import com.google.cloud.storage.Storage.BlobTargetOption;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.gcs.GcsErrors.Op;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.ConditionalCalls;
import io.binlogarchive.store.spi.PreconditionFailedException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * The conditional writes of a {@link GcsSink} (for {@link io.binlogarchive.store.StoreLease}), on
 * object generations: a replace is a single-request upload with {@code ifGenerationMatch} whose
 * size and CRC32C are checked afterwards, a delete removes one generation with {@code
 * ifGenerationMatch}. A refused precondition ends a call at once, whatever the retry policy says.
 */
final class GcsConditionalWrites {
  private final GcsSink sink;
  private final GcsSinkSettings settings;

  GcsConditionalWrites(GcsSink sink, GcsSinkSettings settings) {
    this.sink = sink;
    this.settings = settings;
  }

  StoredObject replace(String name, String expectedVersion, byte[] content) throws IOException {
    Objects.requireNonNull(content, "content");
    long generation = generation(name, expectedVersion);
    String writeId = ConditionalCalls.newWriteId();
    BlobInfo.Builder info =
        BlobInfo.newBuilder(BlobId.of(settings.bucket(), name))
            .setContentType("application/octet-stream")
            .setMetadata(Map.of(ConditionalCalls.WRITE_ID, writeId));
    if (settings.storageClass() != null) {
      info.setStorageClass(settings.storageClass());
    }
    List<BlobTargetOption> options = new ArrayList<>();
    options.add(BlobTargetOption.generationMatch(generation));
    if (settings.kmsKeyName() != null) {
      options.add(BlobTargetOption.kmsKeyName(settings.kmsKeyName()));
    }
    if (settings.customerKeyBase64() != null) {
      options.add(BlobTargetOption.encryptionKey(settings.customerKeyBase64()));
    }
    BlobInfo blobInfo = info.build();
    BlobTargetOption[] opts = options.toArray(BlobTargetOption[]::new);
    Blob blob;
    try {
      blob = sink.conditionalCall(Op.REPLACE, name, () -> settings.storage().create(blobInfo, content, opts));
    } catch (PreconditionFailedException refused) {
      // our own earlier attempt may have landed, its answer lost
      blob = ConditionalCalls.ownWriteOrRefuse(refused, writeId, () -> sink.getBlob(name), Blob::getMetadata);
    }
    CRC32C crc = new CRC32C();
    crc.update(content);
    String crcHex = String.format("%08x", crc.getValue());
    if (blob.getSize() == null || blob.getSize() != content.length
        || blob.getCrc32c() != null && !crcHex.equals(blob.getCrc32cToHexString())) {
      throw new IntegrityException("replaced gs://" + settings.bucket() + "/" + name + " but it does not hold what was"
          + " written: wrote " + content.length + " bytes crc32c=" + crcHex + ", store reports " + blob.getSize()
          + " bytes crc32c=" + blob.getCrc32cToHexString());
    }
    return sink.toStoredObject(blob);
  }

  void delete(String name, String expectedVersion) throws IOException {
    long generation = generation(name, expectedVersion);
    boolean deleted =
        sink.conditionalCall(
            Op.CONDITIONAL_DELETE,
            name,
            () -> settings.storage().delete(BlobId.of(settings.bucket(), name, generation), BlobSourceOption.generationMatch()));
    if (!deleted) {
      throw GcsErrors.generationNotFound(settings.bucket(), name, generation);
    }
  }

  private long generation(String name, String version) {
    Objects.requireNonNull(version, "expectedVersion");
    long g;
    try {
      g = Long.parseLong(version);
    } catch (NumberFormatException e) {
      g = -1;
    }
    if (g <= 0) {
      throw new IllegalArgumentException("expected version '" + version + "' of gs://" + settings.bucket() + "/" + name
          + " is not a GCS generation (a positive decimal number, as stat() reports)");
    }
    return g;
  }
}
