package io.binlogarchive.internal.pipeline;

import io.binlogarchive.Archiver;
import io.binlogarchive.ChainBreakException;
import io.binlogarchive.FileResult;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of the archiver: plan, archive files (several in flight), commit the cursor in order.
 * This class chooses the timeline, runs the files and commits; {@code FileArchiver} archives each.
 */
public final class ArchivePipeline {
  private static final Logger LOG = LoggerFactory.getLogger(Archiver.class);
  public static final String VERSION = "binlog-archive/0.1.0";

  private final PipelineSettings a;
  /** Archives one file; several run at once. */
  private final FileArchiver files;
  /** path|size|mtime|sha of the cursor's local file last proven unchanged, to hash it once. */
  private volatile String checkedCursorFile;

  public ArchivePipeline(PipelineSettings settings) {
    this.a = settings;
    this.files = new FileArchiver(settings);
  }

  /** @return the settings this pipeline runs with */
  public PipelineSettings settings() {
    return a;
  }

  public RunSummary run() {
    long started = System.nanoTime();
    List<FileResult> results = new ArrayList<>();
    Optional<Cursor> cursor = Optional.empty();
    Throwable failure = null;
    BinlogFile failedFile = null;
    try {
      cursor = a.cursorStore().load();
      List<BinlogFile> closed = a.source().closedFiles();
      measureBacklog(cursor, closed); // before any store call, so an outage still reports the lag
      if (cursor.isPresent()) {
        requireCursorInArchive(cursor.get());
      }
      String timeline = chooseTimeline(cursor, closed);
      List<BinlogFile> todo = new ArrayList<>();
      boolean sameTimeline = cursor.isPresent() && cursor.get().timeline().equals(timeline);
      for (BinlogFile f : closed) {
        if (!sameTimeline || f.sequence() > cursor.get().sequence()) {
          todo.add(f);
        }
      }
      if (sameTimeline && !todo.isEmpty() && todo.get(0).sequence() > cursor.get().sequence() + 1) {
        long after = cursor.get().sequence();
        long next = todo.get(0).sequence();
        LOG.atError()
            .addKeyValue("binlog_filename", todo.get(0).name())
            .log("binlogs after sequence {} up to {} were purged from the server before they were archived;"
                + " the archive has a gap there", after, next);
        a.listener().gapDetected(after, next);
      }
      a.listener().runStarted(todo.size());
      long backlogBytes = 0;
      for (BinlogFile f : todo) {
        backlogBytes += sizeOrZero(f);
      }
      LOG.atInfo()
          .addKeyValue("candidates", todo.size())
          .addKeyValue("timeline", timeline)
          .log("archive run: {} closed binlog(s) past the cursor, {} -> {}", todo.size(), a.source().describe(),
              a.sink().describe());
      RunState state = new RunState(results, cursor);
      state.backlogFiles = todo.size();
      state.backlogBytes = backlogBytes;
      try {
        process(todo, timeline, state);
      } finally {
        cursor = state.cursor;
        failure = state.failure;
        failedFile = state.failedFile;
      }
    } catch (IOException | RuntimeException e) {
      failure = e;
    }
    if (failure != null) {
      LOG.atError()
          .addKeyValue("binlog_filename", failedFile == null ? null : failedFile.name())
          .log("archive run stopped: {}", failure.getMessage());
    }
    RunSummary summary =
        new RunSummary(results, cursor, failure, failedFile, Duration.ofNanos(System.nanoTime() - started));
    a.listener().runFinished(summary);
    return summary;
  }

  private static final class RunState {
    final List<FileResult> results;
    Optional<Cursor> cursor;
    Throwable failure;
    BinlogFile failedFile;
    int backlogFiles;
    long backlogBytes;

    RunState(List<FileResult> results, Optional<Cursor> cursor) {
      this.results = results;
      this.cursor = cursor;
    }
  }

  private void process(List<BinlogFile> todo, String timeline, RunState state) throws IOException {
    if (todo.isEmpty()) {
      return;
    }
    AtomicInteger threadNo = new AtomicInteger();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            a.parallelism(),
            r -> {
              Thread t = new Thread(r, "binlog-archive-" + threadNo.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    ArrayDeque<Future<FileResult>> inFlight = new ArrayDeque<>();
    ArrayDeque<BinlogFile> inFlightFiles = new ArrayDeque<>();
    int next = 0;
    boolean stop = false;
    try {
      while (!inFlight.isEmpty() || (!stop && !a.stopRequested() && next < todo.size())) {
        while (!stop && !a.stopRequested() && next < todo.size() && inFlight.size() < a.parallelism()) {
          BinlogFile f = todo.get(next++);
          // A newer closed binlog means the server finished with this one, whatever its header says
          boolean newerClosed = todo.get(todo.size() - 1).sequence() > f.sequence();
          inFlight.add(pool.submit(() -> files.archive(f, timeline, newerClosed)));
          inFlightFiles.add(f);
        }
        Future<FileResult> head = inFlight.poll();
        BinlogFile file = inFlightFiles.poll();
        FileResult r;
        try {
          r = head.get();
        } catch (ExecutionException e) {
          if (!stop) {
            stop = true;
            state.failure = e.getCause();
            state.failedFile = file;
          }
          a.listener().fileFailed(file, e.getCause()); // every fileStarted gets its outcome
          continue;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          if (!stop) {
            stop = true;
            state.failure = e;
            state.failedFile = file;
          }
          a.listener().fileFailed(file, e);
          continue;
        }
        if (stop) {
          // a later file finished after an earlier one failed: its sidecar (if any) stays, the
          // cursor does not move past the failure; the next run skips it as already archived.
          // The listener still hears the outcome, so started and finished events pair up.
          switch (r.status()) {
            case ARCHIVED -> a.listener().fileArchived(r);
            default -> a.listener().fileSkipped(r);
          }
          continue;
        }
        state.results.add(r);
        switch (r.status()) {
          case ARCHIVED -> a.listener().fileArchived(r);
          default -> a.listener().fileSkipped(r);
        }
        if (r.status() == FileResult.Status.NOT_CLOSED) {
          stop = true; // the newest closed file, still marked in use: taken by a later run
          continue;
        }
        if (a.mode() == Archiver.Mode.ARCHIVE
            && (r.status() == FileResult.Status.ARCHIVED || r.status() == FileResult.Status.ALREADY_ARCHIVED)) {
          Sidecar s = r.sidecar();
          Cursor c =
              new Cursor(
                  s.file(), s.sequence(), s.sha256(), s.binlog() == null ? null : s.binlog().lastEventTime(), timeline,
                  a.clock().instant());
          a.cursorStore().commit(c);
          state.cursor = Optional.of(c);
          a.listener().cursorCommitted(c);
          a.archivedWhole().accept(timeline, s.file());
          state.backlogFiles--;
          state.backlogBytes = Math.max(0, state.backlogBytes - r.bytesRead());
          a.listener().backlogMeasured(state.backlogFiles, state.backlogBytes);
        }
      }
    } finally {
      pool.shutdownNow();
      try {
        // an upload still running must end (commit or abort) before the run returns and the
        // caller may release the cursor lock
        if (!pool.awaitTermination(10, java.util.concurrent.TimeUnit.MINUTES)) {
          LOG.warn("uploads still running 10 minutes after the run stopped");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void measureBacklog(Optional<Cursor> cursor, List<BinlogFile> closed) {
    int files = 0;
    long bytes = 0;
    for (BinlogFile f : closed) {
      if (cursor.isEmpty() || f.sequence() > cursor.get().sequence()) {
        files++;
        bytes += sizeOrZero(f);
      }
    }
    a.listener().backlogMeasured(files, bytes);
  }

  private static long sizeOrZero(BinlogFile f) {
    try {
      return Files.size(f.path());
    } catch (IOException e) {
      return 0;
    }
  }

  /** One stat per run: a cursor that points at nothing means it belongs to another archive. */
  private void requireCursorInArchive(Cursor c) throws IOException {
    String key = a.layout().sidecarKey(c.timeline(), c.lastSyncedFile());
    if (a.retryPolicy().call("stat " + key, () -> a.sink().stat(key), this::retrying).isEmpty()) {
      throw new ChainBreakException(
          "the cursor says " + c.lastSyncedFile() + " (timeline " + c.timeline() + ") is archived, but its sidecar "
              + key + " is missing from " + a.sink().describe() + ": the cursor belongs to another archive, or"
              + " archived files were deleted. Nothing was written. Point the archiver at the right archive, or"
              + " move the cursor file aside to re-archive what the server still has.");
    }
  }

  public String chooseTimeline(Optional<Cursor> cursor, List<BinlogFile> closed) throws IOException {
    if (cursor.isPresent()) {
      Cursor c = cursor.get();
      long maxSeq = closed.isEmpty() ? Long.MAX_VALUE : closed.get(closed.size() - 1).sequence();
      boolean replaced = !a.forceNewTimeline() && maxSeq >= c.sequence() && cursorFileReplaced(c, closed);
      if (a.forceNewTimeline() || maxSeq < c.sequence() || replaced) {
        int n = Math.max(ArchiveLayout.timelineNumber(c.timeline()), latestTimeline()) + 1;
        String t = ArchiveLayout.timelineName(n);
        LOG.atWarn()
            .addKeyValue("timeline", t)
            .log("starting timeline {}: {}", t, a.forceNewTimeline()
                ? "requested"
                : replaced
                    ? "the server's binlog sequence restarted (the local file with the cursor's sequence "
                        + c.sequence() + " no longer holds " + c.lastSyncedFile() + " as archived, SHA-256 "
                        + c.sha256Checksum() + "; RESET MASTER or a new server)"
                    : "the server's binlog sequence restarted (newest closed " + maxSeq + " < cursor " + c.sequence()
                        + "; RESET MASTER or a new server)");
        return t;
      }
      return c.timeline();
    }
    int latest = latestTimeline();
    if (latest == 0) {
      return ArchiveLayout.timelineName(1);
    }
    return ArchiveLayout.timelineName(a.forceNewTimeline() ? latest + 1 : latest);
  }

  /**
   * Whether the server still lists a file with the cursor's sequence but it is not the file the
   * cursor recorded: the sequence restarted and has already passed the cursor, so the files after it
   * do not continue the cursor's timeline.
   */
  private boolean cursorFileReplaced(Cursor c, List<BinlogFile> closed) throws IOException {
    if (closed.isEmpty() || closed.get(closed.size() - 1).sequence() <= c.sequence()) {
      return false; // nothing past the cursor to archive, so nothing could land in the wrong timeline
    }
    for (BinlogFile f : closed) {
      if (f.sequence() != c.sequence()) {
        continue;
      }
      String stamp;
      try {
        stamp = f.path() + "|" + Files.size(f.path()) + "|" + Files.getLastModifiedTime(f.path()) + "|" + c.sha256Checksum();
      } catch (NoSuchFileException e) {
        return false;
      }
      if (stamp.equals(checkedCursorFile)) {
        return false; // hashed in an earlier run and unchanged since
      }
      MessageDigest d = Digests.sha256();
      try (InputStream in = Files.newInputStream(f.path())) {
        byte[] buf = new byte[a.bufferSize()];
        int n;
        while ((n = in.read(buf)) > 0) {
          d.update(buf, 0, n);
        }
      } catch (NoSuchFileException e) {
        return false; // listed but already gone: nothing to compare
      }
      boolean replaced = !f.name().equals(c.lastSyncedFile()) || !Digests.hex(d.digest()).equals(c.sha256Checksum());
      if (!replaced) {
        checkedCursorFile = stamp;
      }
      return replaced;
    }
    return false;
  }

  private int latestTimeline() throws IOException {
    String root = a.layout().root() + "/";
    List<StoredObject> all = a.retryPolicy().call("list " + root, () -> a.sink().list(root), this::retrying);
    int latest = 0;
    for (StoredObject o : all) {
      String rest = o.key().substring(root.length());
      int slash = rest.indexOf('/');
      if (slash > 0 && ArchiveLayout.TIMELINE.matcher(rest.substring(0, slash)).matches()) {
        latest = Math.max(latest, ArchiveLayout.timelineNumber(rest.substring(0, slash)));
      }
    }
    return latest;
  }

  private void retrying(String what, int attempt, Duration delay, Throwable error) {
    a.retrying(what, attempt, delay, error);
  }
}
