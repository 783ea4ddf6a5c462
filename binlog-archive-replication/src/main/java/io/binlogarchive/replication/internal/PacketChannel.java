package io.binlogarchive.replication.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * MySQL client/server protocol packet framing over a pair of streams: a 3-byte little-endian
 * length and a 1-byte sequence id before each payload. A payload of 16 MiB - 1 bytes or more is
 * split into full packets followed by a shorter one (possibly empty); {@link #read()} joins them
 * back into one payload. Not thread-safe: one reader and one writer at a time.
 */
public final class PacketChannel {
  /** The largest payload of one wire packet: 2^24 - 1. */
  public static final int MAX_PACKET = 0xFF_FFFF;

  private final InputStream in;
  private final OutputStream out;
  private final byte[] header = new byte[4];
  private int sequence;

  /**
   * @param in the stream packets are read from (buffer it)
   * @param out the stream packets are written to (buffer it; {@link #write} flushes)
   */
  public PacketChannel(InputStream in, OutputStream out) {
    this.in = in;
    this.out = out;
  }

  /** Starts a new command: the next packet written or expected carries sequence id 0. */
  public void resetSequence() {
    sequence = 0;
  }

  /** The sequence id the next packet carries. */
  public int sequence() {
    return sequence;
  }

  /**
   * Reads one logical payload, joining continuation packets.
   *
   * @throws EOFException when the peer closed the connection, before or inside a packet
   */
  public byte[] read() throws IOException {
    byte[] first = readOne();
    if (first.length < MAX_PACKET) {
      return first;
    }
    java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream(first.length * 2);
    joined.write(first);
    byte[] next;
    do {
      next = readOne();
      joined.write(next);
    } while (next.length == MAX_PACKET);
    return joined.toByteArray();
  }

  private byte[] readOne() throws IOException {
    readFully(header, 0, 4);
    int length = (header[0] & 0xFF) | (header[1] & 0xFF) << 8 | (header[2] & 0xFF) << 16;
    sequence = ((header[3] & 0xFF) + 1) & 0xFF;
    byte[] payload = new byte[length];
    readFully(payload, 0, length);
    return payload;
  }

  private void readFully(byte[] buf, int off, int len) throws IOException {
    while (len > 0) {
      int n = in.read(buf, off, len);
      if (n < 0) {
        throw new EOFException("connection closed by the peer in the middle of a packet");
      }
      off += n;
      len -= n;
    }
  }

  /** Writes {@code payload} as one logical packet (split as the protocol requires) and flushes. */
  public void write(byte[] payload) throws IOException {
    write(payload, 0, payload.length);
  }

  /** Writes {@code len} bytes of {@code payload} from {@code off} as one logical packet and flushes. */
  public void write(byte[] payload, int off, int len) throws IOException {
    writeNoFlush(payload, off, len);
    out.flush();
  }

  /** As {@link #write(byte[], int, int)} without the flush, for a burst of packets. */
  public void writeNoFlush(byte[] payload, int off, int len) throws IOException {
    while (true) {
      int chunk = Math.min(len, MAX_PACKET);
      header[0] = (byte) chunk;
      header[1] = (byte) (chunk >>> 8);
      header[2] = (byte) (chunk >>> 16);
      header[3] = (byte) sequence;
      sequence = (sequence + 1) & 0xFF;
      out.write(header, 0, 4);
      out.write(payload, off, chunk);
      off += chunk;
      len -= chunk;
      if (chunk < MAX_PACKET) {
        return;
      }
    }
  }

  /** Flushes what {@link #writeNoFlush} buffered. */
  public void flush() throws IOException {
    out.flush();
  }
}
