package io.binlogarchive.examples;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.Sidecar;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code status}: what the archive holds, per server and timeline, and (with the lag options) how far behind it is. */
@Command(name = "status", description = {"Lists the archived binlogs per server and timeline, and the live position"
    + " (the newest segment past them, from stream).",
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
          out().printf(Main.FORMAT, "server %s timeline %s: %d file(s), %s -> %s%n", server, timeline, sidecars.size(),
              Main.bytes(total), Main.bytes(stored));
          out().printf(Main.FORMAT, "  %-22s %12s %12s %-6s %-10s %-20s %s%n", "FILE", "SIZE", "STORED", "CODEC",
              "KEY_ID", "LAST_EVENT", "SHA256");
          for (Sidecar s : sidecars) {
            BinlogInfo info = s.binlog();
            out().printf(Main.FORMAT, "  %-22s %12d %12d %-6s %-10s %-20s %s%n", s.file(), s.size(),
                s.artifact().size(), s.artifact().codec(), s.artifact().keyId() == null ? "-" : s.artifact().keyId(),
                info == null || info.lastEventTime() == null ? "-" : info.lastEventTime().toString(), s.sha256());
          }
          long lastWhole = sidecars.isEmpty() ? -1 : sidecars.get(sidecars.size() - 1).sequence();
          Optional<Sidecar> live = catalog.newestSegment(timeline).filter(g -> g.sequence() > lastWhole);
          if (live.isPresent()) {
            Sidecar g = live.get();
            out().printf(Main.FORMAT, "  live position: %s up to offset %d (segment stored %s ago%s)%n", g.file(),
                g.segment().end(), LagStatus.human(Duration.between(g.archivedAt(), Instant.now())),
                g.segment().lastCommitTime() == null ? "" : ", last commit " + g.segment().lastCommitTime());
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
