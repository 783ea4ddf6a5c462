package io.binlogarchive.replication.serve;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.Sidecar;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plan's files, fetched ahead of the replica into a bounded local spool: a few files at a
 * time, in parallel, each through {@link ArchiveReader#fetch} (download, decrypt, decompress, and
 * its SHA-256 proven against the sidecar before it gets its name). A file the live stream archived
 * only as segments (the open file after the last closed one) is fetched as its segments
 * concatenated, each proven against its own sidecar. A file is handed out only once it is proven,
 * with the offset where serving must stop in it; files behind the replica are deleted.
 */
final class ArchiveFeed implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(ArchiveFeed.class);

  /**
   * A proven file, where serving it stops (-1: its end), and where its last complete event ends
   * (before a crash's torn tail, if any).
   */
  record Ready(Path path, long stop, long end) {}

  /** How many bytes the spool's file system can take; a seam for tests. */
  @FunctionalInterface
  interface UsableSpace {
    long of(Path directory) throws IOException;
  }

  private final ArchiveReader reader;
  private final RestorePlan plan;
  private final List<Sidecar> files;
  private final Path spool;
  private final int prefetch;
  private final UsableSpace usableSpace;
  private final ExecutorService pool;
  private final Map<Integer, Future<Ready>> fetches = new HashMap<>();

  ArchiveFeed(ArchiveReader reader, RestorePlan plan, Path spool, int prefetch, int parallelism, UsableSpace usableSpace)
      throws IOException {
    this.reader = reader;
    this.plan = plan;
    this.files = plan.files();
    this.spool = Files.createDirectories(spool);
    this.prefetch = prefetch;
    this.usableSpace = usableSpace;
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "binlog-archive-serve-fetch-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  RestorePlan plan() {
    return plan;
  }

  int size() {
    return files.size();
  }

  Sidecar sidecar(int i) {
    return files.get(i);
  }

  /** @return the plan index of {@code file}, or -1 */
  int indexOf(String file) {
    for (int i = 0; i < files.size(); i++) {
      if (files.get(i).file().equals(file)) {
        return i;
      }
    }
    return -1;
  }

  /** Where serving file {@code i} may start: the plan's start position in the first, else 4. */
  long firstPosition(int i) {
    return i == 0 ? plan.startPosition() : 4;
  }

  /**
   * Waits up to {@code timeoutNanos} for file {@code i} to be proven, scheduling it and the next
   * few files first.
   *
   * @return the file, or null if it is not ready within the time
   * @throws IOException if fetching or proving it failed (the message names the object)
   */
  Ready await(int i, long timeoutNanos) throws IOException, InterruptedException {
    Future<Ready> f;
    synchronized (this) {
      schedule(i);
      f = fetches.get(i);
    }
    try {
      return f.get(timeoutNanos, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      return null;
    } catch (ExecutionException e) {
      synchronized (this) {
        fetches.remove(i, f); // a later attempt (a reconnecting replica) fetches again
      }
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw io;
      }
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException("fetching " + files.get(i).file() + " failed: " + c, c);
    }
  }

  /** Deletes the spooled files before {@code i}: the replica has moved past them. */
  synchronized void release(int i) {
    for (int j = 0; j < i; j++) {
      Future<Ready> f = fetches.get(j);
      if (f != null && f.isDone()) {
        fetches.remove(j);
        deleteQuietly(spool.resolve(files.get(j).file()));
      }
    }
  }

  private void schedule(int i) throws IOException {
    long inFlight = 0;
    for (Map.Entry<Integer, Future<Ready>> e : fetches.entrySet()) {
      if (!e.getValue().isDone()) {
        inFlight += files.get(e.getKey()).size();
      }
    }
    for (int j = i; j < Math.min(files.size(), i + prefetch); j++) {
      if (fetches.containsKey(j)) {
        continue;
      }
      long need = files.get(j).size();
      long usable = usableSpace.of(spool);
      if (inFlight + need > usable) {
        if (j == i && inFlight == 0) {
          throw new ArchiveException("not enough free space in the spool " + spool + " for " + files.get(j).file()
              + ": it needs " + need + " bytes but only " + usable + " are usable; free some space or give another"
              + " spool directory");
        }
        break; // fetched later, once the files ahead of it are consumed
      }
      inFlight += need;
      int index = j;
      fetches.put(j, pool.submit(() -> fetch(index)));
    }
  }

  private Ready fetch(int i) throws IOException {
    Sidecar s = files.get(i);
    boolean last = i == files.size() - 1;
    RestoreTarget.Kind kind = plan.target().kind();
    // a file archived only as segments (it was open) comes with them: fetched as their concatenation,
    // each segment proven against its own sidecar, and the file named only once all are
    RestorePlan one = new RestorePlan(plan.timeline(), plan.backup(), s.file(), firstPosition(i), plan.startGtids(),
        last && kind == RestoreTarget.Kind.GTID ? plan.target() : RestoreTarget.latest(), List.of(s), s.size(),
        plan.stopDatetime(), last ? plan.stopPosition() : -1, plan.stopAfterGtid(), plan.flavor(), plan.windows(),
        plan.problems(), null, plan.segmentsOf(s.file()));
    FetchResult r = reader.fetch(one, spool);
    Path p = r.files().get(0);
    long end = s.binlog() != null && s.binlog().endPosition() > 0 ? s.binlog().endPosition() : s.size();
    long stop = -1;
    if (plan.stopDatetime() != null) {
      stop = StopFinder.beforeTime(p, firstPosition(i), end, plan.stopDatetime().getEpochSecond());
    } else if (last && kind == RestoreTarget.Kind.GTID) {
      stop = r.plan().stopPosition();
    } else if (last && kind == RestoreTarget.Kind.POSITION) {
      stop = StopFinder.atOrBefore(p, firstPosition(i), end, plan.target().position());
    }
    LOG.atDebug().addKeyValue("binlog_filename", s.file()).log("{} proven and ready to serve{}", s.file(),
        stop < 0 ? "" : ", stopping at offset " + stop);
    return new Ready(p, stop, end);
  }

  @Override
  public void close() throws IOException {
    pool.shutdownNow();
    try {
      pool.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while stopping the fetches");
    }
    synchronized (this) {
      for (Sidecar s : files) {
        deleteQuietly(spool.resolve(s.file()));
        deleteQuietly(spool.resolve("." + s.file() + ".part"));
      }
      fetches.clear();
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.warn("could not delete {} from the spool: {}", p, e.toString());
    }
  }
}
