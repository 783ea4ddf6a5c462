package io.binlogarchive.binlog;

import static io.binlogarchive.internal.binlog.BinlogBytes.u16;
import static io.binlogarchive.internal.binlog.BinlogBytes.u32;
import static io.binlogarchive.binlog.BinlogScanner.FORMAT_DESCRIPTION_EVENT;
import static io.binlogarchive.binlog.BinlogScanner.HEADER_LEN;
import static io.binlogarchive.binlog.BinlogScanner.LOG_EVENT_BINLOG_IN_USE_F;
import static io.binlogarchive.binlog.BinlogScanner.MAGIC;
import static io.binlogarchive.binlog.BinlogScanner.MAX_FDE_BODY;
import static io.binlogarchive.binlog.BinlogScanner.START_EVENT_V3;
import static io.binlogarchive.binlog.BinlogScanner.typeName;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.InvalidBinlogException;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * The framing half of {@link BinlogScanner}: cuts the bytes it is fed, in slices of any size, into
 * the magic and events; checks each event header's size and end position and, once the file is
 * known to have them, each event's CRC32; and keeps a bounded prefix of the events the {@link
 * EventDecoder} asks for (the capture buffer). It never copies a payload it was not asked to keep.
 *
 * <p>The hot path is {@link #consume}: it allocates nothing (the capture buffer grows only for the
 * rare decoded event larger than 256 bytes, and only by bytes received), and per event it makes
 * one call into the decoder when the header is complete and one when the event ends.
 */
final class EventFramer {
  private static final int INITIAL_CAPTURE = 256;
  /** A capture buffer grown beyond this (a large PREVIOUS_GTIDS event) is dropped after its event. */
  private static final int KEEP_CAPTURE = 64 << 10;

  private final String fileName;
  private final boolean failOnChecksumMismatch;
  private EventDecoder decoder;

  private long position;
  private final byte[] magic = new byte[4];
  private final byte[] header = new byte[HEADER_LEN];
  private int headerFill;
  private long payloadRemaining;
  private int trailerRemaining;
  private final byte[] trailer = new byte[4];
  private final CRC32 crc = new CRC32();
  private boolean crcActive;
  private boolean crcHeaderPending;
  private int headerOff;
  private byte[] capture = new byte[INITIAL_CAPTURE];
  private int captureFill;
  private int captureLimit;

  // the current event's header
  private long eventStart = -1;
  private int eventType;
  private long eventTimestamp;
  private long eventServerId;
  private long eventSize;
  private int eventTrailerLen;
  private boolean eventIsFirstFde;

  private boolean sawFormatDescription;
  private boolean inUse;
  private boolean checksumCrc32;
  private long checksumFailures;
  private String firstChecksumFailure;

  EventFramer(String fileName, boolean failOnChecksumMismatch) {
    this.fileName = fileName;
    this.failOnChecksumMismatch = failOnChecksumMismatch;
  }

  /** Sets the decoder that is told of each event; called once, before the first byte. */
  void decoder(EventDecoder decoder) {
    this.decoder = decoder;
  }

  void consume(byte[] b, int off, int len) {
    int end = off + len;
    while (off < end) {
      if (position < 4) {
        int take = (int) Math.min(4 - position, end - off);
        System.arraycopy(b, off, magic, (int) position, take);
        off += take;
        position += take;
        if (position == 4 && !Arrays.equals(magic, MAGIC)) {
          throw new InvalidBinlogException(fileName + ": not a binary log: wrong magic bytes at offset 0");
        }
      } else if (payloadRemaining > 0) {
        int take = (int) Math.min(payloadRemaining, end - off);
        if (crcActive) {
          if (crcHeaderPending && headerOff + HEADER_LEN == off) {
            crc.update(b, headerOff, HEADER_LEN + take); // one call for header and payload: cheaper for small events
            crcHeaderPending = false;
          } else {
            flushHeaderCrc();
            crc.update(b, off, take);
          }
        }
        if (captureFill < captureLimit) {
          capture(b, off, Math.min(take, captureLimit - captureFill));
        }
        off += take;
        position += take;
        payloadRemaining -= take;
        if (payloadRemaining == 0 && trailerRemaining == 0) {
          endEvent();
        }
      } else if (trailerRemaining > 0) {
        flushHeaderCrc();
        int take = Math.min(trailerRemaining, end - off);
        System.arraycopy(b, off, trailer, 4 - trailerRemaining, take);
        off += take;
        position += take;
        trailerRemaining -= take;
        if (trailerRemaining == 0) {
          endEvent();
        }
      } else {
        int take = Math.min(HEADER_LEN - headerFill, end - off);
        System.arraycopy(b, off, header, headerFill, take);
        headerFill += take;
        off += take;
        position += take;
        if (headerFill == HEADER_LEN) {
          headerFill = 0;
          startEvent();
          if (crcActive) {
            // the header's CRC is folded into the payload's first update when both lie in b
            crcHeaderPending = true;
            headerOff = take == HEADER_LEN ? off - HEADER_LEN : -1 - HEADER_LEN;
          }
        }
      }
    }
    flushHeaderCrc(); // b may be reused by the caller once this call returns
  }

  private void flushHeaderCrc() {
    if (crcHeaderPending) {
      crc.update(header, 0, HEADER_LEN);
      crcHeaderPending = false;
    }
  }

  /** Copies into the capture buffer, growing it only by what has actually arrived. */
  private void capture(byte[] b, int off, int n) {
    int need = captureFill + n;
    if (need > capture.length) {
      capture = Arrays.copyOf(capture, Math.min(captureLimit, Math.max(need, capture.length * 2)));
    }
    System.arraycopy(b, off, capture, captureFill, n);
    captureFill += n;
  }

  private void startEvent() {
    eventStart = position - HEADER_LEN;
    eventTimestamp = u32(header, 0);
    eventType = header[4] & 0xff;
    eventServerId = u32(header, 5);
    eventSize = u32(header, 9);
    long endPosition = u32(header, 13);
    int flags = u16(header, 17);
    eventIsFirstFde = !sawFormatDescription;

    if (eventIsFirstFde) {
      if (eventType == START_EVENT_V3) {
        throw invalid("starts with a START_EVENT_V3: binlog format versions 1-3 (MySQL before 5.0) are not supported");
      }
      if (eventType != FORMAT_DESCRIPTION_EVENT) {
        throw invalid("the first event is " + typeName(eventType) + ", not a FORMAT_DESCRIPTION_EVENT");
      }
    }
    eventTrailerLen = !eventIsFirstFde && checksumCrc32 ? 4 : 0;
    if (eventSize < HEADER_LEN + eventTrailerLen) {
      throw invalid(typeName(eventType) + " declares size " + eventSize + ", smaller than its "
          + (HEADER_LEN + eventTrailerLen) + "-byte header" + (eventTrailerLen > 0 ? " and checksum" : ""));
    }
    if (endPosition != 0 && endPosition != ((eventStart + eventSize) & 0xffffffffL)) {
      throw invalid(typeName(eventType) + " of size " + eventSize + " says it ends at " + endPosition
          + ", but it would end at " + (eventStart + eventSize));
    }
    long payload = eventSize - HEADER_LEN - eventTrailerLen;

    if (eventIsFirstFde) {
      sawFormatDescription = true;
      inUse = (flags & LOG_EVENT_BINLOG_IN_USE_F) != 0;
      if (payload > MAX_FDE_BODY) {
        throw invalid("FORMAT_DESCRIPTION_EVENT declares " + payload + " bytes, more than the " + MAX_FDE_BODY + " a real one has");
      }
    }
    captureFill = 0;
    captureLimit = (int) Math.min(decoder.startEvent(payload), payload);
    crcActive = eventTrailerLen > 0;
    if (crcActive) {
      crc.reset();
    }
    payloadRemaining = payload;
    trailerRemaining = eventTrailerLen;
    if (payloadRemaining == 0 && trailerRemaining == 0) {
      endEvent();
    }
  }

  private void endEvent() {
    if (crcActive && crc.getValue() != u32(trailer, 0)) {
      checksumMismatch(u32(trailer, 0), crc.getValue());
    }
    decoder.endEvent();
    if (capture.length > KEEP_CAPTURE) {
      capture = new byte[INITIAL_CAPTURE];
    }
  }

  /** Counts (or, when configured to fail, throws) a CRC32 mismatch of the current event. */
  void checksumMismatch(long stored, long computed) {
    String message = fileName + ": CRC32 mismatch in the " + typeName(eventType) + " at offset " + eventStart
        + ": stored 0x" + Long.toHexString(stored) + ", computed 0x" + Long.toHexString(computed);
    if (failOnChecksumMismatch) {
      throw new IntegrityException(message);
    }
    if (checksumFailures++ == 0) {
      firstChecksumFailure = message;
    }
  }

  /** An error about the current event, naming the file and the event's offset. */
  InvalidBinlogException invalid(String what) {
    return new InvalidBinlogException(fileName + ": invalid binlog at offset " + eventStart + ": " + what);
  }

  /** The events after the FORMAT_DESCRIPTION_EVENT end with a CRC32. */
  void checksumsFollow() {
    checksumCrc32 = true;
  }

  /**
   * Throws if the file ends inside an event, or, for a crashed file, forgets the incomplete event.
   *
   * @param cut forget a partial header or event instead of throwing
   * @return the offset where the last complete event ends
   * @throws InvalidBinlogException if the file ends inside the magic, or inside an event and not {@code cut}
   */
  long completeEnd(boolean cut) {
    if (position < 4) {
      throw new InvalidBinlogException(fileName + ": truncated: " + position + " bytes, shorter than the 4-byte magic");
    }
    long end = position;
    if (cut) {
      if (headerFill != 0) {
        end = position - headerFill;
      } else if (insideEvent()) {
        end = eventStart;
      }
      headerFill = 0;
      payloadRemaining = 0;
      trailerRemaining = 0;
    }
    if (headerFill != 0) {
      throw new InvalidBinlogException(fileName + ": truncated: the file ends at offset " + position
          + " inside the header of the event that starts at offset " + (position - headerFill));
    }
    if (insideEvent()) {
      throw new InvalidBinlogException(fileName + ": truncated: the file ends at offset " + position + " inside the "
          + typeName(eventType) + " that starts at offset " + eventStart + " and declares " + eventSize + " bytes");
    }
    return end;
  }

  /** Whether an event's header has arrived but not all of its body. */
  boolean insideEvent() {
    return payloadRemaining != 0 || trailerRemaining != 0;
  }

  /** Whether the bytes so far end on an event boundary (not inside a header, payload or checksum). */
  boolean betweenEvents() {
    return headerFill == 0 && !insideEvent();
  }

  String fileName() {
    return fileName;
  }

  long position() {
    return position;
  }

  byte[] header() {
    return header;
  }

  /** The captured prefix of the current event's body; valid up to {@link #captureFill()}. */
  byte[] capture() {
    return capture;
  }

  int captureFill() {
    return captureFill;
  }

  long eventStart() {
    return eventStart;
  }

  int eventType() {
    return eventType;
  }

  long eventTimestamp() {
    return eventTimestamp;
  }

  long eventServerId() {
    return eventServerId;
  }

  /** The current event's body length, without header and checksum. */
  long payload() {
    return eventSize - HEADER_LEN - eventTrailerLen;
  }

  boolean eventIsFirstFde() {
    return eventIsFirstFde;
  }

  boolean sawFormatDescription() {
    return sawFormatDescription;
  }

  boolean inUse() {
    return inUse;
  }

  long checksumFailures() {
    return checksumFailures;
  }

  String firstChecksumFailure() {
    return firstChecksumFailure;
  }
}
