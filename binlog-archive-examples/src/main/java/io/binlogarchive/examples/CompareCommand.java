package io.binlogarchive.examples;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.restore.ArchiveComparison;
import io.binlogarchive.NotFoundException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code compare --from URI [--server-id ID] [--timeline T] (--with URI [--with-server-id ID]
 * | --manifest FILE)}: lists binlogs missing on either side or with a different SHA-256. Exit 0 when
 * both agree, 4 when they differ.
 */
@Command(name = "compare", description = {"Compares two archives, or an archive and a manifest.",
    "Lists binlogs missing on either side or with a different SHA-256; exit 4 when they differ."})
final class CompareCommand extends CliCommand {
  static final int DIFFERENT = 4;

  @Option(names = "--from", required = true, paramLabel = "URI", description = "the left archive")
  String from;

  @Option(names = "--server-id", paramLabel = "ID", description = "the server (default: default)")
  String serverId = "default";

  @Option(names = "--timeline", paramLabel = "T", description = "one timeline (default: all)")
  String timeline;

  @ArgGroup(exclusive = true, validate = false, multiplicity = "1", heading = "Right side (one of):%n")
  Right right;

  @Mixin CliOptions.Store store;

  static final class Right implements CliOptions.OneOf {
    @ArgGroup(exclusive = false, validate = false)
    With with;

    static final class With {
      @Option(names = "--with", required = true, paramLabel = "URI", description = "another archive")
      String uri;

      @Option(names = "--with-server-id", paramLabel = "ID", description = "its server (default: --server-id)")
      String serverId;
    }

    @Option(names = "--manifest", paramLabel = "FILE", description = "a manifest: one 'SHA256  FILE' line per binlog")
    String manifest;
  }

  @Override
  int execute() throws IOException {
    Right rt = right == null ? new Right() : right;
    String withUri = rt.with == null ? null : rt.with.uri;
    if ((withUri != null) == (rt.manifest != null)) {
      throw new UsageException("compare needs exactly one of --with URI or --manifest FILE");
    }
    Targets.Target left = Targets.open(from, store.settings());
    try {
      String server = serverId;
      Map<String, String> l = ArchiveComparison.manifest(ArchiveCatalog.of(left.sink(), left.prefix(), server),
          timeline);
      Map<String, String> r;
      String rightName;
      if (rt.manifest != null) {
        Path m = Path.of(rt.manifest);
        if (!Files.isRegularFile(m)) {
          throw new NotFoundException("no such manifest file: " + m);
        }
        try (BufferedReader reader = Files.newBufferedReader(m, StandardCharsets.UTF_8)) {
          r = ArchiveComparison.parseManifest(reader);
        }
        rightName = m.toString();
      } else {
        Targets.Target other = Targets.open(withUri, store.settings());
        try {
          r = ArchiveComparison.manifest(ArchiveCatalog.of(other.sink(), other.prefix(),
              rt.with.serverId == null ? server : rt.with.serverId), timeline);
          rightName = other.uri();
        } finally {
          other.sink().close();
        }
      }
      List<ArchiveComparison.Difference> diff = ArchiveComparison.compare(l, r);
      out().printf("left %s: %d file(s); right %s: %d file(s); %d difference(s)%n", left.uri(), l.size(), rightName,
          r.size(), diff.size());
      diff.forEach(d -> out().println("  " + d));
      return diff.isEmpty() ? 0 : DIFFERENT;
    } finally {
      left.sink().close();
    }
  }
}
