package io.binlogarchive.restore;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The worker threads of the read side's calls, and how a call waits for them and their results. */
final class ReadWorkers {
  /** The reader's logger, so log configuration that names it keeps working. */
  private static final Logger LOG = LoggerFactory.getLogger(ArchiveReader.class);

  private ReadWorkers() {}

  /** @return a pool of {@code size} daemon threads named {@code <name>-<n>}, for {@link #joinWorkers} */
  static ExecutorService pool(int size, String name) {
    return new WorkerPool(size, name);
  }

  /** A fixed pool of daemon threads that remembers them, so {@link #joinWorkers} can wait for each to end. */
  static final class WorkerPool extends ThreadPoolExecutor {
    final List<Thread> threads = Collections.synchronizedList(new ArrayList<>());

    WorkerPool(int size, String name) {
      super(size, size, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>());
      AtomicInteger n = new AtomicInteger();
      setThreadFactory(r -> {
        Thread t = new Thread(r, name + "-" + n.incrementAndGet());
        t.setDaemon(true);
        threads.add(t);
        return t;
      });
    }
  }

  /**
   * Stops a pool's workers (interrupting them) and waits until every one has ended, however long
   * that takes: a read-side call never returns or throws while its threads still touch the store
   * or the local disk. An interrupt of the caller is kept for after the wait.
   */
  static void joinWorkers(ExecutorService pool) {
    pool.shutdownNow();
    boolean interrupted = false;
    long waited = 0;
    while (true) {
      try {
        if (pool.awaitTermination(10, TimeUnit.SECONDS)) {
          break;
        }
        waited += 10;
        LOG.atWarn().log("still waiting for the workers of {} to end after {} s", pool, waited);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (pool instanceof WorkerPool w) {
      for (Thread t : List.copyOf(w.threads)) {
        while (t.isAlive()) { // terminated already: each thread is only leaving its run method
          try {
            t.join();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  static <T> T await(Future<T> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw io;
      }
      if (c instanceof RuntimeException re) {
        throw re;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new IOException(c);
    }
  }
}
