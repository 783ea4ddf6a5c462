package io.binlogarchive.testkit;

import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sink kit against the local-directory sink. It runs here rather than in core because core
 * cannot depend on this module, which depends on core; core's {@code FileSystemSinkTest} keeps
 * what only this sink does.
 */
@DisplayName("FileSystemSink")
class FileSystemSinkCompatibilityTest extends SinkCompatibilityKit {
  @TempDir Path dir;

  @Override
  protected Sink newSink() {
    return FileSystemSink.of(dir.resolve("archive"));
  }
}
