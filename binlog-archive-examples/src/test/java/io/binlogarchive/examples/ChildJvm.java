package io.binlogarchive.examples;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the runner's {@link Main#main} in a child JVM, so its logging configuration is fresh. */
final class ChildJvm {
  private ChildJvm() {}

  static ProcessBuilder builder(Map<String, String> env, String... args) {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    return pb;
  }

  static Process start(String... args) throws IOException {
    return builder(Map.of(), args).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }
}
