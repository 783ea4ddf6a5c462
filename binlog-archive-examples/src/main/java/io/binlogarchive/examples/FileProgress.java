package io.binlogarchive.examples;

import io.binlogarchive.restore.ArchiveProblem;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.Sidecar;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Fetch and verify progress on stderr: one line per file, or a bar once {@link #bar} is set (on a
 * terminal). Problems are always a line of their own.
 */
final class FileProgress implements ArchiveReader.Listener {
  private final PrintStream err;
  volatile TerminalProgress bar;

  FileProgress(PrintStream err) {
    this.err = err;
  }

  @Override
  public void fileFetched(Sidecar s, Path file, boolean reused, Duration d) {
    TerminalProgress b = bar;
    if (b != null) {
      b.step(s.size());
      return;
    }
    double secs = Math.max(d.toNanos(), 1) / 1e9;
    err.printf(Main.FORMAT, reused ? "kept    %s (already fetched and verified)%n"
        : "fetched %s  %s  %.1f MB/s, SHA-256 verified%n", s.file(), Main.bytes(s.size()),
        s.size() / 1e6 / secs);
  }

  @Override
  public void fileVerified(Sidecar s, ArchiveProblem p) {
    TerminalProgress b = bar;
    if (b != null) {
      b.step(s.size());
    }
    if (p != null) {
      err.printf(Main.FORMAT, "PROBLEM %s: %s%n", s.file(), p.message());
    }
  }

  /** What {@link #barOnTerminal} returns: closing it ends the bar. */
  interface Bar {
    void close();
  }

  /** Draws a bar from now on when stderr is a terminal; close what this returns. */
  Bar barOnTerminal(String task, long total) {
    if (!Main.isTerminal(err)) {
      return () -> { };
    }
    TerminalProgress b = new TerminalProgress(task, total, err);
    bar = b;
    return () -> {
      bar = null;
      b.close();
    };
  }
}
