package io.binlogarchive.restore;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.Json;
import io.binlogarchive.internal.binlog.BinlogNames;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A base backup (a dump or a physical copy, stored wherever the caller keeps it) and the binlog
 * coordinates it was taken at: the point from which archived binlogs are replayed. Registered in
 * the archive as {@code <prefix>/<server-id>/backups/<name>.json} by {@link
 * ArchiveMaintenance#registerBaseBackup(BaseBackup)}.
 *
 * @param name the backup's name: letters, digits and {@code . _ : -}
 * @param file the binlog file that was being written when the backup was taken, e.g. {@code
 *     mysql-bin.000042} ({@code MASTER_LOG_FILE} of {@code mariadb-dump --master-data})
 * @param position the byte position in {@code file} the backup includes everything before ({@code
 *     MASTER_LOG_POS})
 * @param gtid the GTID state the backup includes, or {@code null}: MySQL's executed set ({@code
 *     uuid:1-100}) or MariaDB's position ({@code 0-1-100}, from {@code gtid_slave_pos} / {@code
 *     gtid_binlog_pos})
 * @param takenAt when the backup's snapshot was taken, or {@code null} if unknown
 * @param timeline the archive timeline {@code file} belongs to, or {@code null} to let the reader
 *     find it (the newest timeline holding the file)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BaseBackup(
    @JsonProperty("name") String name,
    @JsonProperty("file") String file,
    @JsonProperty("position") long position,
    @JsonProperty("gtid") String gtid,
    @JsonProperty("taken_at") Instant takenAt,
    @JsonProperty("timeline") String timeline) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,200}");

  /**
   * Validates the fields.
   *
   * @param name the backup's name, not null: 1 to 200 letters, digits and {@code . _ : -}, not
   *     starting with a dot
   * @param file the binlog file that was being written when the backup was taken, not null: a
   *     binlog name like {@code mysql-bin.000042} ({@code MASTER_LOG_FILE} of {@code mariadb-dump
   *     --master-data})
   * @param position the byte position in {@code file} the backup includes everything before ({@code
   *     MASTER_LOG_POS}), at least 4
   * @param gtid the GTID state the backup includes, or {@code null}: MySQL's executed set ({@code
   *     uuid:1-100}) or MariaDB's position ({@code 0-1-100}, from {@code gtid_slave_pos} / {@code
   *     gtid_binlog_pos}); a blank string is taken as {@code null}
   * @param takenAt when the backup's snapshot was taken, or {@code null} if unknown
   * @param timeline the archive timeline {@code file} belongs to, e.g. {@code t0001}, or {@code
   *     null} to let the reader find it (the newest timeline holding the file)
   * @throws IllegalArgumentException if the name, file, position, GTID state or timeline is
   *     malformed
   */
  public BaseBackup {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(file, "file");
    if (!NAME.matcher(name).matches() || name.startsWith(".")) {
      throw new IllegalArgumentException("backup name '" + name + "' may hold only letters, digits and . _ : -");
    }
    if (!BinlogNames.isPlainFileName(file) || BinlogNames.sequence(file) < 0) {
      throw new IllegalArgumentException("backup binlog file '" + file + "' is not a binlog name like mysql-bin.000042");
    }
    if (position < 4) {
      throw new IllegalArgumentException("backup binlog position must be at least 4, got " + position);
    }
    if (gtid != null) {
      if (gtid.isBlank()) {
        gtid = null;
      } else {
        GtidSet.parse(gtid); // rejects malformed sets
      }
    }
    if (timeline != null && !ArchiveLayout.TIMELINE.matcher(timeline).matches()) {
      throw new IllegalArgumentException("not a timeline name: " + timeline);
    }
  }

  /**
   * @param name the backup's name
   * @param file the binlog file of its coordinates
   * @param position the byte position in that file
   * @return a backup with no GTID, time or timeline
   */
  public static BaseBackup of(String name, String file, long position) {
    return new BaseBackup(name, file, position, null, null, null);
  }

  /**
   * @param gtid the GTID state the backup includes (see the record's description)
   * @return a copy with that GTID state
   */
  public BaseBackup withGtid(String gtid) {
    return new BaseBackup(name, file, position, gtid, takenAt, timeline);
  }

  /**
   * @param time when the backup's snapshot was taken
   * @return a copy with that time
   */
  public BaseBackup withTakenAt(Instant time) {
    return new BaseBackup(name, file, position, gtid, time, timeline);
  }

  /**
   * @param timelineName the archive timeline of {@code file}, e.g. {@code t0001}
   * @return a copy bound to that timeline
   */
  public BaseBackup withTimeline(String timelineName) {
    return new BaseBackup(name, file, position, gtid, takenAt, timelineName);
  }

  long sequence() {
    return BinlogNames.sequence(file);
  }

  byte[] toJson() {
    try {
      return Json.MAPPER.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise backup " + name, e);
    }
  }

  static BaseBackup parse(byte[] json, String where) {
    try {
      BaseBackup b = Json.MAPPER.readValue(json, BaseBackup.class);
      if (b == null) {
        throw new IntegrityException("backup record " + where + " is empty");
      }
      return b;
    } catch (IOException | IllegalArgumentException | NullPointerException e) {
      throw new IntegrityException("backup record " + where + " is not valid: " + firstLine(e.getMessage()), e);
    }
  }

  private static String firstLine(String m) {
    String s = String.valueOf(m);
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
