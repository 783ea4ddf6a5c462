package io.binlogarchive.codec;

import io.binlogarchive.crypto.AesGcmTransform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.internal.CryptoAccess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/**
 * A named stream decorator that owns its framing: a compression codec or an encryption layer.
 *
 * <p>{@link #wrap(OutputStream)} returns a stream whose {@code close()} finishes the frame, frees
 * native or cipher state, then closes the downstream stream; it keeps the first error and is safe to
 * call twice. {@link #unwrap(InputStream)} reverses it. A transform is immutable and thread-safe:
 * every call to {@code wrap} starts an independent stream.
 *
 * <p>A transform of your own archives as soon as it is given to the archiver; to read it back, give
 * it to the reader too ({@code ArchiveReader.Builder.codec(...)}, or a {@link CodecRegistry}), which
 * finds it by the {@link #id()} each sidecar records. A stream returned by {@code wrap} may
 * implement {@link StreamFacts} to record facts about that one artifact in its sidecar; an outer
 * transform that names its inner codec in its own framing implements {@link CodecEnvelope}. {@code
 * TransformCompatibilityKit} in binlog-archive-testkit states the contract as tests.
 */
public interface Transform {

  /** @return the codec or cipher name written to the sidecar, e.g. {@code zstd}, {@code gzip} */
  String id();

  /** @return the artifact name suffix this transform adds, e.g. {@code .zst}; empty for none */
  String extension();

  /** @return settings worth recording in the sidecar (level, key id, ...); never secrets */
  Map<String, Object> describe();

  /**
   * @param out the downstream stream, closed when the returned stream is closed
   * @return a stream that encodes what is written to it into {@code out}
   * @throws IOException if the frame header cannot be written
   */
  OutputStream wrap(OutputStream out) throws IOException;

  /**
   * @param in the encoded stream, closed when the returned stream is closed
   * @return a stream of the decoded bytes
   * @throws IOException if the frame header cannot be read or is invalid
   */
  InputStream unwrap(InputStream in) throws IOException;

  /**
   * Zstandard compression; the artifact is a standard {@code .zst} stream.
   *
   * @param level 1 to 19 (22 with ultra); 3 is a good default
   * @return the transform
   */
  static Transform zstd(int level) {
    return new ZstdTransform(level, 0);
  }

  /**
   * Zstandard compression with the codec's own worker threads, so compression runs beside the
   * reading, hashing and scanning thread.
   *
   * @param level 1 to 19
   * @param workers native worker threads (0 compresses on the calling thread)
   * @return the transform
   */
  static Transform zstd(int level, int workers) {
    return new ZstdTransform(level, workers);
  }

  /**
   * Gzip compression ({@code java.util.zip}); the artifact is a standard {@code .gz} stream.
   *
   * @param level 1 to 9
   * @return the transform
   */
  static Transform gzip(int level) {
    return new GzipTransform(level);
  }

  /** @return the identity transform: artifacts hold the binlog bytes as they are */
  static Transform none() {
    return IdentityTransform.INSTANCE;
  }

  /**
   * Client-side encryption with AES-256-GCM in 1 MiB authenticated segments under a fresh data
   * key per artifact, wrapped by {@code keys}; see {@link AesGcmTransform} and {@code
   * docs/encryption-format.md}. Decryption needs only a provider that can unwrap the key id
   * recorded in the artifact.
   *
   * @param keys gives data keys (and unwraps them when reading)
   * @return the transform; {@link AesGcmTransform#segmentSize(int)} and {@link
   *     AesGcmTransform#innerCodec(String)} return adjusted copies
   */
  static AesGcmTransform aesGcm(KeyProvider keys) {
    return CryptoAccess.aesGcm(keys);
  }
}
