package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code file://} archive costs no cloud SDK: {@code archive} and {@code status} in a child JVM
 * load no class of the AWS or Google SDKs (checked with {@code -Xlog:class+load}), so a one-shot
 * command's start-up pays only for what the chosen store needs.
 */
class LazyLoadingCliTest {
  @TempDir Path tmp;

  @Test
  void fileTargetsLoadNoCloudSdkClasses() throws Exception {
    String archive = "file://" + tmp.resolve("archive");
    List<String> archived = run("archive", "archive", "--binlog-dir", Path.of("sample").toAbsolutePath().toString(),
        "--to", archive, "--cursor", tmp.resolve("cursor.json").toString());
    List<String> listed = run("status", "status", "--from", archive);

    for (List<String> loaded : List.of(archived, listed)) {
      assertThat(loaded).anyMatch(l -> l.contains(" io.binlogarchive.examples.Main "));
      assertThat(loaded).noneMatch(l -> l.contains(" software.amazon.") || l.contains(" com.google.")
          || l.contains(" io.grpc."));
    }
    assertThat(archived).anyMatch(l -> l.contains(" com.github.luben.zstd.")); // it did compress
  }

  /** @return the class-load log of {@code Main args} in a child JVM, which must exit 0 */
  private List<String> run(String name, String... args) throws IOException, InterruptedException {
    Path log = tmp.resolve(name + ".classes");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:TieredStopAtLevel=1", "-Xshare:off", "-Xlog:class+load=info:file=" + log,
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(tmp.resolve(name + ".err").toFile()).start();
    assertThat(p.waitFor()).as(Files.readString(tmp.resolve(name + ".err")) + " (exit code of " + name + ")")
        .isZero();
    return Files.readAllLines(log);
  }
}
