package io.binlogarchive.internal.binlog;

import io.binlogarchive.binlog.GtidSet;
import java.util.Locale;

/**
 * Decodes the two MySQL 8.3+ encodings that carry tagged GTIDs ({@code uuid:tag:N}): the body of a
 * GTID_TAGGED_LOG_EVENT (42) and the tag of an entry in a tagged-format PREVIOUS_GTIDS_LOG_EVENT.
 *
 * <h2>The GTID_TAGGED_LOG_EVENT body</h2>
 *
 * One message of MySQL's serialization library ({@code libs/mysql/serialization}), all integers in
 * its variable-length form (below):
 *
 * <pre>
 * serialization version (=1) | message size (whole body, these header fields included)
 *   | last non-ignorable field id (+1; 0 if every field is ignorable) | fields...
 * field = field id | value; a field whose id is not next is absent (optional fields)
 *  0 gtid_flags                  uint8
 *  1 uuid                        16 x uint8, each in variable-length form
 *  2 gno                         int64 (signed form)
 *  3 tag                         string: length (0..32), bytes; empty for an untagged GTID
 *  4 last_committed              int64 (signed form)
 *  5 sequence_number             int64 (signed form)
 *  6 immediate_commit_timestamp  uint64, microseconds
 *  7 original_commit_timestamp   uint64, absent when equal to 6
 *  8 transaction_length          uint64
 *  9 immediate_server_version    uint32
 * 10 original_server_version     uint32, absent when equal to 9
 * 11 commit_group_ticket         uint64, absent when unset
 * </pre>
 *
 * <p>A variable-length unsigned integer takes 1 to 9 bytes, little-endian: the number of trailing
 * one bits of the first byte, plus one, is the byte count; the value follows those bits (a 9-byte
 * number is the 8 bytes after a first byte of {@code 0xff}). A signed integer is stored as the
 * unsigned {@code (x << 1) ^ (x >> 63)}.
 *
 * <p>Sources: mysql-server {@code libs/mysql/binlog/event/control_events.h} ({@code
 * Gtid_event::define_fields}), {@code libs/mysql/serialization/variable_length_integers.h}, {@code
 * serializer_default_impl.hpp}, {@code serializer_impl.hpp} and {@code primitive_type_codec.h}; checked
 * against events written by MySQL 9.6.0 and Percona Server 8.4.11.
 */
public final class TaggedGtidCodec {
  /** The serialization library's format version written by MySQL 8.3 to 9.x. */
  static final int SERIALIZATION_VERSION = 1;
  /** MySQL's {@code tag_max_length}. */
  static final int TAG_MAX_LENGTH = 32;
  /** A real GTID_TAGGED_LOG_EVENT body is under 200 bytes; a larger one is not written by any server. */
  public static final int MAX_BODY = 1024;

  private static final String[] FIELDS = {
    "gtid_flags", "uuid", "gno", "tag", "last_committed", "sequence_number", "immediate_commit_timestamp",
    "original_commit_timestamp", "transaction_length", "immediate_server_version", "original_server_version",
    "commit_group_ticket"
  };

  private TaggedGtidCodec() {}

  /**
   * What a GTID_TAGGED_LOG_EVENT says.
   *
   * @param uuid the server UUID, 16 bytes
   * @param tag the tag in lower case; empty for an untagged GTID
   * @param gno the transaction number, 1 or more
   * @param immediateCommitMicros {@code immediate_commit_timestamp}; 0 if absent
   */
  public record TaggedGtid(byte[] uuid, String tag, long gno, long immediateCommitMicros) {}

  /**
   * Decodes the body of a GTID_TAGGED_LOG_EVENT (checksum excluded).
   *
   * @param b the bytes
   * @param len how many of them form the body
   * @return the GTID; {@code null} if the body uses a serialization version or non-ignorable fields
   *     newer than this decoder knows (the caller counts such an event as not decoded)
   * @throws IllegalArgumentException if the body is malformed, saying what is wrong
   */
  public static TaggedGtid decodeEvent(byte[] b, int len) {
    Reader r = new Reader(b, 0, len);
    long version = r.unsigned("the serialization version");
    if (version != SERIALIZATION_VERSION) {
      return null;
    }
    long size = r.unsigned("the message size");
    if (size != len) {
      throw new IllegalArgumentException("its message declares " + Long.toUnsignedString(size)
          + " bytes, but the event body holds " + len);
    }
    long lastNonIgnorable = r.unsigned("the last non-ignorable field id");
    if (Long.compareUnsigned(lastNonIgnorable, FIELDS.length) > 0) {
      return null; // a newer server's field that a reader must understand
    }
    byte[] uuid = null;
    String tag = "";
    long gno = 0;
    boolean hasGno = false;
    long commitMicros = 0;
    for (int id = 0; id < FIELDS.length && r.remaining() > 0; id++) {
      if (r.peekUnsigned("a field id") != id) {
        continue; // an optional field left out
      }
      r.unsigned("a field id");
      String what = "field " + id + " (" + FIELDS[id] + ")";
      switch (id) {
        case 1 -> {
          uuid = new byte[16];
          for (int i = 0; i < 16; i++) {
            uuid[i] = (byte) r.unsigned(what, 0xff);
          }
        }
        case 2 -> {
          gno = r.signed(what);
          hasGno = true;
        }
        case 3 -> tag = r.tag(what);
        case 4, 5 -> r.signed(what);
        case 6 -> commitMicros = r.unsigned(what);
        case 0 -> r.unsigned(what, 0xff);
        case 9, 10 -> r.unsigned(what, 0xffff_ffffL);
        default -> r.unsigned(what);
      }
    }
    if (r.remaining() > 0) {
      // what is left must be fields of a newer server, which a reader may ignore
      long next = r.peekUnsigned("a field id");
      if (Long.compareUnsigned(next, FIELDS.length) < 0) {
        throw new IllegalArgumentException("field " + next + " (" + FIELDS[(int) next] + ") appears out of order at body offset "
            + r.position());
      }
    }
    if (uuid == null) {
      throw new IllegalArgumentException("it has no uuid field");
    }
    if (!hasGno) {
      throw new IllegalArgumentException("it has no gno field");
    }
    if (gno < 1 || gno > GtidSet.MAX_SEQUENCE) {
      throw new IllegalArgumentException("it carries transaction number " + gno + ", outside 1.." + GtidSet.MAX_SEQUENCE);
    }
    if (commitMicros < 0) {
      throw new IllegalArgumentException("its immediate_commit_timestamp " + Long.toUnsignedString(commitMicros)
          + " is out of range");
    }
    return new TaggedGtid(uuid, tag, gno, commitMicros);
  }

  /**
   * A bounds-checked reader of the serialization library's primitive values; every failure is an
   * {@link IllegalArgumentException} saying which value could not be read and where.
   */
  public static final class Reader {
    private final byte[] b;
    private final int end;
    private int p;

    /**
     * @param b the bytes
     * @param start where reading starts
     * @param end where the readable bytes end (exclusive)
     */
    public Reader(byte[] b, int start, int end) {
      this.b = b;
      this.p = start;
      this.end = end;
    }

    public int position() {
      return p;
    }

    int remaining() {
      return end - p;
    }

    /** Reads a variable-length unsigned integer (as a long that may be negative above 2<sup>63</sup>-1). */
    long unsigned(String what) {
      long v = peekUnsigned(what);
      p += length(b[p]);
      return v;
    }

    /** Reads a variable-length unsigned integer that must not exceed {@code max}. */
    long unsigned(String what, long max) {
      int at = p;
      long v = unsigned(what);
      if (Long.compareUnsigned(v, max) > 0) {
        throw new IllegalArgumentException(what + " at body offset " + at + " holds " + Long.toUnsignedString(v)
            + ", more than its type's maximum " + max);
      }
      return v;
    }

    /** Reads a variable-length signed integer. */
    long signed(String what) {
      long v = unsigned(what);
      return (v >>> 1) ^ -(v & 1);
    }

    /** Reads a variable-length unsigned integer without moving past it. */
    long peekUnsigned(String what) {
      if (p >= end) {
        throw new IllegalArgumentException("the body ends (at offset " + p + ") where " + what + " should start");
      }
      int first = b[p] & 0xff;
      int n = length(b[p]);
      if (n > end - p) {
        throw new IllegalArgumentException(what + " at body offset " + p + " takes " + n + " bytes, but only "
            + (end - p) + " remain");
      }
      if (n == 1) {
        return first >>> 1;
      }
      long rest = 0;
      for (int i = 1; i < n; i++) {
        rest |= (b[p + i] & 0xffL) << (8 * (i - 1));
      }
      return n == 9 ? rest : (first >>> n) | rest << (8 - n);
    }

    private static int length(byte first) {
      return Integer.numberOfTrailingZeros(~first & 0xff | 0x100) + 1;
    }

    /**
     * Reads a GTID tag: a string of at most {@value #TAG_MAX_LENGTH} bytes that is empty or a valid
     * MySQL tag (a letter or underscore, then letters, digits and underscores).
     *
     * @return the tag in lower case, as MySQL prints it
     */
    public String tag(String what) {
      int at = p;
      long n = unsigned(what + " length");
      if (Long.compareUnsigned(n, TAG_MAX_LENGTH) > 0) {
        throw new IllegalArgumentException(what + " at body offset " + at + " declares " + Long.toUnsignedString(n)
            + " bytes; a tag has at most " + TAG_MAX_LENGTH);
      }
      if (n > end - p) {
        throw new IllegalArgumentException(what + " at body offset " + at + " declares " + n + " bytes, but only "
            + (end - p) + " remain");
      }
      StringBuilder sb = new StringBuilder((int) n);
      for (int i = 0; i < n; i++) {
        char c = (char) (b[p + i] & 0xff);
        boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
          throw new IllegalArgumentException(what + " at body offset " + at + " is not a valid tag: byte " + i
              + " is 0x" + Integer.toHexString(c));
        }
        sb.append(c);
      }
      p += (int) n;
      return sb.toString().toLowerCase(Locale.ROOT);
    }
  }
}
