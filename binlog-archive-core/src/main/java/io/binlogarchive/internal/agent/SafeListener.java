package io.binlogarchive.internal.agent;

import io.binlogarchive.Sidecar;
import io.binlogarchive.ArchiveListener;
import io.binlogarchive.FileResult;
import io.binlogarchive.RunSummary;
import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.store.Cursor;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Shields the pipeline from a listener that throws. */
public final class SafeListener implements ArchiveListener {
  private static final Logger LOG = LoggerFactory.getLogger(SafeListener.class);
  private final ArchiveListener delegate;

  public SafeListener(ArchiveListener delegate) {
    this.delegate = delegate;
  }

  private void guard(String event, Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.warn("archive listener failed on {}: {}", event, e.toString());
    }
  }

  @Override
  public void runStarted(int candidates) {
    guard("runStarted", () -> delegate.runStarted(candidates));
  }

  @Override
  public void fileStarted(BinlogFile file) {
    guard("fileStarted", () -> delegate.fileStarted(file));
  }

  @Override
  public void fileArchived(FileResult result) {
    guard("fileArchived", () -> delegate.fileArchived(result));
  }

  @Override
  public void fileSkipped(FileResult result) {
    guard("fileSkipped", () -> delegate.fileSkipped(result));
  }

  @Override
  public void fileFailed(BinlogFile file, Throwable error) {
    guard("fileFailed", () -> delegate.fileFailed(file, error));
  }

  @Override
  public void retryScheduled(String what, int attempt, Duration delay, Throwable error) {
    guard("retryScheduled", () -> delegate.retryScheduled(what, attempt, delay, error));
  }

  @Override
  public void gapDetected(long afterSequence, long nextSequence) {
    guard("gapDetected", () -> delegate.gapDetected(afterSequence, nextSequence));
  }

  @Override
  public void backlogMeasured(int files, long bytes) {
    guard("backlogMeasured", () -> delegate.backlogMeasured(files, bytes));
  }

  @Override
  public void cursorCommitted(Cursor cursor) {
    guard("cursorCommitted", () -> delegate.cursorCommitted(cursor));
  }

  @Override
  public void standingBy(String leaseKey, String holder) {
    guard("standingBy", () -> delegate.standingBy(leaseKey, holder));
  }

  @Override
  public void runFinished(RunSummary summary) {
    guard("runFinished", () -> delegate.runFinished(summary));
  }

  @Override
  public void segmentArchived(Sidecar segment) {
    guard("segmentArchived", () -> delegate.segmentArchived(segment));
  }

  @Override
  public void segmentFailed(String file, Throwable error) {
    guard("segmentFailed", () -> delegate.segmentFailed(file, error));
  }

  @Override
  public void liveLagMeasured(long bytes, Duration behind) {
    guard("liveLagMeasured", () -> delegate.liveLagMeasured(bytes, behind));
  }
}
