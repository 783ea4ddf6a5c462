package io.binlogarchive;

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
 */
public record StoredObject(
    String key,
    long size,
    Instant lastModified,
    Map<String, String> checksums,
    Map<String, String> metadata) {

  /** Validates and copies the maps. */
  public StoredObject {
    Objects.requireNonNull(key, "key");
    checksums = Map.copyOf(checksums == null ? Map.of() : checksums);
    metadata = Map.copyOf(metadata == null ? Map.of() : metadata);
  }
}
