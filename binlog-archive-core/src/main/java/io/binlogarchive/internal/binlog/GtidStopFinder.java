package io.binlogarchive.internal.binlog;

import static io.binlogarchive.internal.binlog.BinlogBytes.s64;
import static io.binlogarchive.internal.binlog.BinlogBytes.u32;
import static io.binlogarchive.internal.binlog.BinlogBytes.uuid;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.binlog.GtidSet;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds, in a fetched plaintext binlog, where replay must stop so that it includes the transaction
 * completing a GTID target and nothing after it: the offset of the next transaction's GTID event,
 * which {@code --stop-position} (of {@code mariadb-binlog} and {@code mysqlbinlog} alike) excludes.
 */
public final class GtidStopFinder {
  private static final int MYSQL_GTID = 33;
  private static final int MYSQL_ANONYMOUS_GTID = 34;
  private static final int MYSQL_TAGGED_GTID = 42;
  private static final int MARIADB_GTID = 162;

  private GtidStopFinder() {}

  /**
   * @param file the plaintext binlog (the plan's last file)
   * @param state the GTID state at the start of the file
   * @param target the target
   * @param maria whether it is a MariaDB binlog
   * @return the stop position, or -1 if the completing transaction is the file's last
   * @throws ArchiveException if no transaction of the file completes the target
   */
  public static long find(Path file, GtidSet state, GtidSet target, boolean maria) throws IOException {
    boolean reached = false;
    byte[] header = new byte[19];
    byte[] body = new byte[32];
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      if (in.readNBytes(header, 0, 4) != 4) {
        throw new InvalidBinlogException(file + " is too short to be a binlog");
      }
      long pos = 4;
      while (true) {
        int n = in.readNBytes(header, 0, 19);
        if (n == 0) {
          break;
        }
        if (n < 19) {
          throw new InvalidBinlogException(file + " ends inside an event header at offset " + pos);
        }
        int type = header[4] & 0xff;
        long serverId = u32(header, 5);
        long size = u32(header, 9);
        if (size < 19) {
          throw new InvalidBinlogException(file + " has an event of " + size + " bytes at offset " + pos);
        }
        boolean gtidEvent = type == MYSQL_GTID || type == MYSQL_ANONYMOUS_GTID || type == MARIADB_GTID
            || type == MYSQL_TAGGED_GTID;
        if (gtidEvent && reached) {
          return pos;
        }
        long rest = size - 19;
        if (type == MARIADB_GTID || type == MYSQL_GTID) {
          int need = type == MARIADB_GTID ? 12 : 25;
          if (rest < need || in.readNBytes(body, 0, need) != need) {
            throw new InvalidBinlogException(file + " has a truncated GTID event at offset " + pos);
          }
          rest -= need;
          GtidSet gtid;
          if (type == MARIADB_GTID) {
            gtid = GtidSet.parse(u32(body, 8) + "-" + serverId + "-" + Long.toUnsignedString(s64(body, 0)));
          } else {
            gtid = GtidSet.parse(uuid(body, 1) + ":" + s64(body, 17));
          }
          state = GtidState.plus(state, gtid, maria);
          reached = GtidState.reached(state, target, maria);
        } else if (type == MYSQL_TAGGED_GTID) {
          // the body and its checksum, if any: the codec needs the body's exact length
          if (rest > TaggedGtidCodec.MAX_BODY + 4) {
            throw new InvalidBinlogException(file + " has a GTID_TAGGED_LOG_EVENT of " + size + " bytes at offset " + pos
                + ", more than the scanner's limit");
          }
          byte[] tagged = in.readNBytes((int) rest);
          if (tagged.length != rest) {
            throw new InvalidBinlogException(file + " ends inside the event at offset " + pos);
          }
          rest = 0;
          TaggedGtidCodec.TaggedGtid g = decodeTagged(file, pos, tagged);
          String source = uuid(g.uuid(), 0) + (g.tag().isEmpty() ? "" : ":" + g.tag());
          state = GtidState.plus(state, GtidSet.parse(source + ":" + g.gno()), maria);
          reached = GtidState.reached(state, target, maria);
        }
        try {
          in.skipNBytes(rest);
        } catch (java.io.EOFException e) {
          throw new InvalidBinlogException(file + " ends inside the event at offset " + pos);
        }
        pos += size;
      }
    }
    if (reached) {
      return -1;
    }
    throw new ArchiveException("no transaction of " + file.getFileName() + " completes GTID [" + target
        + "]; the file ends at GTID state [" + GtidState.text(state, maria) + "]");
  }

  /**
   * Decodes a tagged GTID event's body, which ends with a 4-byte checksum or, in a binlog written
   * with {@code binlog_checksum=NONE}, does not: the message's own size field tells which.
   */
  private static TaggedGtidCodec.TaggedGtid decodeTagged(Path file, long pos, byte[] bodyAndChecksum) {
    TaggedGtidCodec.TaggedGtid g = null;
    IllegalArgumentException first = null;
    for (int len : new int[] {bodyAndChecksum.length - 4, bodyAndChecksum.length}) {
      if (len < 0) {
        continue;
      }
      try {
        g = TaggedGtidCodec.decodeEvent(bodyAndChecksum, len);
        break;
      } catch (IllegalArgumentException e) {
        first = first == null ? e : first;
      }
    }
    if (g == null && first != null) {
      throw new InvalidBinlogException(file + ": invalid GTID_TAGGED_LOG_EVENT at offset " + pos + ": " + first.getMessage());
    }
    if (g == null) {
      throw new ArchiveException(file + " holds a GTID_TAGGED_LOG_EVENT at offset " + pos + " in an encoding newer than"
          + " MySQL 9.x writes, among which a GTID target cannot be found; restore to a time or position instead");
    }
    return g;
  }
}
