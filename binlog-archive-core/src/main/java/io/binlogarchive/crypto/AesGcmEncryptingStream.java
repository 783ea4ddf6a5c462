package io.binlogarchive.crypto;

import io.binlogarchive.codec.StreamFacts;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * Writes the segments of one encrypted artifact after its headers. A full plaintext segment is
 * sealed only when more data follows, so the segment sealed by {@link #close()} is the one
 * flagged last (it is empty only when the whole plaintext is). After any failure the stream is
 * broken: {@code close()} then only closes downstream and never writes a last segment, so a
 * failed write cannot yield a shorter artifact that authenticates.
 */
final class AesGcmEncryptingStream extends OutputStream implements StreamFacts {
  private final OutputStream out;
  private final AesGcmSegmentCipher cipher;
  private final byte[] pt;
  private final byte[] ct;
  private final int plaintextSegmentSize;
  private int capacity;
  private int buffered;
  private long segment;
  private boolean closed;
  private boolean failed;

  private String keyId;

  /** @return the id of the key that wrapped this artifact's data key, as written in its header */
  @Override
  public java.util.Map<String, Object> facts() {
    return keyId == null ? java.util.Map.of() : java.util.Map.of("key_id", keyId);
  }

  AesGcmEncryptingStream withKeyId(String id) {
    this.keyId = id;
    return this;
  }

  AesGcmEncryptingStream(OutputStream out, AesGcmSegmentCipher cipher, int segmentSize) {
    this.out = out;
    this.cipher = cipher;
    this.plaintextSegmentSize = segmentSize - AesGcmSegmentCipher.TAG_LENGTH;
    this.capacity = plaintextSegmentSize - AesGcmSegmentCipher.STREAM_HEADER_LENGTH;
    this.pt = new byte[plaintextSegmentSize];
    this.ct = new byte[segmentSize];
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (closed) {
      throw new IOException("write to a closed encrypting stream");
    }
    if (failed) {
      throw new IOException("write to an encrypting stream that already failed");
    }
    try {
      while (len > 0) {
        if (buffered == capacity) {
          seal(pt, 0, buffered, false);
          buffered = 0;
        }
        if (buffered == 0 && len > capacity) {
          // Whole segments straight from the caller's array; more data follows, so not last.
          int n = capacity;
          seal(b, off, n, false);
          off += n;
          len -= n;
          continue;
        }
        int n = Math.min(len, capacity - buffered);
        System.arraycopy(b, off, pt, buffered, n);
        buffered += n;
        off += n;
        len -= n;
      }
    } catch (IOException | RuntimeException e) {
      failed = true;
      throw e;
    }
  }

  private void seal(byte[] src, int off, int len, boolean last) throws IOException {
    if (segment >= AesGcmSegmentCipher.MAX_SEGMENTS) {
      throw new IOException("encrypted stream exceeds 2^32 segments");
    }
    int n = cipher.seal(src, off, len, segment, last, ct, 0);
    segment++;
    capacity = plaintextSegmentSize;
    out.write(ct, 0, n);
  }

  /** Ciphertext is written as each segment is sealed; flushing passes through to downstream. */
  @Override
  public void flush() throws IOException {
    out.flush();
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    Throwable first = null;
    if (!failed) {
      try {
        seal(pt, 0, buffered, true);
      } catch (IOException | RuntimeException e) {
        failed = true;
        first = e;
      }
    }
    java.util.Arrays.fill(pt, (byte) 0);
    try {
      out.close();
    } catch (IOException | RuntimeException e) {
      if (first == null) {
        first = e;
      } else {
        first.addSuppressed(e);
      }
    }
    if (first instanceof IOException) {
      throw (IOException) first;
    }
    if (first instanceof RuntimeException) {
      throw (RuntimeException) first;
    }
  }
}
