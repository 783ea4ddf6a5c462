package io.binlogarchive.internal.agent;

import static io.binlogarchive.internal.binlog.BinlogBytes.u32;

import io.binlogarchive.Archiver;
import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.internal.binlog.BinlogNames;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the recovery point: runs {@code FLUSH BINARY LOGS} when the active binlog holds a
 * transaction older than {@code maxAge}, so that no committed transaction waits in the open file
 * for longer than that before it can be archived.
 *
 * <p>Cheap on every check: one {@code SHOW MASTER STATUS} (the active file and its end position)
 * and a read of the event headers at the start of that file, only as far as the first transaction
 * event (a few hundred bytes: FORMAT_DESCRIPTION, then PREVIOUS_GTIDS on MySQL or GTID_LIST and
 * BINLOG_CHECKPOINT on MariaDB). The file is empty when no transaction event (GTID, anonymous
 * GTID, MariaDB GTID or QUERY) starts before the end position; otherwise the first one's header
 * timestamp is the oldest unarchived transaction's time. Event timestamps have one-second
 * resolution and are the statement start time, so the measured age errs by up to a second on the
 * side of rotating early. An empty file is never rotated (no one-event files on an idle server).
 * With MariaDB binlog encryption the events after START_ENCRYPTION cannot be read; then the
 * FORMAT_DESCRIPTION timestamp (the file's creation) is used when the file is not empty.
 */
public final class BinlogRotator {
  private static final Logger LOG = LoggerFactory.getLogger(Archiver.class);
  static final int HEADER_LEN = 19;
  static final int FORMAT_DESCRIPTION_EVENT = 15;
  static final int QUERY_EVENT = 2;
  static final int GTID_LOG_EVENT = 33;
  static final int ANONYMOUS_GTID_LOG_EVENT = 34;
  static final int MARIADB_GTID_EVENT = 162;
  static final int MARIADB_START_ENCRYPTION_EVENT = 164;

  private final DataSource dataSource;
  private final Duration maxAge;
  private final Path binlogDir;
  private final Clock clock;
  /** The message of the last check that found the active file missing, warned about once. */
  private String lastMissing;

  public BinlogRotator(DataSource dataSource, Duration maxAge, Path binlogDir, Clock clock) {
    this.dataSource = dataSource;
    this.maxAge = maxAge;
    this.binlogDir = binlogDir;
    this.clock = clock;
  }

  Duration maxAge() {
    return maxAge;
  }

  /** The active binlog as the server reports it. */
  record Active(String file, long position, Optional<Instant> oldestTransaction) {}

  /**
   * Flushes the binary logs if the active one holds a transaction older than the limit.
   *
   * @return how long until the next check is due: the time left before the active file's oldest
   *     transaction reaches the limit, or the whole limit if the file is empty or was just rotated
   */
  Duration maybeRotate() throws IOException {
    Active active;
    try {
      active = active();
    } catch (NotFoundException e) {
      // A live source's spool may not hold the file the server has just started; a wrong directory
      // repeats this for every file, and is warned about once per file.
      Duration soon = maxAge.compareTo(Duration.ofSeconds(1)) < 0 ? maxAge : Duration.ofSeconds(1);
      if (!e.getMessage().equals(lastMissing)) {
        LOG.atWarn().log("{} yet; checking its age again in {} ms (if this goes on, {} is not the server's binlog"
            + " directory)", e.getMessage(), soon.toMillis(), binlogDir);
        lastMissing = e.getMessage();
      }
      return soon;
    }
    lastMissing = null;
    if (active.oldestTransaction().isEmpty()) {
      return maxAge;
    }
    Duration age = Duration.between(active.oldestTransaction().get(), clock.instant());
    if (age.compareTo(maxAge) < 0) {
      return maxAge.minus(age);
    }
    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
      st.execute("FLUSH BINARY LOGS");
    } catch (SQLException e) {
      throw new IOException("FLUSH BINARY LOGS failed (the archiver's user needs the RELOAD or BINLOG ADMIN"
          + " privilege to bound the archive lag): " + e.getMessage(), e);
    }
    LOG.atInfo()
        .addKeyValue("binlog_filename", active.file())
        .addKeyValue("binlog_age_ms", age.toMillis())
        .log("rotated {}: its oldest transaction is {} s old (limit {} s)", active.file(), age.toSeconds(),
            maxAge.toSeconds());
    return maxAge;
  }

  Active active() throws IOException {
    String file;
    long pos;
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
      if (!rs.next()) {
        throw new IOException("SHOW MASTER STATUS returned nothing: binary logging is off on the server");
      }
      file = rs.getString(1);
      pos = rs.getLong(2);
    } catch (SQLException e) {
      throw new IOException("SHOW MASTER STATUS failed (needs REPLICATION CLIENT or BINLOG MONITOR): "
          + e.getMessage(), e);
    }
    if (!BinlogNames.isPlainFileName(file)) {
      throw new InvalidBinlogException("SHOW MASTER STATUS returned '" + file + "', not a binlog file name");
    }
    return new Active(file, pos, oldestTransaction(binlogDir.resolve(file), pos));
  }

  /** Walks event headers from offset 4 up to {@code end}; stops at the first transaction event. */
  static Optional<Instant> oldestTransaction(Path file, long end) throws IOException {
    byte[] h = new byte[HEADER_LEN];
    try (InputStream in = Files.newInputStream(file)) {
      byte[] magic = in.readNBytes(4);
      if (magic.length < 4 || magic[0] != (byte) 0xfe || magic[1] != 'b' || magic[2] != 'i' || magic[3] != 'n') {
        throw new InvalidBinlogException(file + " is not a binlog (bad magic)");
      }
      long pos = 4;
      Instant created = null;
      while (pos < end) {
        if (in.readNBytes(h, 0, h.length) < h.length) {
          return Optional.empty(); // the server has not flushed these bytes to the file yet
        }
        long ts = u32(h, 0);
        int type = h[4] & 0xff;
        long size = u32(h, 9);
        if (size < h.length) {
          throw new InvalidBinlogException(file + ": event at " + pos + " has an impossible size " + size);
        }
        if (type == FORMAT_DESCRIPTION_EVENT) {
          created = Instant.ofEpochSecond(ts);
        }
        switch (type) {
          case QUERY_EVENT, GTID_LOG_EVENT, ANONYMOUS_GTID_LOG_EVENT, MARIADB_GTID_EVENT -> {
            return Optional.of(Instant.ofEpochSecond(ts));
          }
          case MARIADB_START_ENCRYPTION_EVENT -> {
            // what follows is encrypted; anything after this event's end is a transaction
            return pos + size < end && created != null ? Optional.of(created) : Optional.empty();
          }
          default -> {
            // header events: FORMAT_DESCRIPTION, PREVIOUS_GTIDS, GTID_LIST, BINLOG_CHECKPOINT
          }
        }
        in.skipNBytes(size - h.length);
        pos += size;
      }
      return Optional.empty();
    } catch (NoSuchFileException e) {
      throw new NotFoundException("the active binlog " + file.getFileName() + " is not in " + file.getParent());
    } catch (java.io.EOFException e) {
      return Optional.empty();
    }
  }
}
