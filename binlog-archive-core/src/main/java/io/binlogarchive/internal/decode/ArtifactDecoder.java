package io.binlogarchive.internal.decode;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.Sidecar;
import io.binlogarchive.codec.CodecEnvelope;
import io.binlogarchive.codec.CodecRegistry;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.internal.CountingInputStream;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.store.Sink;
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
public final class ArtifactDecoder {
  public static final int BUFFER = 1 << 20;
  /** The built-in cipher's id: without a key provider, the reader says to give it one. */
  private static final String AES_ID = "aes-256-gcm";

  private ArtifactDecoder() {}

  /** What one decode read. */
  public record Result(long artifactBytes, long plaintextBytes) {}

  /** Receives plaintext chunks in order, on the decode's worker thread. */
  public interface Consumer {
    /** @param chunk the bytes from its position to its limit; read-only to the consumer, valid during the call */
    void accept(ByteBuffer chunk) throws IOException;
  }

  /**
   * The transforms that wrote the artifact, innermost (compression) first, found by the ids its
   * sidecar records: the codec in {@code codecs}, the cipher as {@code decryption} (the reader's
   * key provider) or, for an embedder's own outer transform, in {@code codecs}. A reader holding a
   * key ({@code decryption} not null) refuses an artifact its sidecar says is unencrypted unless
   * {@code allowUnencrypted}: otherwise whoever can write to the store could swap an encrypted file
   * and its sidecar for an unencrypted pair of a modified binlog. An outer transform that is a
   * {@link CodecEnvelope} checks the artifact's framing against {@code keyId} (and the sidecar's
   * codec) before any key is unwrapped.
   *
   * @param keyId the key id the artifact's header must name (the sidecar's, or the new one after a rewrap)
   * @param decryption the transform that decrypts the sidecar's cipher, or null if none is configured
   * @param allowUnencrypted accept unencrypted artifacts although {@code decryption} is set
   * @param codecs the codecs the reader knows
   * @throws IntegrityException for an unencrypted artifact that is not allowed
   * @throws ArchiveException for a codec or cipher the reader does not know, or a missing key provider
   */
  public static List<Transform> transforms(Sidecar s, String keyId, Transform decryption, boolean allowUnencrypted,
      CodecRegistry codecs) {
    List<Transform> t = new ArrayList<>();
    String codec = codec(s);
    t.add(codecs.find(codec).orElseThrow(() -> new ArchiveException("artifact " + s.artifact().key() + " of "
        + s.file() + " was written with codec '" + codec + "', which this reader does not know (it knows "
        + String.join(", ", codecs.ids()) + "); add the codec to the reader: ArchiveReader.Builder.codec(...) with"
        + " the Transform the archive was written with, or CodecRegistry.builtIns().withServiceLoader() with the"
        + " codec's jar on the class path")));
    String cipher = s.artifact().cipher();
    if (cipher == null) {
      if (decryption != null && !allowUnencrypted) {
        throw unencrypted(s);
      }
      return t;
    }
    Transform outer = decryption != null && decryption.id().equals(cipher) ? decryption
        : codecs.find(cipher).orElse(null);
    if (outer == null && decryption == null && AES_ID.equals(cipher)) {
      throw new ArchiveException("artifact " + s.artifact().key() + " is encrypted (" + cipher + ", key id "
          + s.artifact().keyId() + "); give the reader a KeyProvider that holds that key");
    }
    if (outer == null) {
      throw new ArchiveException("artifact " + s.artifact().key() + " of " + s.file() + " is encrypted with " + cipher
          + ", which this reader cannot decrypt (it reads " + (decryption == null ? "no cipher" : decryption.id())
          + "); add the transform that wrote it to the reader: ArchiveReader.Builder.codec(...)");
    }
    t.add(outer instanceof CodecEnvelope env ? env.expecting(s.artifact().key(), keyId, codec) : outer);
    return t;
  }

  /** The refusal of an unencrypted artifact by a reader that holds a key. */
  public static IntegrityException unencrypted(Sidecar s) {
    return new IntegrityException("artifact " + s.artifact().key() + " of " + s.file() + " is not encrypted, but"
        + " this reader holds a key and accepts only encrypted artifacts: the archive may have been tampered"
        + " with; if it really was written partly without encryption, allow that explicitly"
        + " (ArchiveReader.Builder.allowUnencrypted, --allow-unencrypted)");
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
   * {@link #decode(Sink, Sidecar, Transform, CodecRegistry, boolean, Consumer, boolean)} with the
   * built-in codecs, refusing unencrypted artifacts.
   */
  public static Result decode(Sink sink, Sidecar s, Transform decryption, Consumer out, boolean hashArtifact)
      throws IOException {
    return decode(sink, s, decryption, CodecRegistry.builtIns(), false, out, hashArtifact);
  }

  /**
   * Decodes the artifact of {@code s} through {@link #read}, hands every plaintext chunk to {@code
   * out} (may be null), and proves sizes and SHA-256s match the sidecar.
   *
   * @param codecs the codecs the reader knows, by id
   * @param allowUnencrypted accept an unencrypted artifact although {@code decryption} is set
   * @param hashArtifact also hash the stored bytes and compare with the sidecar's artifact SHA-256
   *     (verification does; a fetch relies on the plaintext SHA-256, which proves what it writes)
   * @throws IntegrityException if the artifact does not decode, decodes to more than the sidecar's
   *     size, does not match its sidecar, or is unencrypted and not allowed
   * @throws NotFoundException if the artifact does not exist
   * @throws IOException if the store cannot be read
   */
  public static Result decode(Sink sink, Sidecar s, Transform decryption, CodecRegistry codecs,
      boolean allowUnencrypted, Consumer out, boolean hashArtifact) throws IOException {
    List<Transform> transforms = transforms(s, s.artifact().keyId(), decryption, allowUnencrypted, codecs);
    String key = s.artifact().key();
    Decoded d = read(sink, key, s.file(), transforms, s.size(), out, hashArtifact);
    if (d.artifactBytes() != s.artifact().size() || (d.artifactSha256() != null && s.artifact().sha256() != null
        && !d.artifactSha256().equalsIgnoreCase(s.artifact().sha256()))) {
      throw new IntegrityException("artifact " + key + " holds " + d.artifactBytes() + " bytes"
          + (d.artifactSha256() == null ? "" : " with SHA-256 " + d.artifactSha256()) + "; its sidecar says "
          + s.artifact().size() + " bytes with SHA-256 " + s.artifact().sha256());
    }
    if (d.plaintextBytes() != s.size() || !d.plaintextSha256().equalsIgnoreCase(s.sha256())) {
      throw new IntegrityException("artifact " + key + " decodes to " + d.plaintextBytes() + " bytes with SHA-256 "
          + d.plaintextSha256() + ", not the " + s.size() + " bytes with SHA-256 " + s.sha256()
          + " its sidecar records for " + s.file());
    }
    return new Result(d.artifactBytes(), d.plaintextBytes());
  }

  /**
   * What {@link #read} found.
   *
   * @param artifactSha256 hex, or null when the stored bytes were not hashed
   * @param plaintextSha256 hex
   */
  public record Decoded(long artifactBytes, String artifactSha256, long plaintextBytes, String plaintextSha256) {}

  /**
   * The one decode of the read side (fetch, full verify, read-back, rewrap): downloads {@code key},
   * decrypts and decompresses it, hands the plaintext to {@code out} (may be null) and hashes it.
   * Decoding stops at {@code declaredSize + 1} bytes of plaintext: an artifact that inflates beyond
   * the size its sidecar (or the local binlog) declares fails with an {@link IntegrityException}
   * naming the object and {@code file}, and {@code out} never receives more than {@code
   * declaredSize} bytes, so a small decompression bomb cannot fill a disk.
   *
   * @param file the binlog's name, for errors
   * @param transforms innermost (compression) first
   * @param declaredSize the binlog's size as declared; no more is decoded
   * @throws IntegrityException if the artifact does not decode, or decodes to more than {@code declaredSize}
   * @throws NotFoundException if the artifact does not exist
   * @throws IOException if the store cannot be read, or {@code out} failed
   */
  public static Decoded read(Sink sink, String key, String file, List<Transform> transforms, long declaredSize,
      Consumer out, boolean hashArtifact) throws IOException {
    if (declaredSize < 0) {
      throw new IntegrityException("artifact " + key + " of " + file + ": its sidecar declares a negative size ("
          + declaredSize + " bytes)");
    }
    MessageDigest artifactDigest = hashArtifact ? Digests.sha256() : null;
    long plain = 0;
    byte[] plainSha;
    CountingInputStream counted;
    StoreStream raw = new StoreStream(sink.open(key));
    try (raw; PlaintextWorker worker = new PlaintextWorker(4, BUFFER, "binlog-archive-decode-" + file, out)) {
      counted = new CountingInputStream(hashArtifact ? new DigestInputStream(raw, artifactDigest) : raw);
      InputStream in = counted;
      for (int i = transforms.size() - 1; i >= 1; i--) {
        in = transforms.get(i).unwrap(in);
      }
      try (PlaintextChunks chunks = PlaintextChunks.of(in, transforms.get(0), BUFFER,
          "binlog-archive-read-" + file)) {
        while (true) {
          ByteBuffer buf = worker.take();
          long room = declaredSize - plain + 1; // one byte more than declared proves a lie, and is never handed on
          if (room < buf.remaining()) {
            buf.limit((int) room);
          }
          int n = chunks.fill(buf);
          if (n <= 0) {
            worker.release(buf);
            break;
          }
          if (plain + n > declaredSize) {
            worker.release(buf);
            throw new Oversized("artifact " + key + " of " + file + " decodes to more than the "
                + declaredSize + " bytes declared for " + file + "; decoding stopped there and nothing beyond"
                + " them was kept (a decompression bomb, or a sidecar that does not belong to this artifact)");
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
      throw new IntegrityException("artifact " + key + " of " + file + " does not decode: " + e.getMessage(), e);
    } catch (IntegrityException e) {
      // the decryption's own (a failed tag names the segment and key id, not the object)
      if (e.getMessage() != null && e.getMessage().contains(key)) {
        throw e;
      }
      throw new IntegrityException("artifact " + key + " of " + file + " does not decrypt: " + e.getMessage(), e);
    }
    return new Decoded(counted.count(), hashArtifact ? Digests.hex(artifactDigest.digest()) : null, plain,
        Digests.hex(plainSha));
  }

  /** An artifact decodes to more bytes than declared; decoding stopped one byte past the declared size. */
  public static final class Oversized extends IntegrityException {
    private static final long serialVersionUID = 1L;

    Oversized(String message) {
      super(message);
    }
  }

  /** A consumer that can say its own write failed (a full disk is not a corrupt artifact). */
  public interface FailureAware extends Consumer {
    boolean failed();
  }
}
