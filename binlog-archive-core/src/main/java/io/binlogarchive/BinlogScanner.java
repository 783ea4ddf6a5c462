package io.binlogarchive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * A streaming reader of the binlog v4 format that is fed the file's bytes as they pass through the
 * archive pipeline, so the file is read once. It keeps only the bytes of an event header (and the
 * few small events it parses); row payloads are skipped without copying.
 *
 * <p>Not thread-safe: one scanner per file.
 */
public final class BinlogScanner {
  static final byte[] MAGIC = {(byte) 0xfe, 'b', 'i', 'n'};
  static final int HEADER_LEN = 19;
  static final int FORMAT_DESCRIPTION_EVENT = 15;
  static final int ROTATE_EVENT = 4;
  static final int STOP_EVENT = 3;
  static final int LOG_EVENT_BINLOG_IN_USE_F = 0x1;

  private final String fileName;
  private final boolean failOnChecksumMismatch;

  private long position;
  private final byte[] header = new byte[HEADER_LEN];
  private int headerFill;
  private final byte[] magic = new byte[4];
  private long remainingInEvent;
  private int lastType = -1;
  private long eventStart;
  private long eventCount;
  private boolean inUse;
  private boolean sawFormatDescription;
  private String serverVersion;
  private int binlogVersion;
  private Instant firstEventTime;
  private Instant lastEventTime;
  private final TreeSet<Long> serverIds = new TreeSet<>();
  // FORMAT_DESCRIPTION_EVENT body, captured to read version and flags
  private byte[] fdeBody;
  private int fdeFill;

  /**
   * @param fileName the file's name, used in error messages
   * @param failOnChecksumMismatch fail on a CRC32 mismatch ({@code true}) or only count it
   */
  public BinlogScanner(String fileName, boolean failOnChecksumMismatch) {
    this.fileName = fileName;
    this.failOnChecksumMismatch = failOnChecksumMismatch;
  }

  /**
   * Scans a whole local file.
   *
   * @param file the binlog
   * @return what the file holds
   * @throws InvalidBinlogException if it is not a valid, complete binlog
   * @throws IOException if it cannot be read
   */
  public static BinlogInfo scan(Path file) throws IOException {
    BinlogScanner scanner = new BinlogScanner(file.getFileName().toString(), true);
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        scanner.update(buf, 0, n);
      }
    }
    return scanner.finish();
  }

  /**
   * Feeds the next bytes of the file.
   *
   * @throws InvalidBinlogException on malformed input (naming file, offset and what is wrong)
   * @throws IntegrityException on a CRC32 mismatch when configured to fail
   */
  public void update(byte[] b, int off, int len) {
    int end = off + len;
    while (off < end) {
      if (position < 4) {
        int take = (int) Math.min(4 - position, end - off);
        System.arraycopy(b, off, magic, (int) position, take);
        off += take;
        position += take;
        if (position == 4) {
          for (int i = 0; i < 4; i++) {
            if (magic[i] != MAGIC[i]) {
              throw new InvalidBinlogException(fileName + ": not a binary log (wrong magic bytes at offset 0)");
            }
          }
        }
        continue;
      }
      if (remainingInEvent == 0) {
        int take = Math.min(HEADER_LEN - headerFill, end - off);
        System.arraycopy(b, off, header, headerFill, take);
        headerFill += take;
        off += take;
        position += take;
        if (headerFill == HEADER_LEN) {
          startEvent();
        }
        continue;
      }
      int take = (int) Math.min(remainingInEvent, end - off);
      if (fdeBody != null && fdeFill < fdeBody.length) {
        int copy = Math.min(take, fdeBody.length - fdeFill);
        System.arraycopy(b, off, fdeBody, fdeFill, copy);
        fdeFill += copy;
      }
      off += take;
      position += take;
      remainingInEvent -= take;
      if (remainingInEvent == 0) {
        endEvent();
      }
    }
  }

  private void startEvent() {
    eventStart = position - HEADER_LEN;
    long timestamp = u32(header, 0);
    int type = header[4] & 0xff;
    long serverId = u32(header, 5);
    long size = u32(header, 9);
    if (size < HEADER_LEN) {
      throw new InvalidBinlogException(
          fileName + ": event at offset " + eventStart + " (type " + type + ") declares size " + size
              + ", smaller than its 19-byte header");
    }
    if (!sawFormatDescription && type != FORMAT_DESCRIPTION_EVENT) {
      throw new InvalidBinlogException(
          fileName + ": first event at offset " + eventStart + " is type " + type
              + ", not a FORMAT_DESCRIPTION_EVENT");
    }
    headerFill = 0;
    eventCount++;
    lastType = type;
    serverIds.add(serverId);
    Instant t = Instant.ofEpochSecond(timestamp);
    if (timestamp != 0) {
      if (firstEventTime == null) {
        firstEventTime = t;
      }
      lastEventTime = t;
    }
    if (type == FORMAT_DESCRIPTION_EVENT && !sawFormatDescription) {
      sawFormatDescription = true;
      int flags = (header[17] & 0xff) | (header[18] & 0xff) << 8;
      inUse = (flags & LOG_EVENT_BINLOG_IN_USE_F) != 0;
      fdeBody = new byte[(int) Math.min(size - HEADER_LEN, 2 + 50)];
      fdeFill = 0;
    }
    remainingInEvent = size - HEADER_LEN;
    if (remainingInEvent == 0) {
      endEvent();
    }
  }

  private void endEvent() {
    if (fdeBody != null && serverVersion == null && fdeFill == fdeBody.length) {
      binlogVersion = (fdeBody[0] & 0xff) | (fdeBody[1] & 0xff) << 8;
      int n = 0;
      while (n < 50 && 2 + n < fdeBody.length && fdeBody[2 + n] != 0) {
        n++;
      }
      serverVersion = new String(fdeBody, 2, n, java.nio.charset.StandardCharsets.ISO_8859_1);
      fdeBody = null;
    }
  }

  /** @return whether the FORMAT_DESCRIPTION_EVENT has been read and carries the in-use flag */
  public boolean inUse() {
    return inUse;
  }

  /** @return whether the FORMAT_DESCRIPTION_EVENT header has been read */
  public boolean headerRead() {
    return sawFormatDescription;
  }

  /** @return bytes fed so far */
  public long position() {
    return position;
  }

  /**
   * Ends the scan.
   *
   * @return what the file holds
   * @throws InvalidBinlogException if the file ends inside an event or has no events
   */
  public BinlogInfo finish() {
    if (position < 4) {
      throw new InvalidBinlogException(fileName + ": truncated: " + position + " bytes, shorter than the 4-byte magic");
    }
    if (headerFill != 0 || remainingInEvent != 0) {
      throw new InvalidBinlogException(
          fileName + ": truncated: the file ends at offset " + position + " inside the event that starts at offset "
              + (headerFill != 0 ? position - headerFill : eventStart));
    }
    if (!sawFormatDescription) {
      throw new InvalidBinlogException(fileName + ": no events after the magic bytes");
    }
    boolean closed = !inUse && (lastType == ROTATE_EVENT || lastType == STOP_EVENT);
    List<Long> ids = new ArrayList<>(serverIds);
    return new BinlogInfo(
        serverVersion != null && serverVersion.toLowerCase(java.util.Locale.ROOT).contains("mariadb") ? "mariadb" : "mysql",
        serverVersion, binlogVersion, null, inUse, closed, firstEventTime, lastEventTime, null, null,
        null, null, ids, eventCount, 0, 0, 0, 0, position);
  }

  private static long u32(byte[] b, int i) {
    return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24;
  }
}
