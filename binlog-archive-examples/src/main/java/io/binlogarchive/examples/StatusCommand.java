package io.binlogarchive.examples;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.Sidecar;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code status}: what the archive holds, per server and timeline, and (with the lag options) how far behind it is. */
@Command(name = "status", description = {"Lists the archived binlogs per server and timeline.",
    "With --cursor, --binlog-dir, --index or --max-age also the lag (exit 3 when stale)."})
final class StatusCommand extends CliCommand {
  @Option(names = "--from", required = true, paramLabel = "URI", description = "the archive")
  String from;

  @Option(names = "--server-id", paramLabel = "ID", description = "one server (default: every server in the archive)")
  String serverId;

  @Mixin LagStatus.Options lag;

  @Mixin CliOptions.Store store;

  @Override
  int execute() throws IOException {
    // (cloud settings such as --endpoint apply to s3:// and gs:// sources)
    Targets.Target target = Targets.open(from, store.settings());
    try {
      List<String> servers = serverId != null ? List.of(serverId) : ArchiveCatalog.serverIds(target.sink(),
          target.prefix());
      if (servers.isEmpty()) {
        out().println("no archive under " + target.uri());
        return lag.maxAge != null ? LagStatus.STALE : 0;
      }
      for (String server : servers) {
        ArchiveCatalog catalog = ArchiveCatalog.of(target.sink(), target.prefix(), server);
        for (String timeline : catalog.timelines()) {
          List<Sidecar> sidecars = catalog.sidecars(timeline);
          long total = sidecars.stream().mapToLong(Sidecar::size).sum();
          long stored = sidecars.stream().mapToLong(s -> s.artifact().size()).sum();
          out().printf(Locale.ROOT, "server %s timeline %s: %d file(s), %s -> %s%n", server, timeline, sidecars.size(),
              Main.bytes(total), Main.bytes(stored));
          out().printf(Locale.ROOT, "  %-22s %12s %12s %-6s %-10s %-20s %s%n", "FILE", "SIZE", "STORED", "CODEC",
              "KEY_ID", "LAST_EVENT", "SHA256");
          for (Sidecar s : sidecars) {
            BinlogInfo info = s.binlog();
            out().printf(Locale.ROOT, "  %-22s %12d %12d %-6s %-10s %-20s %s%n", s.file(), s.size(),
                s.artifact().size(), s.artifact().codec(), s.artifact().keyId() == null ? "-" : s.artifact().keyId(),
                info == null || info.lastEventTime() == null ? "-" : info.lastEventTime().toString(), s.sha256());
          }
        }
      }
      if (lag.requested()) {
        if (servers.size() != 1) {
          throw new UsageException("several servers under " + target.uri() + ": give --server-id for the lag");
        }
        return LagStatus.report(lag, target, servers.get(0), out());
      }
      return 0;
    } finally {
      target.sink().close();
    }
  }
}
