package io.binlogarchive;

import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.internal.RecordJson;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The JSON document stored beside every archived binlog. Its presence marks the artifact complete;
 * restore planning and verification read sidecars only. It never holds key material.
 *
 * @param formatVersion version of this document's layout (currently 1)
 * @param file the binlog's file name
 * @param sequence its numeric sequence
 * @param serverId the archive's server id
 * @param timeline the archive timeline
 * @param size plaintext size in bytes
 * @param sha256 SHA-256 of the plaintext (hex)
 * @param artifact the stored object
 * @param binlog what the scanner found in the file
 * @param archivedAt when the sidecar was written
 * @param archiver the library version that wrote it
 * @param segment for a segment of a binlog still open when it was archived, its byte range and
 *     what it holds; {@code null} for a whole binlog. A segment's {@code size} and {@code sha256}
 *     are those of its range, and its {@code binlog} section describes the file from its start to
 *     the segment's end (so a restore can treat the open file's archived prefix like a file)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Sidecar(
    @JsonProperty("format_version") int formatVersion,
    @JsonProperty("file") String file,
    @JsonProperty("sequence") long sequence,
    @JsonProperty("server_id") String serverId,
    @JsonProperty("timeline") String timeline,
    @JsonProperty("size") long size,
    @JsonProperty("sha256") String sha256,
    @JsonProperty("artifact") Artifact artifact,
    @JsonProperty("binlog") BinlogInfo binlog,
    @JsonProperty("archived_at") Instant archivedAt,
    @JsonProperty("archiver") String archiver,
    @JsonProperty("segment") Segment segment) {

  /** The sidecar layout this library writes. */
  public static final int FORMAT_VERSION = 1;

  /**
   * A whole binlog's sidecar (no segment).
   *
   * @param formatVersion version of this document's layout (currently 1)
   * @param file the binlog's file name
   * @param sequence its numeric sequence
   * @param serverId the archive's server id
   * @param timeline the archive timeline
   * @param size plaintext size in bytes
   * @param sha256 SHA-256 of the plaintext (hex)
   * @param artifact the stored object
   * @param binlog what the scanner found in the file
   * @param archivedAt when the sidecar was written
   * @param archiver the library version that wrote it
   */
  public Sidecar(int formatVersion, String file, long sequence, String serverId, String timeline, long size,
      String sha256, Artifact artifact, BinlogInfo binlog, Instant archivedAt, String archiver) {
    this(formatVersion, file, sequence, serverId, timeline, size, sha256, artifact, binlog, archivedAt, archiver, null);
  }

  /**
   * The byte range of an open binlog that a segment holds, ending on a transaction boundary.
   *
   * @param start offset of the range's first byte in the binlog (0 for the first segment)
   * @param end offset just past its last byte
   * @param gtids the GTIDs of the transactions in the range, in {@link GtidSet} form ({@code ""}
   *     if none)
   * @param firstCommitTime commit time of the range's first transaction, or {@code null}
   * @param lastCommitTime commit time of its last transaction, or {@code null}
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Segment(
      @JsonProperty("start") long start,
      @JsonProperty("end") long end,
      @JsonProperty("gtids") String gtids,
      @JsonProperty("first_commit_time") Instant firstCommitTime,
      @JsonProperty("last_commit_time") Instant lastCommitTime) {}

  /**
   * The stored artifact.
   *
   * @param key object key in the sink
   * @param size artifact size in bytes
   * @param sha256 SHA-256 of the artifact bytes (hex)
   * @param codec compression codec ({@code zstd}, {@code gzip}, {@code none})
   * @param codecLevel compression level, if any
   * @param cipher cipher suite, or null when not encrypted
   * @param keyId id of the key that wraps the data key, or null
   * @param transforms every transform applied, outermost last, with its settings
   * @param storeChecksums checksums the store reported at commit
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Artifact(
      @JsonProperty("key") String key,
      @JsonProperty("size") long size,
      @JsonProperty("sha256") String sha256,
      @JsonProperty("codec") String codec,
      @JsonProperty("codec_level") Integer codecLevel,
      @JsonProperty("cipher") String cipher,
      @JsonProperty("key_id") String keyId,
      @JsonProperty("transforms") List<Map<String, Object>> transforms,
      @JsonProperty("store_checksums") Map<String, String> storeChecksums) {}

  /** @return the sidecar as JSON bytes */
  public byte[] toJson() {
    try {
      return RecordJson.write(this);
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot serialise sidecar of " + file, e);
    }
  }

  /**
   * @param json the document
   * @param where the object key, for error messages
   * @return the sidecar
   * @throws IntegrityException if the document is not a valid sidecar
   */
  public static Sidecar parse(byte[] json, String where) {
    Sidecar s;
    try {
      s = RecordJson.readSidecar(json);
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage());
      int nl = m.indexOf('\n');
      throw new IntegrityException("sidecar " + where + " is not valid JSON: " + (nl < 0 ? m : m.substring(0, nl)), e);
    }
    if (s == null || s.file() == null || s.sha256() == null || s.artifact() == null || s.artifact().key() == null) {
      throw new IntegrityException("sidecar " + where + " lacks required fields (file, sha256, artifact.key)");
    }
    if (s.segment() != null && (s.segment().start() < 0 || s.segment().end() <= s.segment().start()
        || s.size() != s.segment().end() - s.segment().start())) {
      throw new IntegrityException("sidecar " + where + " describes segment [" + s.segment().start() + ", "
          + s.segment().end() + ") of " + s.file() + " with size " + s.size() + ": not a valid byte range");
    }
    if (s.formatVersion() < 1 || s.formatVersion() > FORMAT_VERSION) {
      throw new IntegrityException(
          "sidecar " + where + " has format_version " + s.formatVersion() + "; this library reads up to " + FORMAT_VERSION);
    }
    return s;
  }
}
