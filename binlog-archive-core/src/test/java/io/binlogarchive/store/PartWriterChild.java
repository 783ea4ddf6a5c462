package io.binlogarchive.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * A writer in another process for {@link FileSystemSinkTest}: starts an upload, writes a little,
 * prints {@code writing} and waits until it is killed (or stdin closes). Args: archive directory, key.
 */
public final class PartWriterChild {
  private PartWriterChild() {}

  public static void main(String[] args) throws Exception {
    SinkWriter w = FileSystemSink.of(Path.of(args[0])).create(args[1], Map.of());
    w.write(new byte[] {1, 2, 3});
    System.out.write("writing\n".getBytes(StandardCharsets.UTF_8));
    System.out.flush();
    System.in.read();
    w.abort();
  }
}
