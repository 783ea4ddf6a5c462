package io.binlogarchive;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Downloads one artifact and decodes it in one stream (decrypt, decompress) while hashing both the
 * stored bytes and the plaintext, then checks both against the sidecar. Memory: one buffer plus the
 * codecs' own state, whatever the file's size.
 */
final class ArtifactDecoder {
  static final int BUFFER = 1 << 20;

  private ArtifactDecoder() {}

  /** What one decode read. */
  record Result(long artifactBytes, long plaintextBytes) {}

  /** Receives plaintext chunks in order, on the decode's worker thread. */
  interface Consumer {
    /** @param chunk the bytes from its position to its limit; read-only to the consumer, valid during the call */
    void accept(ByteBuffer chunk) throws IOException;
  }

  /**
   * The transforms that wrote the artifact, innermost (compression) first.
   *
   * @param decryption the transform that decrypts the sidecar's cipher, or null if none is configured
   */
  static List<Transform> transforms(Sidecar s, Transform decryption) {
    List<Transform> t = new ArrayList<>();
    String codec = codec(s);
    t.add(switch (codec) {
      case "zstd" -> Transform.zstd(3);
      case "gzip" -> Transform.gzip(6);
      case "none" -> Transform.none();
      default -> throw new ArchiveException("artifact " + s.artifact().key() + " uses codec '" + codec
          + "', which this library cannot decode");
    });
    String cipher = s.artifact().cipher();
    if (cipher != null) {
      if (decryption == null) {
        throw new ArchiveException("artifact " + s.artifact().key() + " is encrypted (" + cipher + ", key id "
            + s.artifact().keyId() + "); give the reader a KeyProvider that holds that key");
      }
      if (!decryption.id().equals(cipher)) {
        throw new ArchiveException("artifact " + s.artifact().key() + " is encrypted with " + cipher
            + ", which this library cannot decrypt (it reads " + decryption.id() + ")");
      }
      t.add(decryption);
    }
    return t;
  }

  private static String codec(Sidecar s) {
    return s.artifact().codec() == null ? "none" : s.artifact().codec();
  }

  /** Marks errors of the store's own stream, so they are not mistaken for corrupt data. */
  private static final class StoreStream extends FilterInputStream {
    IOException failure;

    StoreStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        failure = e;
        throw e;
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return in.read(b, off, len);
      } catch (IOException e) {
        failure = e;
        throw e;
      }
    }
  }

  /**
   * Decodes the artifact of {@code s}, hands every plaintext chunk to {@code out} (may be null),
   * and proves sizes and SHA-256s match the sidecar.
   *
   * @throws IntegrityException if the artifact does not decode or does not match its sidecar
   * @throws NotFoundException if the artifact does not exist
   * @throws IOException if the store cannot be read
   */
  static Result decode(Sink sink, Sidecar s, Transform decryption, Consumer out) throws IOException {
    return decode(sink, s, decryption, out, true);
  }

  /**
   * @param hashArtifact also hash the stored bytes and compare with the sidecar's artifact SHA-256
   *     (verification does; a fetch relies on the plaintext SHA-256, which proves what it writes)
   */
  static Result decode(Sink sink, Sidecar s, Transform decryption, Consumer out, boolean hashArtifact)
      throws IOException {
    List<Transform> transforms = transforms(s, decryption);
    String key = s.artifact().key();
    MessageDigest artifactDigest = hashArtifact ? Digests.sha256() : null;
    long plain = 0;
    byte[] plainSha;
    CountingInputStream counted;
    StoreStream raw = new StoreStream(sink.open(key));
    try (raw; PlaintextWorker worker = new PlaintextWorker(4, BUFFER, "binlog-archive-decode-" + s.file(), out)) {
      counted = new CountingInputStream(hashArtifact ? new DigestInputStream(raw, artifactDigest) : raw);
      InputStream in = counted;
      for (int i = transforms.size() - 1; i >= 1; i--) {
        in = transforms.get(i).unwrap(in);
      }
      try (PlaintextChunks chunks = PlaintextChunks.of(in, codec(s), transforms.get(0), BUFFER, "binlog-archive-read-" + s.file())) {
        while (true) {
          ByteBuffer buf = worker.take();
          int n = chunks.fill(buf);
          if (n <= 0) {
            worker.release(buf);
            break;
          }
          worker.submit(buf.flip()); // written and hashed there while this thread decodes the next chunk
          plain += n;
        }
        byte[] rest = new byte[1 << 16];
        while (counted.read(rest) > 0) {
          // trailing bytes after the codec's end of frame are hashed and counted too
        }
      }
      plainSha = worker.finish();
    } catch (IOException e) {
      if (raw.failure != null) {
        throw e;
      }
      if (out instanceof FailureAware f && f.failed()) {
        throw e;
      }
      throw new IntegrityException("artifact " + key + " of " + s.file() + " does not decode: " + e.getMessage(), e);
    } catch (IntegrityException e) {
      // the decryption's own (a failed tag names the segment and key id, not the object)
      if (e.getMessage() != null && e.getMessage().contains(key)) {
        throw e;
      }
      throw new IntegrityException("artifact " + key + " of " + s.file() + " does not decrypt: " + e.getMessage(), e);
    }
    long artifactBytes = counted.count();
    String artifactSha = hashArtifact ? Digests.hex(artifactDigest.digest()) : null;
    if (artifactBytes != s.artifact().size()
        || (artifactSha != null && s.artifact().sha256() != null && !artifactSha.equalsIgnoreCase(s.artifact().sha256()))) {
      throw new IntegrityException("artifact " + key + " holds " + artifactBytes + " bytes"
          + (artifactSha == null ? "" : " with SHA-256 " + artifactSha) + "; its sidecar says " + s.artifact().size()
          + " bytes with SHA-256 " + s.artifact().sha256());
    }
    String plainHex = Digests.hex(plainSha);
    if (plain != s.size() || !plainHex.equalsIgnoreCase(s.sha256())) {
      throw new IntegrityException("artifact " + key + " decodes to " + plain + " bytes with SHA-256 " + plainHex
          + ", not the " + s.size() + " bytes with SHA-256 " + s.sha256() + " its sidecar records for " + s.file());
    }
    return new Result(artifactBytes, plain);
  }

  /** A consumer that can say its own write failed (a full disk is not a corrupt artifact). */
  interface FailureAware extends Consumer {
    boolean failed();
  }
}
