package io.binlogarchive;

import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.internal.Json;
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
    @JsonProperty("archiver") String archiver) {

  /** The sidecar layout this library writes. */
  public static final int FORMAT_VERSION = 1;

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
      return Json.MAPPER.writeValueAsBytes(this);
    } catch (IOException e) {
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
      s = Json.MAPPER.readValue(json, Sidecar.class);
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage());
      int nl = m.indexOf('\n');
      throw new IntegrityException("sidecar " + where + " is not valid JSON: " + (nl < 0 ? m : m.substring(0, nl)), e);
    }
    if (s == null || s.file() == null || s.sha256() == null || s.artifact() == null || s.artifact().key() == null) {
      throw new IntegrityException("sidecar " + where + " lacks required fields (file, sha256, artifact.key)");
    }
    if (s.formatVersion() < 1 || s.formatVersion() > FORMAT_VERSION) {
      throw new IntegrityException(
          "sidecar " + where + " has format_version " + s.formatVersion() + "; this library reads up to " + FORMAT_VERSION);
    }
    return s;
  }
}
