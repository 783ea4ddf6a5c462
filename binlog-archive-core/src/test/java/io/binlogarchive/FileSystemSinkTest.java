package io.binlogarchive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("FileSystemSink")
class FileSystemSinkTest extends SinkCompatibilityKit {
  @TempDir Path dir;

  @Override
  protected Sink newSink() {
    return FileSystemSink.of(dir.resolve("archive"));
  }

  @Test
  @DisplayName("keeps an uncommitted upload under a hidden temporary name only")
  void noPartialUnderFinalName() throws IOException {
    try (SinkWriter w = sink.create("a/b/obj", Map.of())) {
      w.write(new byte[1000]);
      Path archive = dir.resolve("archive");
      assertThat(Files.exists(archive.resolve("a/b/obj"))).isFalse();
      try (Stream<Path> files = Files.list(archive.resolve("a/b"))) {
        assertThat(files.map(p -> p.getFileName().toString()))
            .singleElement()
            .satisfies(n -> assertThat(n).startsWith(".obj.").endsWith(".part"));
      }
    }
    try (Stream<Path> files = Files.list(dir.resolve("archive/a/b"))) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  @DisplayName("rejects keys that would escape its root")
  void rejectsEscapingKeys() {
    for (String bad : new String[] {"../x", "a/../../x", "/abs", "a//b", "a/./b", ""}) {
      assertThatThrownBy(() -> sink.create(bad, Map.of())).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
