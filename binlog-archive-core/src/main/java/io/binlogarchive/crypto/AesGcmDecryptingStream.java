package io.binlogarchive.crypto;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.internal.decode.BufferReadable;
import io.binlogarchive.internal.decode.ReadAhead;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Objects;

/**
 * Reads the segments of one encrypted artifact and returns plaintext only after each segment's
 * tag has matched. Memory is two segment buffers, whatever the artifact's size.
 *
 * <p>A segment is the last one exactly when the stream ends after it, so each read looks one byte
 * ahead. Every authentication failure (bit flip, truncation, reordering, duplication, a header
 * from another artifact, a wrong key) throws {@link IntegrityException} unchanged from {@code
 * read}; real I/O errors of the source stay {@link IOException}.
 */
final class AesGcmDecryptingStream extends InputStream implements BufferReadable {
  private final InputStream in;
  private final AesGcmSegmentCipher cipher;
  private final String keyId;
  private final int segmentSize;
  private final byte[] ct;
  private final byte[] pt;
  private int pos;
  private int limit;
  private long segment;
  private int lookahead = -1;
  private boolean done;
  private boolean closed;
  private IntegrityException failure;

  AesGcmDecryptingStream(InputStream in, AesGcmSegmentCipher cipher, int segmentSize, String keyId) {
    this.in = in;
    this.cipher = cipher;
    this.segmentSize = segmentSize;
    this.keyId = keyId;
    this.ct = new byte[segmentSize];
    this.pt = new byte[segmentSize - AesGcmSegmentCipher.TAG_LENGTH];
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (closed) {
      throw new IOException("read from a closed decrypting stream");
    }
    if (len == 0) {
      return 0;
    }
    while (pos == limit) {
      if (done) {
        return -1;
      }
      nextSegment();
    }
    int n = Math.min(len, limit - pos);
    System.arraycopy(pt, pos, b, off, n);
    pos += n;
    return n;
  }

  /**
   * Like {@link #read(byte[], int, int)} into a buffer: one copy from the decrypted segment, for
   * a reader that fills direct buffers ({@link ReadAhead}).
   *
   * @return bytes copied, or -1 at the end of the stream
   */
  @Override
  public int read(java.nio.ByteBuffer dst) throws IOException {
    if (closed) {
      throw new IOException("read from a closed decrypting stream");
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    while (pos == limit) {
      if (done) {
        return -1;
      }
      nextSegment();
    }
    int n = Math.min(dst.remaining(), limit - pos);
    dst.put(pt, pos, n);
    pos += n;
    return n;
  }

  @Override
  public int available() {
    return limit - pos;
  }

  private void nextSegment() throws IOException {
    if (failure != null) {
      throw failure;
    }
    int expected =
        segment == 0 ? segmentSize - AesGcmSegmentCipher.STREAM_HEADER_LENGTH : segmentSize;
    int n = 0;
    if (lookahead >= 0) {
      ct[0] = (byte) lookahead;
      lookahead = -1;
      n = 1;
    }
    n += in.readNBytes(ct, n, expected - n);
    boolean last;
    if (n < expected) {
      last = true;
    } else {
      int next = in.read();
      last = next < 0;
      lookahead = next;
    }
    if (n < AesGcmSegmentCipher.TAG_LENGTH) {
      throw fail(
          "encrypted artifact is truncated: segment " + segment + " has " + n
              + " bytes, fewer than its 16-byte tag");
    }
    if (segment >= AesGcmSegmentCipher.MAX_SEGMENTS) {
      throw fail("encrypted artifact has more than 2^32 segments");
    }
    if (!cipher.open(ct, n, segment, last, pt)) {
      throw fail(
          "authentication failed for segment " + segment + (last ? " (the last)" : "")
              + " of an artifact encrypted under key id '" + keyId + "': the data is corrupt,"
              + " truncated, reordered or tampered with, or its header belongs to another artifact");
    }
    pos = 0;
    limit = n - AesGcmSegmentCipher.TAG_LENGTH;
    segment++;
    done = last;
  }

  private IntegrityException fail(String message) {
    failure = new IntegrityException(message);
    return failure;
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    Arrays.fill(pt, (byte) 0);
    in.close();
  }
}
