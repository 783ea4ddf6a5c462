package io.binlogarchive.internal.decode;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A capability of a decoded stream: it can fill a (direct) buffer itself, without the staging copy
 * through a byte array that {@link java.io.InputStream#read(byte[], int, int)} needs.
 */
public interface BufferReadable {
  /**
   * Reads up to {@code dst.remaining()} bytes into {@code dst}.
   *
   * @param dst the buffer to fill from its position
   * @return the number of bytes read, or -1 at the end of the stream
   * @throws IOException if the stream fails
   */
  int read(ByteBuffer dst) throws IOException;
}
