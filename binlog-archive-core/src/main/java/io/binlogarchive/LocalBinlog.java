package io.binlogarchive;

import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.binlog.BinlogScanner;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.internal.binlog.ScannerAccess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;

/**
 * One binlog a {@link SegmentArchiver} cuts into segments, in the local directory the server (or a
 * live source) still writes: where the walk over its events stands, the last transaction boundary
 * walked and what the file holds up to it, and where the next segment starts. It reads the file
 * only: walking whole events to transaction boundaries, copying and hashing byte ranges. The
 * segment archiver owns it and touches it only while it holds its own lock.
 */
final class LocalBinlog {
  private static final int HEADER = 19;
  /** Where the FORMAT_DESCRIPTION_EVENT's flags hold the in-use bit (magic 4 + flags at 17 of the header). */
  static final long IN_USE_OFFSET = 21;

  final String name;
  final long sequence;
  final String timeline;
  final Path path;
  final BinlogScanner scanner;
  /** The file needs no segments (it is archived whole). */
  boolean done;
  /** Bytes fed to the scanner: always an event boundary. */
  long walked;
  /** The last transaction boundary walked, and what the file holds up to it. */
  long boundary;
  BinlogInfo boundaryInfo;
  /** Where the next segment starts (the live position in this file). */
  long start;
  long transactionsAtStart;
  String gtidsAtStart = "";
  Instant firstCommitInRange;
  /** No snapshots before this offset (a restart walks to the stored end first). */
  long snapshotFrom;

  LocalBinlog(String name, String timeline, Path path, boolean failOnChecksumMismatch) {
    this.name = name;
    this.sequence = BinlogNames.sequence(name);
    this.timeline = timeline;
    this.path = path;
    this.scanner = new BinlogScanner(name, failOnChecksumMismatch);
  }

  /** @return the file's size now */
  long size() throws IOException {
    try {
      return Files.size(path);
    } catch (NoSuchFileException e) {
      throw new NotFoundException("binlog " + name + " was reported durable but " + path + " does not exist");
    }
  }

  /**
   * Feeds whole events to the scanner up to {@code limit}, noting every transaction boundary, and
   * stops early once a segment of {@code maxBytes} can be cut.
   */
  void walk(long limit, int bufferSize, long maxBytes) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
    byte[] buf = new byte[(int) Math.min(bufferSize, Math.max(HEADER, limit))];
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      while (true) {
        long p = walked;
        if (p == 0) {
          if (limit < 4) {
            return;
          }
          feed(ch, 0, 4, buf);
          continue;
        }
        if (p + HEADER > limit) {
          return;
        }
        header.clear();
        readFully(ch, header, p);
        long size = header.getInt(9) & 0xffffffffL;
        if (size < HEADER) {
          throw new InvalidBinlogException(name + ": invalid binlog at offset " + p + ": the event declares " + size
              + " bytes, less than its header");
        }
        if (p + size > limit) {
          return;
        }
        feed(ch, p, size, buf);
        if (ScannerAccess.atTransactionBoundary(scanner)) {
          boundary = walked;
          if (walked >= snapshotFrom) {
            boundaryInfo = ScannerAccess.snapshot(scanner);
            if (firstCommitInRange == null && boundaryInfo.transactionCount() > transactionsAtStart) {
              firstCommitInRange = boundaryInfo.lastCommitTime();
            }
          }
          if (boundary - start >= maxBytes && walked > snapshotFrom) {
            return;
          }
        }
      }
    }
  }

  private void feed(FileChannel ch, long from, long length, byte[] buf) throws IOException {
    long done = 0;
    ByteBuffer bb = ByteBuffer.wrap(buf);
    while (done < length) {
      bb.clear().limit((int) Math.min(buf.length, length - done));
      readFully(ch, bb, from + done);
      scanner.update(buf, 0, bb.position());
      done += bb.position();
    }
    walked = from + length;
  }

  private void readFully(FileChannel ch, ByteBuffer bb, long position) throws IOException {
    long at = position;
    while (bb.hasRemaining()) {
      int n = ch.read(bb, at);
      if (n < 0) {
        throw new IOException(path + " ended at offset " + at + " while it was reported to hold more");
      }
      at += n;
    }
  }

  /** Writes bytes {@code [start, end)} of the file to {@code out}. */
  void copyRange(long start, long end, OutputStream out) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      in.skipNBytes(start);
      byte[] buf = new byte[(int) Math.min(1 << 20, Math.max(1, end - start))];
      long left = end - start;
      while (left > 0) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new IOException(path + " ended before offset " + end);
        }
        out.write(buf, 0, n);
        left -= n;
      }
    }
  }

  /**
   * @param flipInUse hash the file's in-use flag (offset 21, bit 0, in the FORMAT_DESCRIPTION_EVENT)
   *     flipped: a server sets it while it writes the file and clears it when it closes it
   * @return the SHA-256 of bytes {@code [start, end)}, in hex
   */
  String rangeSha(long start, long end, boolean flipInUse) throws IOException {
    MessageDigest d = Digests.sha256();
    long[] at = {start};
    copyRange(start, end, new OutputStream() {
      @Override
      public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        if (flipInUse && at[0] <= IN_USE_OFFSET && IN_USE_OFFSET < at[0] + len) {
          byte[] copy = Arrays.copyOfRange(b, off, off + len);
          copy[(int) (IN_USE_OFFSET - at[0])] ^= 1;
          d.update(copy, 0, len);
        } else {
          d.update(b, off, len);
        }
        at[0] += len;
      }
    });
    return Digests.hex(d.digest());
  }
}
