package io.binlogarchive.examples;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The workload the distribution's launcher ({@code bin/binlog-archive}) records once per Java
 * runtime with {@code -XX:DumpLoadedClassList}, then dumps into a class-data-sharing archive, so
 * that later runs start faster (measured in BENCHMARKS.md). It archives the last two binlogs of a
 * sample directory into a scratch archive, runs the archive again (nothing to do), lists it with
 * {@code status}, fetches it back with {@code restore fetch} and prints the help, all with their
 * output discarded: the classes of the everyday commands end up in the archive. Not a command of
 * its own; nothing here is public.
 *
 * <p>Arguments: a scratch directory (must exist; the launcher removes it) and the sample binlog
 * directory with its {@code mysql-bin.index}, which may be missing (then only the empty runs).
 */
final class CdsTraining {
  private CdsTraining() {}

  public static void main(String[] args) throws IOException {
    Path work = Path.of(args[0]);
    Path binlogs = Files.createDirectories(work.resolve("binlogs"));
    Path sample = args.length > 1 ? Path.of(args[1]) : null;
    if (sample != null && Files.isRegularFile(sample.resolve("mysql-bin.index"))) {
      List<String> names = new ArrayList<>();
      for (String line : Files.readAllLines(sample.resolve("mysql-bin.index"))) {
        if (!line.isBlank()) {
          names.add(Path.of(line.trim()).getFileName().toString());
        }
      }
      List<String> last = names.subList(Math.max(0, names.size() - 2), names.size());
      for (String n : last) {
        Files.copy(sample.resolve(n), binlogs.resolve(n));
      }
      Files.write(binlogs.resolve("mysql-bin.index"), last.stream().map(n -> "./" + n).toList());
    }
    PrintStream none = new PrintStream(OutputStream.nullOutputStream());
    Main main = new Main(none, none, name -> null);
    String archive = "file://" + work.toAbsolutePath().resolve("archive");
    String[] run = {"archive", "--binlog-dir", binlogs.toString(), "--to", archive,
        "--cursor", work.resolve("cursor.json").toString()};
    main.run(run);
    main.run(run);
    main.run(new String[] {"status", "--from", archive});
    main.run(new String[] {"restore", "fetch", "--from", archive, "--to-dir", work.resolve("fetched").toString()});
    main.run(new String[] {"--help"});
  }
}
