package io.binlogarchive.examples;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.restore.ArchiveStatus;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.Sidecar;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The lag part of {@code status}: {@code --cursor FILE}, {@code --binlog-dir DIR} (or {@code
 * --index FILE}) and {@code --max-age SECONDS}. Exit code 3 when the archive is stale, for alerts.
 */
final class LagStatus {
  static final int STALE = 3;

  private LagStatus() {}

  /** The lag options of {@code status}, a picocli mixin. */
  static final class Options {
    @Option(names = "--cursor", paramLabel = "FILE", description = "the archiver's cursor (default: the archive's own)")
    String cursor;

    @Option(names = "--binlog-dir", paramLabel = "DIR", description = "count the closed binlogs not yet archived")
    String binlogDir;

    @Option(names = "--index", paramLabel = "FILE", description = "the same from the server's binlog index file")
    String index;

    @Option(names = "--max-age", paramLabel = "SECONDS", description = "exit 3 when the archive is further behind")
    Integer maxAge;

    boolean requested() {
      return cursor != null || binlogDir != null || index != null || maxAge != null;
    }
  }

  static int report(Options a, Targets.Target target, String serverId, PrintStream out) throws IOException {
    Path cursor = a.cursor != null ? Path.of(a.cursor)
        : target.sink() instanceof FileSystemSink ? ArchiveCommand.defaultCursor(target, serverId) : null;
    BinlogSource source = a.index != null ? BinlogSource.indexFile(Path.of(a.index))
        : a.binlogDir != null ? BinlogSource.directory(Path.of(a.binlogDir)) : null;
    ArchiveStatus s = ArchiveStatus.of(ArchiveCatalog.of(target.sink(), target.prefix(), serverId), cursor, source,
        Clock.systemUTC());
    out.printf(Main.FORMAT, "lag of %s: cursor %s, committed %s ago; newest archived %s; %s%n", serverId,
        s.cursor().map(Cursor::lastSyncedFile).orElse("(none)"),
        s.cursorAge().map(LagStatus::human).orElse("(never)"),
        s.newestArchived().map(Sidecar::file).orElse("(none)"),
        source == null ? "binlogs not checked (give --binlog-dir)"
            : s.lagFiles() + " closed binlog(s), " + Main.bytes(s.lagBytes()) + " not yet archived"
                + s.oldestUnarchivedSince().map(t -> ", oldest closed "
                    + human(Duration.between(t, s.checkedAt())) + " ago").orElse(""));
    if (a.maxAge != null) {
      Duration max = Duration.ofSeconds(CliOptions.range("--max-age", a.maxAge, 0, 1, Integer.MAX_VALUE));
      if (s.isStale(max, source != null)) {
        out.printf(Main.FORMAT, "STALE: the archive is more than %d s behind%n", max.toSeconds());
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
