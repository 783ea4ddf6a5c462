package io.binlogarchive.examples;

import com.github.luben.zstd.util.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * <p>Arguments: a scratch directory (must exist; the launcher removes it), the sample binlog
 * directory with its {@code mysql-bin.index}, which may be missing (then only the empty runs), and
 * optionally a file to write zstd-jni's native library for this platform to. The launcher passes
 * that file to later runs as {@code ZstdNativePath}, so they load it directly instead of copying it
 * out of the jar to a temporary file on every start.
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
    Main.startupDefaults();
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
    if (args.length > 2) {
      copyZstdLibrary(Path.of(args[2]));
    }
  }

  /**
   * Copies zstd-jni's native library for this platform, the one it copies out of its jar on every
   * start, to {@code to} (replaced atomically). zstd-jni names that resource in a private method;
   * if it cannot be asked or the copy fails, nothing is written and later runs keep zstd-jni's own
   * way.
   */
  static void copyZstdLibrary(Path to) throws IOException {
    String resource;
    try {
      Method name = Native.class.getDeclaredMethod("resourceName");
      name.setAccessible(true);
      resource = (String) name.invoke(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return;
    }
    Path tmp = to.resolveSibling(to.getFileName() + ".tmp");
    try (InputStream in = Native.class.getResourceAsStream(resource)) {
      if (in != null) {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      Files.deleteIfExists(tmp); // the class-data-sharing archive is made all the same
    }
  }
}
