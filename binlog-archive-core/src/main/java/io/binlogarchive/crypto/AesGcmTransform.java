package io.binlogarchive.crypto;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.codec.CodecEnvelope;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.CryptoAccess;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client-side encryption: a segmented streaming AEAD (AES-256-GCM, per-artifact key derived with
 * HKDF-SHA256) behind an authenticated header; the format is specified in {@code
 * docs/encryption-format.md}. After its own header, an artifact is byte for byte a stream of
 * Tink's {@code AesGcmHkdfStreaming} (32-byte key, HKDF-SHA256) whose associated data is the
 * header's stable fields.
 *
 * <p>Every {@link #wrap(OutputStream)} asks the {@link KeyProvider} for a fresh data key and
 * stores only its wrapped form and key id in the header; {@link #unwrap(InputStream)} needs only
 * a provider that can unwrap that key id. Memory is two segment buffers per stream, whatever the
 * artifact's size. Compress first, then encrypt: {@code compressor.wrap(encryption.wrap(sink))}.
 *
 * <p>Errors: every authentication failure (a flipped bit anywhere, truncation, reordered or
 * duplicated segments, a header from another artifact, a wrong key) is an {@link
 * IntegrityException}, thrown unchanged from {@code unwrap} and from the returned stream's {@code
 * read}; a key id the provider does not know is the provider's {@link NotFoundException}; failures
 * of the underlying streams stay {@link IOException}. No message contains key material.
 *
 * <p>Instances are immutable and thread-safe; {@link #segmentSize(int)} and {@link
 * #innerCodec(String)} return modified copies.
 */
public final class AesGcmTransform implements Transform, CodecEnvelope {
  private static final Logger LOG = LoggerFactory.getLogger(AesGcmTransform.class);

  /** Default ciphertext segment size: 1 MiB (each holds 1 MiB - 16 bytes of plaintext). */
  public static final int DEFAULT_SEGMENT_SIZE = 1 << 20;

  /** Version of the artifact format this release writes and reads. */
  public static final int FORMAT_VERSION = AesGcmHeader.VERSION;

  private final KeyProvider keys;
  private final int segmentSize;
  private final String innerCodec;
  private final SecureRandom random;
  /** What the reader's sidecar says the header must hold, or null to accept any header. */
  private final Expected expected;

  /**
   * What a sidecar records about an artifact's header: the key id (always checked) and the inner
   * codec (checked when the header names one). {@code object} names the artifact in errors.
   */
  record Expected(String object, String keyId, String codec) {}

  static {
    // the factory behind Transform.aesGcm and the rewrap behind ArchiveMaintenance.rewrap
    CryptoAccess.lend(new CryptoAccess.Lent() {
      @Override
      public AesGcmTransform create(KeyProvider keys) {
        return AesGcmTransform.create(keys);
      }

      @Override
      public String rewrap(InputStream encrypted, OutputStream out, KeyProvider from, KeyProvider to, String object,
          String keyId, String codec) throws IOException {
        return AesGcmTransform.rewrap(encrypted, out, from, to,
            object == null ? null : new Expected(object, keyId, codec));
      }
    });
  }

  AesGcmTransform(KeyProvider keys, int segmentSize, String innerCodec, SecureRandom random) {
    this(keys, segmentSize, innerCodec, random, null);
  }

  private AesGcmTransform(KeyProvider keys, int segmentSize, String innerCodec, SecureRandom random,
      Expected expected) {
    this.expected = expected;
    this.keys = Objects.requireNonNull(keys, "keys");
    AesGcmHeader.checkSegmentSize(segmentSize);
    if (innerCodec != null) {
      AesGcmHeader.checkCodec(innerCodec);
    }
    this.segmentSize = segmentSize;
    this.innerCodec = innerCodec;
    this.random = random;
  }

  /** {@code Transform.aesGcm(keys)}: the default segment size, no inner codec recorded. */
  static AesGcmTransform create(KeyProvider keys) {
    return new AesGcmTransform(keys, DEFAULT_SEGMENT_SIZE, null, new SecureRandom());
  }

  /**
   * @param bytes ciphertext segment size, 64 bytes to 16 MiB; every segment but the last holds
   *     {@code bytes - 16} bytes of plaintext (the first 40 fewer). Decryption buffers one segment.
   * @return a copy of this transform writing segments of that size
   */
  public AesGcmTransform segmentSize(int bytes) {
    return new AesGcmTransform(keys, bytes, innerCodec, random, expected);
  }

  /**
   * Records the id of the codec applied before encryption (e.g. {@code zstd}) in the
   * authenticated header. When set, {@link #unwrap(InputStream)} also rejects artifacts whose
   * header names another codec. Unset, the header records an empty codec id and nothing is
   * checked.
   *
   * @param codecId the inner transform's {@link Transform#id()}: 1 to 64 printable ASCII
   *     characters
   * @return a copy of this transform recording that codec
   */
  public AesGcmTransform innerCodec(String codecId) {
    Objects.requireNonNull(codecId, "codecId");
    if (codecId.isEmpty()) {
      throw new IllegalArgumentException("inner codec id must not be empty");
    }
    return new AesGcmTransform(keys, segmentSize, codecId, random, expected);
  }

  /**
   * A copy whose {@link #unwrap(InputStream)} first checks the header against what the sidecar
   * records, before any key is unwrapped: a mismatch is an {@link IntegrityException} naming the
   * object.
   */
  AesGcmTransform expecting(Expected e) {
    return new AesGcmTransform(keys, segmentSize, innerCodec, random, Objects.requireNonNull(e, "expected"));
  }

  /** {@link #innerCodec(String)}: the header authenticates which codec is inside. */
  @Override
  public AesGcmTransform enclosing(String codecId) {
    return innerCodec(codecId);
  }

  /** {@link #expecting(Expected)}: checks the header's key id and codec against the sidecar. */
  @Override
  public AesGcmTransform expecting(String object, String keyId, String codecId) {
    return expecting(new Expected(object, keyId, codecId));
  }

  /** @return {@code aes-256-gcm} */
  @Override
  public String id() {
    return "aes-256-gcm";
  }

  /** @return {@code .aes}, so an encrypted zstd artifact is named {@code ....zst.aes} */
  @Override
  public String extension() {
    return ".aes";
  }

  /**
   * @return {@code cipher}, {@code format_version}, {@code key_id} (the provider's primary key
   *     id, which new artifacts are written under) and {@code segment_size}; never key material
   */
  @Override
  public Map<String, Object> describe() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("cipher", AesGcmHeader.SUITE_NAME);
    d.put("format_version", FORMAT_VERSION);
    d.put("key_id", keys.primaryKeyId());
    d.put("segment_size", segmentSize);
    return d;
  }

  /**
   * Writes the headers under a fresh data key and returns the encrypting stream. Its {@code
   * close()} seals the last segment, then closes {@code out}; if a write failed before, it only
   * closes {@code out} and never completes the artifact.
   *
   * @param out where the artifact goes; closed with the returned stream, or at once if this fails
   * @return the plaintext side
   * @throws IOException if the headers cannot be written
   */
  @Override
  public OutputStream wrap(OutputStream out) throws IOException {
    Objects.requireNonNull(out, "out");
    try (DataKey dataKey = keys.newDataKey()) {
      AesGcmHeader header =
          new AesGcmHeader(
              segmentSize, innerCodec == null ? "" : innerCodec, dataKey.keyId(),
              dataKey.wrappedKey());
      byte[] streamHeader = new byte[AesGcmSegmentCipher.STREAM_HEADER_LENGTH];
      byte[] salt = new byte[AesGcmSegmentCipher.SALT_LENGTH];
      byte[] prefix = new byte[AesGcmSegmentCipher.NONCE_PREFIX_LENGTH];
      random.nextBytes(salt);
      random.nextBytes(prefix);
      streamHeader[0] = (byte) AesGcmSegmentCipher.STREAM_HEADER_LENGTH;
      System.arraycopy(salt, 0, streamHeader, 1, salt.length);
      System.arraycopy(prefix, 0, streamHeader, 1 + salt.length, prefix.length);
      AesGcmSegmentCipher cipher =
          new AesGcmSegmentCipher(dataKey.plaintext(), salt, prefix, header.associatedData());
      out.write(header.encode());
      out.write(streamHeader);
      return new AesGcmEncryptingStream(out, cipher, segmentSize).withKeyId(dataKey.keyId());
    } catch (IOException | RuntimeException e) {
      closeQuietly(out, e);
      throw e;
    }
  }

  /**
   * Reads and checks the header, unwraps the data key by the key id it names, and returns the
   * decrypting stream.
   *
   * @param in the artifact; closed with the returned stream, or at once if this fails
   * @return the plaintext, released segment by segment after each one authenticates
   * @throws IntegrityException if the header is corrupt, truncated, of an unknown version, names
   *     another inner codec than the one set here, or the data key does not unwrap
   * @throws NotFoundException if the provider has no key with the header's key id
   * @throws IOException if reading fails
   */
  @Override
  public InputStream unwrap(InputStream in) throws IOException {
    Objects.requireNonNull(in, "in");
    try {
      Opened opened = open(in, keys, innerCodec, expected);
      LOG.debug(
          "decrypting artifact under key id '{}', segment size {}",
          opened.header.keyId,
          opened.header.segmentSize);
      return new AesGcmDecryptingStream(
          in, opened.cipher, opened.header.segmentSize, opened.header.keyId);
    } catch (IOException | RuntimeException e) {
      closeQuietly(in, e);
      throw e;
    }
  }

  /**
   * Moves an encrypted artifact to another key without decrypting it to storage: the data key is
   * unwrapped with {@code from}, wrapped again with {@code to} (under its primary key id), and
   * only the header's key envelope changes; the segments are copied byte for byte. While copying,
   * every segment is still authenticated (decrypted in memory and discarded), so a corrupt source
   * fails instead of yielding a rewrapped copy. On failure what was written to {@code out} is
   * incomplete and must be discarded (abort the upload). Neither stream is closed.
   *
   * @param encrypted the artifact as written by {@link #wrap(OutputStream)}
   * @param out receives the rewrapped artifact
   * @param from a provider that can unwrap the artifact's key id
   * @param to the provider whose primary key the artifact moves to
   * @return the key id the rewrapped artifact names (record it in the sidecar)
   * @throws IntegrityException if the artifact is corrupt or tampered with, or its data key does
   *     not unwrap
   * @throws NotFoundException if {@code from} has no key with the artifact's key id
   * @throws IOException if reading or writing fails
   */
  static String rewrap(InputStream encrypted, OutputStream out, KeyProvider from, KeyProvider to)
      throws IOException {
    return rewrap(encrypted, out, from, to, null);
  }

  /** {@link #rewrap(InputStream, OutputStream, KeyProvider, KeyProvider)}, refusing a header that disagrees with its sidecar. */
  static String rewrap(InputStream encrypted, OutputStream out, KeyProvider from, KeyProvider to, Expected expected)
      throws IOException {
    Objects.requireNonNull(encrypted, "encrypted");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    Opened opened;
    String newKeyId;
    AesGcmHeader header = AesGcmHeader.read(encrypted);
    check(header, expected);
    try (DataKey old = from.unwrap(header.keyId, header.wrappedKey)) {
      opened = openWith(encrypted, old, header);
      try (DataKey moved = to.wrap(old.plaintext())) {
        AesGcmHeader rewrapped = opened.header.withEnvelope(moved.keyId(), moved.wrappedKey());
        out.write(rewrapped.encode());
        out.write(opened.streamHeader);
        newKeyId = moved.keyId();
      }
    }
    InputStream tee =
        new FilterInputStream(encrypted) {
          @Override
          public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
              out.write(b);
            }
            return b;
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
              out.write(b, off, n);
            }
            return n;
          }
        };
    InputStream check =
        new AesGcmDecryptingStream(tee, opened.cipher, opened.header.segmentSize, opened.header.keyId);
    byte[] sink = new byte[64 * 1024];
    while (check.read(sink, 0, sink.length) >= 0) {
      // plaintext is discarded
    }
    Arrays.fill(sink, (byte) 0);
    LOG.info("rewrapped encrypted artifact from key id '{}' to key id '{}'", opened.header.keyId, newKeyId);
    return newKeyId;
  }

  private static Opened open(InputStream in, KeyProvider keys, String expectedCodec, Expected expected)
      throws IOException {
    AesGcmHeader header = AesGcmHeader.read(in);
    check(header, expected);
    if (expectedCodec != null && !expectedCodec.equals(header.codec)) {
      throw new IntegrityException(
          "encrypted artifact header names inner codec '" + header.codec + "', expected '"
              + expectedCodec + "'");
    }
    try (DataKey key = keys.unwrap(header.keyId, header.wrappedKey)) {
      return openWith(in, key, header);
    }
  }

  /** Refuses a header that disagrees with its sidecar, before any key provider is asked. */
  static void check(AesGcmHeader header, Expected expected) {
    if (expected == null) {
      return;
    }
    if (!header.keyId.equals(expected.keyId())) {
      throw new IntegrityException("artifact " + expected.object() + ": its sidecar records key id "
          + (expected.keyId() == null ? "none" : "'" + expected.keyId() + "'") + " but its encrypted header names '"
          + header.keyId + "'; the sidecar or the artifact was replaced");
    }
    if (!header.codec.isEmpty() && expected.codec() != null && !header.codec.equals(expected.codec())) {
      throw new IntegrityException("artifact " + expected.object() + ": its sidecar records codec '" + expected.codec()
          + "' but its authenticated header names '" + header.codec + "'; the sidecar or the artifact was replaced");
    }
  }

  private static Opened openWith(InputStream in, DataKey key, AesGcmHeader header) throws IOException {
    byte[] streamHeader =
        AesGcmHeader.readExactly(
            in, AesGcmSegmentCipher.STREAM_HEADER_LENGTH, null, "salt and nonce prefix");
    if ((streamHeader[0] & 0xff) != AesGcmSegmentCipher.STREAM_HEADER_LENGTH) {
      throw new IntegrityException(
          "encrypted artifact stream header has length byte " + (streamHeader[0] & 0xff)
              + ", expected " + AesGcmSegmentCipher.STREAM_HEADER_LENGTH + "; corrupt artifact");
    }
    byte[] salt = Arrays.copyOfRange(streamHeader, 1, 1 + AesGcmSegmentCipher.SALT_LENGTH);
    byte[] prefix =
        Arrays.copyOfRange(
            streamHeader, 1 + AesGcmSegmentCipher.SALT_LENGTH, streamHeader.length);
    AesGcmSegmentCipher cipher =
        new AesGcmSegmentCipher(key.plaintext(), salt, prefix, header.associatedData());
    return new Opened(header, streamHeader, cipher);
  }

  private static final class Opened {
    final AesGcmHeader header;
    final byte[] streamHeader;
    final AesGcmSegmentCipher cipher;

    Opened(AesGcmHeader header, byte[] streamHeader, AesGcmSegmentCipher cipher) {
      this.header = header;
      this.streamHeader = streamHeader;
      this.cipher = cipher;
    }
  }

  private static void closeQuietly(AutoCloseable c, Throwable primary) {
    try {
      c.close();
    } catch (Exception e) {
      primary.addSuppressed(e);
    }
  }

  /** @return the settings and primary key id, never key material */
  @Override
  public String toString() {
    return "aesGcm(keyId=" + keys.primaryKeyId() + ", segmentSize=" + segmentSize
        + (innerCodec != null ? ", innerCodec=" + innerCodec : "") + ")";
  }
}
