package io.binlogarchive.internal;

import io.binlogarchive.internal.decode.DirectBuffers;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.Semaphore;

/**
 * Starts writing a file's pages to disk while it is still being written ({@code fsync} every 16
 * MiB on a helper thread), so the final {@code fsync} before the rename waits only for the tail.
 * The disk work overlaps decoding instead of following it. Failures surface at {@link #finish()}.
 */
public final class BackgroundFlusher implements AutoCloseable {
  static final long STEP = 16L << 20;

  private final FileChannel channel;
  private final Semaphore signal = new Semaphore(0);
  private final Thread thread;
  private volatile boolean done;
  private volatile IOException failure;
  private long sinceLast;

  public BackgroundFlusher(FileChannel channel, String name) {
    this.channel = channel;
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    try {
      while (true) {
        signal.acquire();
        signal.drainPermits();
        if (done) {
          return;
        }
        channel.force(false);
      }
    } catch (InterruptedException e) {
      // closed
    } catch (IOException e) {
      failure = e;
    }
  }

  /** Counts bytes written; every {@link #STEP} bytes asks the helper for an fsync. */
  public void written(long n) {
    sinceLast += n;
    if (sinceLast >= STEP) {
      sinceLast = 0;
      signal.release();
    }
  }

  /** Stops the helper and reports its failure, if any. The caller still fsyncs at the end. */
  public void finish() throws IOException {
    done = true;
    signal.release();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting for the flusher");
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Stops the helper and waits (at most {@link DirectBuffers#JOIN_MILLIS}) for it to end. */
  @Override
  public void close() {
    done = true;
    thread.interrupt();
    try {
      thread.join(DirectBuffers.JOIN_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
