package io.binlogarchive.examples;

import io.binlogarchive.FileResult;
import io.binlogarchive.RunSummary;
import java.io.PrintStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar (bytes, rate, ETA when the total is known) on stderr for long work: an archive
 * run, {@code restore fetch}, {@code verify --full}, {@code rewrap}. Drawn only when stderr is a
 * terminal; otherwise (CI, a log file, a test's stream) the commands print one line per file, and
 * this class and the progress bar library are not loaded at all (see {@link Main#isTerminal}).
 */
final class TerminalProgress implements AutoCloseable {
  private final ProgressBar bar;

  /**
   * @param total the bytes expected, or -1 when unknown (no ETA then)
   */
  TerminalProgress(String task, long total, PrintStream err) {
    this.bar = new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(total)
        .setUnit("MiB", 1024 * 1024)
        .showSpeed()
        .setStyle(ProgressBarStyle.ASCII)
        .setUpdateIntervalMillis(250)
        .setConsumer(new ConsoleProgressBarConsumer(err))
        .build();
  }

  /** Counts bytes done. Thread-safe: workers report files as they finish. */
  void step(long bytes) {
    bar.stepBy(bytes);
  }

  /** Raises or lowers the expected total (an archive's backlog grows while it runs). */
  void total(long bytes) {
    bar.maxHint(bytes);
  }

  long done() {
    return bar.getCurrent();
  }

  @Override
  public void close() {
    bar.close();
  }

  /** The archive run's listener on a terminal: a bar per run instead of a line per archived file. */
  static final class Archive extends Main.Progress {
    private TerminalProgress bar;

    Archive(PrintStream err) {
      super(err);
    }

    @Override
    public synchronized void runStarted(int candidates) {
      closeBar();
      bar = new TerminalProgress("archive", -1, err);
    }

    @Override
    public synchronized void backlogMeasured(int files, long bytes) {
      if (bar != null) {
        bar.total(bar.done() + bytes);
      }
    }

    @Override
    public synchronized void fileArchived(FileResult r) {
      if (bar != null) {
        bar.step(r.bytesRead());
      } else {
        super.fileArchived(r);
      }
    }

    @Override
    public synchronized void runFinished(RunSummary summary) {
      closeBar();
    }

    private void closeBar() {
      if (bar != null) {
        bar.close();
        bar = null;
      }
    }
  }
}
