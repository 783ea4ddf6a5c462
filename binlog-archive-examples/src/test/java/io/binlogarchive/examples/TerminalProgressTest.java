package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The terminal progress bar")
class TerminalProgressTest {
  @Test
  @DisplayName("counts the bytes of finished files against the expected total, in MiB")
  void countsBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    try (TerminalProgress bar = new TerminalProgress("fetch", 8L << 20, err)) {
      bar.step(2L << 20);
      bar.step(2L << 20);
      assertThat(bar.done()).isEqualTo(4L << 20);
    }
    String drawn = bytes.toString(StandardCharsets.UTF_8);
    assertThat(drawn).contains("fetch", "50%", "4/8MiB");
  }

  @Test
  @DisplayName("is never drawn on a stream other than this process's stderr (tests, redirected output)")
  void notOnOtherStreams() {
    assertThat(Main.isTerminal(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))).isFalse();
    assertThat(Main.Progress.forStderr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)))
        .isNotInstanceOf(TerminalProgress.Archive.class);
  }
}
