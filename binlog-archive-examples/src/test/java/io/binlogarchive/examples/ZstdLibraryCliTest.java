package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's copy of zstd-jni's native library ({@link CdsTraining#copyZstdLibrary}, passed as
 * {@code -DZstdNativePath}): a run loads it instead of unpacking the jar's, and a copy that does not
 * load costs nothing but the time: the jar's library is loaded as before.
 */
class ZstdLibraryCliTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("archive compresses with zstd through the kept copy of the library")
  void keptCopyIsLoaded() throws Exception {
    Path lib = tmp.resolve("zstd-jni.so");
    CdsTraining.copyZstdLibrary(lib);
    assertThat(lib).isRegularFile();
    assertThat(Files.size(lib)).isGreaterThan(100_000);

    archive("-DZstdNativePath=" + lib);
  }

  @Test
  @DisplayName("a kept copy that does not load (damaged, missing) falls back to the jar's library")
  void damagedCopyFallsBack() throws Exception {
    Path damaged = Files.write(tmp.resolve("damaged.so"), new byte[4096]);
    archive("-DZstdNativePath=" + damaged);
    archive("-DZstdNativePath=" + tmp.resolve("missing.so"));
  }

  /** Archives the sample in a child JVM with {@code jvmOption}; it must exit 0 and write zstd artifacts. */
  private void archive(String jvmOption) throws IOException, InterruptedException {
    Path archive = Files.createTempDirectory(tmp, "archive");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:TieredStopAtLevel=1", jvmOption, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "archive", "--binlog-dir", Path.of("sample").toAbsolutePath().toString(),
        "--to", "file://" + archive, "--cursor", archive.resolve("cursor.json").toString()));
    Path err = archive.resolve("err.txt");
    Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
    assertThat(p.waitFor()).as(Files.readString(err)).isZero();
    try (Stream<Path> files = Files.walk(archive)) {
      assertThat(files.filter(f -> f.toString().endsWith(".zst")).count()).as("zstd artifacts").isEqualTo(4);
    }
  }
}
