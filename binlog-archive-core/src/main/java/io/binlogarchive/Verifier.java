package io.binlogarchive;

import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.decode.ReadBack;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * Decides when an upload is proven, before its sidecar is written and the cursor moves. A failed
 * proof throws {@link IntegrityException}; the archive of that file fails and nothing is committed.
 */
public interface Verifier {

  /**
   * What was uploaded, as the pipeline computed it while streaming.
   *
   * @param sink where it went
   * @param key the artifact's key
   * @param stored what the store reported at commit
   * @param artifactSize bytes written to the store
   * @param artifactSha256 SHA-256 of those bytes (hex)
   * @param plaintextSize bytes of the binlog
   * @param plaintextSha256 SHA-256 of the binlog (hex)
   * @param transforms the transforms applied, innermost (compression) first
   */
  record Upload(
      Sink sink,
      String key,
      StoredObject stored,
      long artifactSize,
      String artifactSha256,
      long plaintextSize,
      String plaintextSha256,
      List<Transform> transforms) {
    /**
     * Validates the fields.
     *
     * @param sink where it went; not null
     * @param key the artifact's key; not null
     * @param stored what the store reported at commit; not null
     * @param artifactSize bytes written to the store
     * @param artifactSha256 SHA-256 of those bytes (hex)
     * @param plaintextSize bytes of the binlog
     * @param plaintextSha256 SHA-256 of the binlog (hex)
     * @param transforms the transforms applied, innermost (compression) first
     */
    public Upload {
      Objects.requireNonNull(sink, "sink");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(stored, "stored");
      transforms = List.copyOf(transforms);
    }
  }

  /**
   * @param upload what was uploaded
   * @throws IntegrityException if the store does not hold exactly what was written
   * @throws IOException if the store cannot be asked
   */
  void verify(Upload upload) throws IOException;

  /**
   * Compares the size and every checksum the store reported at commit that the pipeline also
   * computed (SHA-256). The sinks themselves compare their own checksums (MD5, CRC32C, per-part
   * SHA-256) inside {@link SinkWriter#commit()}.
   *
   * @return the verifier
   */
  static Verifier storeChecksums() {
    return upload -> {
      StoredObject s = upload.stored();
      if (s.size() != upload.artifactSize()) {
        throw new IntegrityException(
            "store holds " + s.size() + " bytes for " + upload.key() + " but " + upload.artifactSize() + " were written");
      }
      String sha = s.checksums().get("sha256");
      if (sha != null && !sha.equalsIgnoreCase(upload.artifactSha256())) {
        throw new IntegrityException(
            "store reports SHA-256 " + sha + " for " + upload.key() + " but " + upload.artifactSha256() + " was written");
      }
    };
  }

  /**
   * {@link #storeChecksums()}, then downloads the artifact, hashes it, decodes it (decrypts and
   * decompresses) and compares the plaintext's size and SHA-256 with the local file's. Doubles the
   * traffic; proves the artifact restores. Decoding stops one byte past the local file's size, so
   * an artifact that inflates beyond it fails at once with an {@link IntegrityException}.
   *
   * @return the verifier
   */
  static Verifier readBack() {
    return upload -> {
      storeChecksums().verify(upload);
      ReadBack r = ReadBack.of(upload.sink(), upload.key(), binlogName(upload.key(), upload.transforms()),
          upload.transforms(), upload.plaintextSize());
      if (!r.artifactSha256().equals(upload.artifactSha256()) || r.artifactSize() != upload.artifactSize()) {
        throw new IntegrityException(
            "read-back of " + upload.key() + " gave " + r.artifactSize() + " bytes with SHA-256 " + r.artifactSha256()
                + "; " + upload.artifactSize() + " bytes with SHA-256 " + upload.artifactSha256() + " were written");
      }
      if (!r.plaintextSha256().equals(upload.plaintextSha256()) || r.plaintextSize() != upload.plaintextSize()) {
        throw new IntegrityException(
            "read-back of " + upload.key() + " decodes to " + r.plaintextSize() + " bytes with SHA-256 "
                + r.plaintextSha256() + ", not the binlog's " + upload.plaintextSize() + " bytes with SHA-256 "
                + upload.plaintextSha256());
      }
    };
  }

  /** @return the binlog's name from an artifact key: its last segment without the transforms' extensions */
  private static String binlogName(String key, List<Transform> transforms) {
    String name = key.substring(key.lastIndexOf('/') + 1);
    for (int i = transforms.size() - 1; i >= 0; i--) {
      String ext = transforms.get(i).extension();
      if (!ext.isEmpty() && name.endsWith(ext)) {
        name = name.substring(0, name.length() - ext.length());
      }
    }
    return name;
  }
}
