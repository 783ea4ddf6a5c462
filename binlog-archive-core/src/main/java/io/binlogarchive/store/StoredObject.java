package io.binlogarchive.store;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What a store says about one object.
 *
 * @param key the object key
 * @param size its size in bytes
 * @param lastModified when the store last wrote it (may be {@code null} if unknown)
 * @param checksums checksums the store reports, by algorithm ({@code sha256}, {@code md5}, {@code
 *     crc32c}, ...), hex or the store's own encoding as documented by the sink; may be empty
 * @param metadata user metadata stored with the object
 * @param version an opaque token for {@link Sink#replace(String, String, byte[])} and {@link
 *     Sink#delete(String, String)}: a GCS generation or a file's identity on a local disk, which
 *     change on every replace, or an S3 ETag, which is derived from the content and so changes
 *     only when the bytes do (replacing an object with the same bytes keeps its version; writers
 *     that watch versions, like {@link StoreLease}, make every write's bytes unique); {@code null}
 *     if the sink has no conditional writes
 */
public record StoredObject(
    String key,
    long size,
    Instant lastModified,
    Map<String, String> checksums,
    Map<String, String> metadata,
    String version) {

  /**
   * Validates and copies the maps.
   *
   * @param key the object key; not null
   * @param size its size in bytes
   * @param lastModified when the store last wrote it (may be {@code null} if unknown)
   * @param checksums checksums the store reports, by algorithm ({@code sha256}, {@code md5}, {@code
   *     crc32c}, ...), hex or the store's own encoding as documented by the sink; may be empty, and
   *     {@code null} is taken as empty
   * @param metadata user metadata stored with the object; {@code null} is taken as empty
   * @param version an opaque token for {@link Sink#replace(String, String, byte[])} and {@link
   *     Sink#delete(String, String)} (see the record's description); {@code null} if the sink has no
   *     conditional writes
   */
  public StoredObject {
    Objects.requireNonNull(key, "key");
    checksums = Map.copyOf(checksums == null ? Map.of() : checksums);
    metadata = Map.copyOf(metadata == null ? Map.of() : metadata);
  }

  /**
   * An object without a version (for sinks without conditional writes).
   *
   * @param key the object key
   * @param size its size in bytes
   * @param lastModified when the store last wrote it, or {@code null}
   * @param checksums checksums the store reports
   * @param metadata user metadata
   */
  public StoredObject(
      String key, long size, Instant lastModified, Map<String, String> checksums, Map<String, String> metadata) {
    this(key, size, lastModified, checksums, metadata, null);
  }
}
