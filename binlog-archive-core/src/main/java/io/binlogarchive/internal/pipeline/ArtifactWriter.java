package io.binlogarchive.internal.pipeline;

import io.binlogarchive.internal.decode.ReadBack;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.Archiver;
import io.binlogarchive.ChainBreakException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.Verifier;
import io.binlogarchive.codec.StreamFacts;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.internal.decode.ArtifactDecoder;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write path every archived object takes, a whole binlog or a segment of an open one: the
 * plaintext's SHA-256, the transform chain (compress, encrypt), the upload, the adoption of an
 * object an interrupted run stored without its sidecar, the {@link Verifier}'s proof, the
 * sidecar's description of the artifact, and the sidecar's write. One instance per archiver.
 */
public final class ArtifactWriter {
  private static final Logger LOG = LoggerFactory.getLogger(Archiver.class);

  /** Writes the plaintext into the chain; the writer hashes and counts it. */
  @FunctionalInterface
  public interface Body {
    void writeTo(OutputStream plaintext) throws IOException;
  }

  /**
   * What an upload stored.
   *
   * @param stored what the store reported, or null when the upload was aborted (shadow mode)
   */
  public record Written(String key, long plainSize, String plainSha, long artifactSize, String artifactSha,
      StoredObject stored, List<Map<String, Object>> facts) {}

  private final Sink sink;
  private final List<Transform> transforms;
  private final Verifier verifier;
  private final TokenBucket bandwidth;
  private final RetryPolicy retryPolicy;
  private final RetryPolicy.Observer retrying;

  /** @param settings the archiver's sink, transforms, verifier, bandwidth limit and retry policy */
  public ArtifactWriter(PipelineSettings settings) {
    this.sink = settings.sink();
    this.transforms = settings.transforms();
    this.verifier = settings.verifier();
    this.bandwidth = settings.bandwidth();
    this.retryPolicy = settings.retryPolicy();
    this.retrying = settings::retrying;
  }

  /** @return the artifact key suffix of the chain, e.g. {@code .zst.aes} */
  public String extension() {
    StringBuilder sb = new StringBuilder();
    for (Transform t : transforms) {
      sb.append(t.extension());
    }
    return sb.toString();
  }

  /**
   * Uploads one artifact (once: the caller retries) and proves it. An object already under {@code
   * key} is kept if it decodes to exactly this plaintext (an earlier run stored it and stopped
   * before its sidecar); otherwise {@code onConflict} decides: it may delete the object and return
   * {@code true} to upload again (a segment nobody references), or throw.
   *
   * @param file the binlog the plaintext comes from (in messages and thread names)
   * @param commit {@code false} for shadow mode: the whole pipeline runs, the upload is aborted
   * @param local names the plaintext's origin in error messages (e.g. the local file's path)
   */
  public Written upload(String key, String file, Map<String, String> meta, Body body, boolean commit, String local,
      ConflictHandler onConflict) throws IOException {
    while (true) {
      try (SinkWriter writer = sink.create(key, meta)) {
        HashingOutputStream artifactOut =
            new HashingOutputStream(ThrottledOutputStream.wrap(writer, bandwidth));
        OutputStream chain = artifactOut;
        List<Map<String, Object>> facts = new ArrayList<>();
        for (int i = transforms.size() - 1; i >= 0; i--) {
          chain = transforms.get(i).wrap(chain);
          facts.add(0, chain instanceof StreamFacts sf ? sf.facts() : Map.of());
        }
        HashingOutputStream plain = new HashingOutputStream(chain, true);
        try (plain) {
          body.writeTo(plain);
        }
        String plainSha = plain.sha256Hex();
        String artifactSha = artifactOut.sha256Hex();
        long artifactSize = artifactOut.count();
        if (!commit) {
          writer.abort();
          return new Written(key, plain.count(), plainSha, artifactSize, artifactSha, null, facts);
        }
        StoredObject stored;
        try {
          stored = writer.commit();
        } catch (ObjectExistsException e) {
          Optional<ReadBack> rb = adoptExisting(key, file, plain.count(), plainSha, local, onConflict);
          if (rb.isEmpty()) {
            continue; // the conflicting object was removed: upload again
          }
          artifactSha = rb.get().artifactSha256();
          artifactSize = rb.get().artifactSize();
          stored = sink.stat(key).orElseThrow(() -> new IOException("object " + key + " vanished"));
        }
        verifier.verify(new Verifier.Upload(sink, key, stored, artifactSize, artifactSha, plain.count(), plainSha,
            transforms));
        return new Written(key, plain.count(), plainSha, artifactSize, artifactSha, stored, facts);
      }
    }
  }

  /** Decides what happens to an object under the key that holds other content and has no sidecar. */
  @FunctionalInterface
  public interface ConflictHandler {
    /**
     * @param key the object
     * @param why what differs (or why it cannot be read)
     * @return {@code true} if the handler removed the object, so the upload may be tried again
     * @throws ArchiveException to refuse
     */
    boolean conflict(String key, String why, Throwable cause) throws IOException;
  }

  /** Refuses: the object is left untouched and the run stops with a chain break. */
  public static final ConflictHandler REFUSE = (key, why, cause) -> {
    throw new ChainBreakException("artifact " + key + " exists without a sidecar and " + why + "; it was left untouched."
        + " Inspect it, and delete it to archive the file again.", cause);
  };

  private Optional<ReadBack> adoptExisting(String key, String file, long plainSize, String plainSha,
      String local, ConflictHandler onConflict) throws IOException {
    // An earlier run stored the artifact but stopped before its sidecar: keep it if it decodes to
    // exactly this plaintext (decoding stops one byte past it); otherwise the caller's policy decides.
    ReadBack rb;
    try {
      rb = ReadBack.of(sink, key, file, transforms, plainSize);
    } catch (ArtifactDecoder.Oversized e) {
      return onConflict.conflict(key, "holds different content (more than " + plainSize + " bytes) than " + local
          + " (" + plainSize + " bytes, SHA-256 " + plainSha + ")", e) ? Optional.empty() : fail(key);
    } catch (IOException | ArchiveException e) {
      return onConflict.conflict(key, "cannot be read back as " + local + " (" + e.getMessage() + ")", e)
          ? Optional.empty() : fail(key);
    }
    if (rb.plaintextSize() != plainSize || !rb.plaintextSha256().equals(plainSha)) {
      return onConflict.conflict(key, "holds different content (" + rb.plaintextSize() + " bytes, SHA-256 "
          + rb.plaintextSha256() + ") than " + local + " (" + plainSize + " bytes, SHA-256 " + plainSha + ")", null)
          ? Optional.empty() : fail(key);
    }
    LOG.atInfo()
        .addKeyValue("checksum_status", "adopted")
        .log("{} was stored by an earlier run that stopped before its sidecar; read back and kept", key);
    return Optional.of(rb);
  }

  private static <T> T fail(String key) {
    throw new ChainBreakException("artifact " + key + " exists without a sidecar and holds other content");
  }

  /** The sidecar's description of a written artifact: codec, cipher, key id, every transform. */
  public Sidecar.Artifact describe(Written w) {
    Transform codec = transforms.get(0);
    Transform cipher = transforms.size() > 1 ? transforms.get(transforms.size() - 1) : null;
    List<Map<String, Object>> described = new ArrayList<>();
    for (int i = 0; i < transforms.size(); i++) {
      Transform t = transforms.get(i);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", t.id());
      m.putAll(t.describe());
      m.putAll(w.facts().get(i)); // what this artifact's stream actually used (e.g. the wrapping key's id)
      described.add(m);
    }
    Object level = codec.describe().get("level");
    Object keyId = cipher == null ? null : described.get(described.size() - 1).get("key_id");
    return new Sidecar.Artifact(w.key(), w.artifactSize(), w.artifactSha(), codec.id(),
        level instanceof Integer i ? i : null, cipher == null ? null : cipher.id(),
        keyId == null ? null : keyId.toString(), described, w.stored().checksums());
  }

  /**
   * Writes a sidecar (retried on its own, so a failure here never uploads the artifact again). A
   * sidecar already under the key is accepted if it describes the same plaintext.
   *
   * @param reread reads the sidecar now under the key, if any
   */
  public void writeSidecar(String key, Sidecar sidecar, SidecarReader reread) throws IOException {
    byte[] json = sidecar.toJson();
    retryPolicy.call(
        "write sidecar " + key,
        () -> {
          try (SinkWriter w = sink.create(key, Map.of("binlog-file", sidecar.file()))) {
            w.write(json);
            w.commit();
          } catch (ObjectExistsException e) {
            Optional<Sidecar> other = reread.read(key);
            if (other.isEmpty() || !other.get().sha256().equals(sidecar.sha256()) || other.get().size() != sidecar.size()) {
              throw new ChainBreakException(
                  "sidecar " + key + " appeared while archiving and describes different content; nothing overwritten");
            }
          }
          return null;
        },
        retrying);
  }

  /** Reads the sidecar under a key, if there is one. */
  @FunctionalInterface
  public interface SidecarReader {
    Optional<Sidecar> read(String key) throws IOException;
  }

  /**
   * Hashes and counts bytes on their way downstream. The artifact's tap leaves the sink writer open
   * on close (only commit or abort ends it); the plaintext's tap closes the transform chain.
   */
  public static final class HashingOutputStream extends FilterOutputStream {
    private final MessageDigest digest = Digests.sha256();
    private final boolean closeDownstream;
    private long count;

    /** A tap that only flushes {@code out} when closed. */
    public HashingOutputStream(OutputStream out) {
      this(out, false);
    }

    public HashingOutputStream(OutputStream out, boolean closeDownstream) {
      super(out);
      this.closeDownstream = closeDownstream;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      digest.update((byte) b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      digest.update(b, off, len);
      count += len;
    }

    @Override
    public void close() throws IOException {
      if (closeDownstream) {
        super.close();
      } else {
        out.flush();
      }
    }

    public String sha256Hex() {
      return Digests.hex(digest.digest());
    }

    public long count() {
      return count;
    }
  }
}
