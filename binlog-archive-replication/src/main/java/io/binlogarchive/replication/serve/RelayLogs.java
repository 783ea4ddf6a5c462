package io.binlogarchive.replication.serve;

import io.binlogarchive.replication.internal.BinlogEvents;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Relay-log mode, for a restored server that cannot reach a listener: the fetched binlogs become
 * the server's relay logs, and its SQL thread applies them natively with {@code START SLAVE
 * SQL_THREAD UNTIL} the plan's target (on a transaction boundary, as {@link BinlogServer} stops).
 *
 * <pre>{@code
 * FetchResult fetched = reader.fetch(plan, dataDir);           // the server's data directory
 * RelayLogs relay = RelayLogs.place(fetched, "relay-bin");     // the server runs with --relay-log=relay-bin
 * relay.statements().forEach(System.out::println);            // CHANGE MASTER TO ...; START SLAVE SQL_THREAD UNTIL ...
 * }</pre>
 *
 * <p>The files keep their bytes (the relay log positions are the binlog positions); they are
 * renamed {@code BASE.000001}, {@code BASE.000002}, ... and listed in {@code BASE.index}. The SQL
 * thread stops by itself at the target; then {@code STOP SLAVE; RESET SLAVE ALL}. Tested with
 * MariaDB 10.11, whose relay log index entries are relative to the data directory.
 */
public final class RelayLogs {
  private final String firstRelayLog;
  private final long startPosition;
  private final String stopRelayLog;
  private final long stopPosition;
  private final List<Path> files;

  private RelayLogs(String firstRelayLog, long startPosition, String stopRelayLog, long stopPosition, List<Path> files) {
    this.firstRelayLog = firstRelayLog;
    this.startPosition = startPosition;
    this.stopRelayLog = stopRelayLog;
    this.stopPosition = stopPosition;
    this.files = List.copyOf(files);
  }

  /**
   * Renames the fetched files into relay logs named after {@code baseName} in the fetch's
   * directory and writes {@code baseName.index}; files past the target are left out (and deleted).
   *
   * @param fetched a fetch into the restored server's data directory (stopped replication, no
   *     relay logs of its own)
   * @param baseName the server's {@code --relay-log} name, e.g. {@code relay-bin}
   * @return the placement and the statements to run
   * @throws IOException if the index already exists (the server has relay logs: run {@code RESET
   *     SLAVE ALL} first) or the files cannot be renamed
   */
  public static RelayLogs place(FetchResult fetched, String baseName) throws IOException {
    Objects.requireNonNull(fetched, "fetched");
    if (!baseName.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("a relay log name is letters, digits, '_', '.' and '-', got '" + baseName + "'");
    }
    Path dir = fetched.directory();
    Path index = dir.resolve(baseName + ".index");
    if (Files.exists(index)) {
      throw new IOException(index + " exists: the server has relay logs of its own; run STOP SLAVE; RESET SLAVE ALL"
          + " first (or choose another --relay-log name)");
    }
    RestorePlan plan = fetched.plan();
    List<Path> sources = fetched.files();
    int stopIndex = sources.size() - 1;
    long stop = -1;
    RestoreTarget.Kind kind = plan.target().kind();
    if (plan.stopDatetime() != null) {
      for (int i = 0; i < sources.size() && stop < 0; i++) {
        stop = StopFinder.beforeTime(sources.get(i), i == 0 ? plan.startPosition() : 4, end(plan, i),
            plan.stopDatetime().getEpochSecond());
        stopIndex = i;
      }
      if (stop < 0) {
        stopIndex = sources.size() - 1;
      }
    } else if (kind == RestoreTarget.Kind.GTID) {
      stop = plan.stopPosition();
    } else if (kind == RestoreTarget.Kind.POSITION) {
      stop = StopFinder.atOrBefore(sources.get(stopIndex), stopIndex == 0 ? plan.startPosition() : 4,
          end(plan, stopIndex), plan.target().position());
    }
    List<Path> placed = new ArrayList<>();
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < sources.size(); i++) {
      if (i > stopIndex) {
        Files.deleteIfExists(sources.get(i));
        continue;
      }
      String name = String.format(Locale.ROOT, "%s.%06d", baseName, i + 1);
      Path target = dir.resolve(name);
      Files.move(sources.get(i), target);
      placed.add(target);
      lines.append("./").append(name).append('\n');
    }
    Files.writeString(index, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
    if (stop < 0) {
      stop = lastNonTransactionalEvent(placed.get(placed.size() - 1));
    }
    String stopName = String.format(Locale.ROOT, "%s.%06d", baseName, stopIndex + 1);
    return new RelayLogs(String.format(Locale.ROOT, "%s.%06d", baseName, 1), plan.startPosition(),
        stopName, stop, placed);
  }

  /** Where file {@code i}'s last complete event ends, from its sidecar. */
  private static long end(RestorePlan plan, int i) {
    io.binlogarchive.Sidecar s = plan.files().get(i);
    return s.binlog() != null && s.binlog().endPosition() > 0 ? s.binlog().endPosition() : s.size();
  }

  /**
   * The offset of the file's closing ROTATE or STOP event, where {@code UNTIL} stops the SQL thread
   * with every transaction applied (an {@code UNTIL} at the very end never triggers: the SQL thread
   * moves on to the next, empty, relay log); -1 if the file does not end with one (a crashed file).
   */
  private static long lastNonTransactionalEvent(Path file) throws IOException {
    long offset = -1;
    int type = -1;
    try (EventReader r = new EventReader(file, 4)) {
      while (r.next()) {
        offset = r.offset();
        type = BinlogEvents.type(r.buffer(), 0);
      }
    }
    return type == BinlogEvents.ROTATE || type == BinlogEvents.STOP ? offset : -1;
  }

  /** @return the relay logs, in order */
  public List<Path> files() {
    return files;
  }

  /** @return the relay log where the SQL thread stops */
  public String stopRelayLog() {
    return stopRelayLog;
  }

  /**
   * @return the position in {@link #stopRelayLog()} where it stops (for the latest point, its
   *     closing ROTATE or STOP event), or -1 if it cannot stop by itself (the last file was left by
   *     a crash): then wait for "Slave has read all relay log"
   */
  public long stopPosition() {
    return stopPosition;
  }

  /**
   * @return {@code CHANGE MASTER TO} (a placeholder source: the I/O thread is never started) at the
   *     plan's start, and {@code START SLAVE SQL_THREAD UNTIL} the target (for the latest point, the
   *     last file's closing ROTATE or STOP), where the SQL thread stops by itself
   */
  public List<String> statements() {
    String change = "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=1, MASTER_USER='relay-log-mode',"
        + " MASTER_USE_GTID=no, RELAY_LOG_FILE='" + firstRelayLog + "', RELAY_LOG_POS=" + startPosition;
    String start = "START SLAVE SQL_THREAD" + (stopPosition < 0 ? ""
        : " UNTIL RELAY_LOG_FILE='" + stopRelayLog + "', RELAY_LOG_POS=" + stopPosition);
    return List.of(change, start);
  }
}
