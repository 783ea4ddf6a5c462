package io.binlogarchive.examples;

import io.binlogarchive.ArchiveCatalog;
import io.binlogarchive.ArchiveStatus;
import io.binlogarchive.BinlogSource;
import io.binlogarchive.Cursor;
import io.binlogarchive.Sidecar;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/**
 * The lag part of {@code status}: {@code --cursor FILE}, {@code --binlog-dir DIR} (or {@code
 * --index FILE}) and {@code --max-age SECONDS}. Exit code 3 when the archive is stale, for alerts.
 */
final class LagStatus {
  static final Set<String> VALUED = Set.of("--cursor", "--binlog-dir", "--index", "--max-age");
  static final int STALE = 3;

  private LagStatus() {}

  static boolean requested(Args a) {
    return a.has("--cursor") || a.has("--binlog-dir") || a.has("--index") || a.has("--max-age");
  }

  static int report(Args a, Targets.Target target, String serverId, PrintStream out) throws IOException {
    Path cursor = a.has("--cursor") ? Path.of(a.get("--cursor"))
        : target.sink() instanceof io.binlogarchive.FileSystemSink ? Main.defaultCursor(target, serverId) : null;
    BinlogSource source = a.has("--index") ? BinlogSource.indexFile(Path.of(a.get("--index")))
        : a.has("--binlog-dir") ? BinlogSource.directory(Path.of(a.get("--binlog-dir"))) : null;
    ArchiveStatus s = ArchiveStatus.of(ArchiveCatalog.of(target.sink(), target.prefix(), serverId), cursor, source,
        Clock.systemUTC());
    out.printf(Locale.ROOT, "lag of %s: cursor %s, committed %s ago; newest archived %s; %s%n", serverId,
        s.cursor().map(Cursor::lastSyncedFile).orElse("(none)"),
        s.cursorAge().map(LagStatus::human).orElse("(never)"),
        s.newestArchived().map(Sidecar::file).orElse("(none)"),
        source == null ? "binlogs not checked (give --binlog-dir)"
            : s.lagFiles() + " closed binlog(s), " + Main.bytes(s.lagBytes()) + " not yet archived"
                + s.oldestUnarchivedSince().map(t -> ", oldest closed "
                    + human(Duration.between(t, s.checkedAt())) + " ago").orElse(""));
    if (a.has("--max-age")) {
      Duration max = Duration.ofSeconds(a.intValue("--max-age", 0, 1, Integer.MAX_VALUE));
      if (s.isStale(max, source != null)) {
        out.printf(Locale.ROOT, "STALE: the archive is more than %d s behind%n", max.toSeconds());
        return STALE;
      }
    }
    return 0;
  }

  static String human(Duration d) {
    long s = d.toSeconds();
    return s < 120 ? s + " s" : s < 7200 ? s / 60 + " min" : s / 3600 + " h";
  }
}
