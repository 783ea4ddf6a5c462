package io.binlogarchive.examples;

import io.binlogarchive.ArchiveCatalog;
import io.binlogarchive.ArchiveComparison;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code compare --from URI [--server-id ID] [--timeline T] (--with URI [--with-server-id ID]
 * | --manifest FILE)}: lists binlogs missing on either side or with a different SHA-256. Exit 0 when
 * both agree, 4 when they differ.
 */
final class CompareCommand {
  static final String USAGE =
      "  compare --from URI [--server-id ID] [--timeline T] (--with URI [--with-server-id ID] | --manifest FILE)";
  static final int DIFFERENT = 4;

  private CompareCommand() {}

  static int run(String[] argv, PrintStream out) throws IOException {
    Args a = new Args(argv, 1, Set.of("--from", "--server-id", "--timeline", "--with", "--with-server-id",
        "--manifest", "--endpoint"), Set.of());
    if (a.has("--with") == a.has("--manifest")) {
      throw new Args.UsageException("compare needs exactly one of --with URI or --manifest FILE");
    }
    Targets.Target left = Targets.open(a.required("--from"), a);
    try {
      String server = a.get("--server-id", "default");
      Map<String, String> l = ArchiveComparison.manifest(ArchiveCatalog.of(left.sink(), left.prefix(), server),
          a.get("--timeline"));
      Map<String, String> r;
      String rightName;
      if (a.has("--manifest")) {
        Path m = Path.of(a.get("--manifest"));
        if (!Files.isRegularFile(m)) {
          throw new io.binlogarchive.NotFoundException("no such manifest file: " + m);
        }
        try (var reader = Files.newBufferedReader(m, StandardCharsets.UTF_8)) {
          r = ArchiveComparison.parseManifest(reader);
        }
        rightName = m.toString();
      } else {
        Targets.Target right = Targets.open(a.get("--with"), a);
        try {
          r = ArchiveComparison.manifest(ArchiveCatalog.of(right.sink(), right.prefix(),
              a.get("--with-server-id", server)), a.get("--timeline"));
          rightName = right.uri();
        } finally {
          right.sink().close();
        }
      }
      List<ArchiveComparison.Difference> diff = ArchiveComparison.compare(l, r);
      out.printf("left %s: %d file(s); right %s: %d file(s); %d difference(s)%n", left.uri(), l.size(), rightName,
          r.size(), diff.size());
      diff.forEach(d -> out.println("  " + d));
      return diff.isEmpty() ? 0 : DIFFERENT;
    } finally {
      left.sink().close();
    }
  }
}
