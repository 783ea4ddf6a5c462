package io.binlogarchive.store;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.Objects;

/**
 * How far the archive is known to be complete: every binlog up to and including {@link
 * #lastSyncedFile()} is archived, verified and described by a sidecar.
 *
 * @param lastSyncedFile name of the newest file archived in order, e.g. {@code mysql-bin.000042}
 * @param sequence its numeric sequence
 * @param sha256Checksum SHA-256 of its plaintext bytes (hex)
 * @param lastTimestamp time of its last event (may be {@code null} if unknown)
 * @param timeline the archive timeline it belongs to
 * @param committedAt when this cursor was written
 */
public record Cursor(
    @JsonProperty("last_synced_file") String lastSyncedFile,
    @JsonProperty("sequence") long sequence,
    @JsonProperty("sha256_checksum") String sha256Checksum,
    @JsonProperty("last_timestamp") Instant lastTimestamp,
    @JsonProperty("timeline") String timeline,
    @JsonProperty("committed_at") Instant committedAt) {

  /**
   * Validates the fields.
   *
   * @param lastSyncedFile name of the newest file archived in order, e.g. {@code mysql-bin.000042};
   *     not null
   * @param sequence its numeric sequence
   * @param sha256Checksum SHA-256 of its plaintext bytes (hex); not null
   * @param lastTimestamp time of its last event (may be {@code null} if unknown)
   * @param timeline the archive timeline it belongs to; not null
   * @param committedAt when this cursor was written
   */
  public Cursor {
    Objects.requireNonNull(lastSyncedFile, "last_synced_file");
    Objects.requireNonNull(sha256Checksum, "sha256_checksum");
    Objects.requireNonNull(timeline, "timeline");
  }
}
