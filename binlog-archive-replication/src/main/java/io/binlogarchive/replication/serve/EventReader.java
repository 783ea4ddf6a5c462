package io.binlogarchive.replication.serve;

import io.binlogarchive.replication.internal.BinlogEvents;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads a local (already verified) binlog event by event into one reusable buffer: memory is the
 * largest event, whatever the file's size.
 */
final class EventReader implements Closeable {
  /** A larger event than any server writes (max_allowed_packet is at most 1 GiB). */
  private static final long MAX_EVENT = 1L << 30;

  private final Path file;
  private final InputStream in;
  private final long limit;
  private byte[] buf = new byte[1 << 16];
  private long offset;
  private int length;

  /**
   * Opens {@code file} and positions it at {@code from} (4 for the first event).
   *
   * @throws IOException if it is not a binlog or shorter than {@code from}
   */
  EventReader(Path file, long from) throws IOException {
    this(file, from, Long.MAX_VALUE);
  }

  /**
   * As {@link #EventReader(Path, long)}, reading no event at or past {@code limit}: the end of the
   * last complete event of a file a server crash cut inside an event (its sidecar's end position).
   */
  EventReader(Path file, long from, long limit) throws IOException {
    this.file = file;
    this.limit = limit;
    this.in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    if (!BinlogEvents.isMagic(in.readNBytes(BinlogEvents.MAGIC_LENGTH))) {
      in.close();
      throw new IOException(file.getFileName() + " is not a binlog: it does not start with the binlog magic bytes");
    }
    offset = 4;
    if (from > 4) {
      try {
        in.skipNBytes(from - 4);
      } catch (EOFException e) {
        in.close();
        throw new IOException(file.getFileName() + " is shorter than the start position " + from, e);
      }
      offset = from;
    }
  }

  /**
   * Reads the next event into {@link #buffer()}.
   *
   * @return false at the end of the file
   * @throws IOException if the file ends inside an event or an event's size is impossible
   */
  boolean next() throws IOException {
    offset += length;
    length = 0;
    if (offset >= limit) {
      return false;
    }
    int n = in.readNBytes(buf, 0, BinlogEvents.HEADER);
    if (n == 0) {
      return false;
    }
    if (n < BinlogEvents.HEADER) {
      throw new IOException(file.getFileName() + " ends inside an event header at offset " + offset);
    }
    long size = BinlogEvents.size(buf, 0);
    if (size < BinlogEvents.HEADER || size > MAX_EVENT) {
      throw new IOException(file.getFileName() + " has an event of " + size + " bytes at offset " + offset);
    }
    if (size > buf.length) {
      buf = Arrays.copyOf(buf, (int) Math.max(size, Math.min(MAX_EVENT, buf.length * 2L)));
    }
    int body = (int) size - BinlogEvents.HEADER;
    if (in.readNBytes(buf, BinlogEvents.HEADER, body) != body) {
      throw new IOException(file.getFileName() + " ends inside the event at offset " + offset);
    }
    length = (int) size;
    return true;
  }

  /** The current event's bytes (valid up to {@link #length()}, until the next call of {@link #next()}). */
  byte[] buffer() {
    return buf;
  }

  /** The current event's length. */
  int length() {
    return length;
  }

  /** The current event's offset in the file. */
  long offset() {
    return offset;
  }

  /** The offset just past the current event. */
  long end() {
    return offset + length;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
