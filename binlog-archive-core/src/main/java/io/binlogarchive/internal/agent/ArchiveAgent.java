package io.binlogarchive.internal.agent;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.Archiver.Mode;
import io.binlogarchive.RunSummary;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.pipeline.ArchivePipeline;
import io.binlogarchive.internal.pipeline.PipelineSettings;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoreLease;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of one {@link Archiver}: its runs (lease stand-by, stale part removal, rotation, then
 * the pipeline), the background agent ({@link #start()}: a run now, then on the poll interval, a
 * directory watch, {@link #wakeUp()} or a due rotation), and the graceful stop that releases the
 * cursor store and the lease. {@link Archiver}'s Javadoc is the contract; no compatibility promise
 * here.
 */
public final class ArchiveAgent {
  /** The archiver's logger, so log configuration that names it keeps working. */
  private static final Logger LOG = LoggerFactory.getLogger(Archiver.class);

  private final BinlogSource source;
  private final Sink sink;
  private final DeferredCursorStore cursorStore;
  private final ArchiveLayout layout;
  private final ArchiveListener listener;
  private final Mode mode;
  private final Duration pollInterval;
  private final BinlogRotator rotator;
  private final StoreLease lease;
  private volatile Duration rotationDue;
  private final ArchivePipeline pipeline;
  private final AtomicBoolean stopRequested = new AtomicBoolean();
  private final Object wakeup = new Object();
  /** Completed when the started agent's loop ends; see {@link #start()}. */
  private final CompletableFuture<Void> agentStopped = new CompletableFuture<>();
  private boolean wakeupPending;
  private Thread agent;
  private boolean closed;
  /** When stale temporary files were last removed (guarded by this); the first run is due. */
  private long partsSweptAt = System.nanoTime() - AgentSupport.STALE_PART_AGE.toNanos();

  /**
   * @param cursorStore the cursor store the settings carry, opened by the first run, start or {@link #open()}
   * @param settings the pipeline's settings, given the stop condition they must carry: this agent's
   *     (closed, or the lease lost)
   * @param pollInterval the longest wait between two runs of a started agent
   * @param rotator rotates the server's binlog when its oldest transaction is due, or null
   */
  public ArchiveAgent(DeferredCursorStore cursorStore, Function<BooleanSupplier, PipelineSettings> settings,
      Duration pollInterval, BinlogRotator rotator) {
    this.pipeline = new ArchivePipeline(settings.apply(this::stopRequested));
    PipelineSettings s = pipeline.settings();
    if (s.cursorStore() != cursorStore) {
      throw new IllegalArgumentException("the settings must carry the agent's cursor store");
    }
    this.source = s.source();
    this.sink = s.sink();
    this.cursorStore = cursorStore;
    this.layout = s.layout();
    this.listener = s.listener();
    this.mode = s.mode();
    this.lease = s.lease();
    this.pollInterval = pollInterval;
    this.rotator = rotator;
  }

  /** @return the settings the runs use */
  public PipelineSettings settings() {
    return pipeline.settings();
  }

  /**
   * @return the timeline the next file goes to, as the next run would choose it
   * @throws IOException if the cursor, the source or the store cannot be read
   */
  public String nextTimeline() throws IOException {
    PipelineSettings s = pipeline.settings();
    return pipeline.chooseTimeline(s.cursorStore().load(), s.source().closedFiles());
  }

  /**
   * See {@link Archiver#open()}: runs the preflight and opens (locks) the cursor store, once.
   *
   * @throws IOException if the cursor file cannot be opened
   */
  public void open() throws IOException {
    cursorStore.open();
  }

  /** {@link #open()} for the entry points that declare no {@link IOException}. */
  private void openOrThrow() {
    try {
      cursorStore.open();
    } catch (IOException e) {
      throw new ArchiveException("cannot open the cursor store: " + e, e);
    }
  }

  /**
   * See {@link Archiver#runOnce()}.
   *
   * @return what the run did
   */
  public synchronized RunSummary runOnce() {
    if (closed) {
      throw new IllegalStateException("archiver is closed");
    }
    openOrThrow();
    if (lease != null) {
      RunSummary standby = AgentSupport.standbyUnlessLeaseHeld(pipeline.settings());
      if (standby != null) {
        return standby;
      }
    }
    if (mode == Mode.ARCHIVE && System.nanoTime() - partsSweptAt >= AgentSupport.STALE_PART_AGE.toNanos()) {
      partsSweptAt = System.nanoTime();
      AgentSupport.removeStaleParts(sink, layout.root() + "/");
    }
    if (rotator != null) {
      rotationDue = AgentSupport.rotateIfDue(rotator);
    }
    return pipeline.run();
  }

  /**
   * See {@link Archiver#start()}.
   *
   * @return completes when the agent's loop ends
   */
  public synchronized CompletableFuture<Void> start() {
    if (closed) {
      throw new IllegalStateException("archiver is closed");
    }
    if (agent != null) {
      throw new IllegalStateException("archiver is already started");
    }
    openOrThrow(); // a refused preflight or a cursor another archiver holds fails here, not on the thread
    Thread t = new Thread(this::agentLoop, "binlog-archive-agent");
    t.setDaemon(true);
    agent = t;
    t.start();
    return agentStopped.copy();
  }

  /** Asks a started archiver to run now instead of waiting for the poll interval. */
  public void wakeUp() {
    synchronized (wakeup) {
      wakeupPending = true;
      wakeup.notifyAll();
    }
  }

  private void agentLoop() {
    Throwable fatal = null;
    try (DirectoryWatch watch = DirectoryWatch.start(source, this::wakeUp)) {
      while (!stopRequested.get()) {
        fatal = runReportingErrors();
        if (fatal != null || !awaitNextRun()) {
          break;
        }
      }
    } catch (RuntimeException | Error e) {
      fatal = e; // the watch could not start, or the wait itself failed
    } finally {
      if (fatal == null) {
        agentStopped.complete(null);
      } else {
        LOG.error("archive agent stopped by {}; no further runs until the archiver is built again", fatal.toString(),
            fatal);
        agentStopped.completeExceptionally(fatal);
      }
    }
  }

  /**
   * One run of the agent. A run that fails with an exception is logged (the pipeline already told
   * the listener) and the agent goes on; an {@link Error} ends the agent.
   *
   * @return the error that must end the agent, or null
   */
  private Throwable runReportingErrors() {
    try {
      RunSummary s = runOnce();
      // a file's error: the pipeline told the listener (fileFailed, runFinished) and logged it
      return s.failure() instanceof Error e ? e : null;
    } catch (RuntimeException e) {
      LOG.error("archive run failed: {}", e.toString());
      return null;
    } catch (Error e) {
      // thrown past the pipeline, e.g. by the listener or the cursor store: the run never finished
      try {
        listener.runFinished(new RunSummary(List.of(), Optional.empty(), e, null, Duration.ZERO));
      } catch (RuntimeException | Error again) {
        e.addSuppressed(again);
      }
      return e;
    }
  }

  /** @return false if interrupted (the agent ends), true when the next run is due */
  private boolean awaitNextRun() {
    synchronized (wakeup) {
      Duration due = rotationDue;
      long deadline = System.nanoTime()
          + (due != null && due.compareTo(pollInterval) < 0 ? due.toNanos() : pollInterval.toNanos());
      while (!wakeupPending && !stopRequested.get()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(wakeup, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      wakeupPending = false;
      return true;
    }
  }

  private boolean stopRequested() {
    return stopRequested.get() || lease != null && !lease.isHeld();
  }

  /** See {@link Archiver#close()}. */
  public void close() throws IOException {
    stopRequested.set(true);
    wakeUp();
    Thread t;
    synchronized (this) {
      t = agent;
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      if (!closed) {
        closed = true;
        try {
          cursorStore.close();
        } finally {
          if (lease != null) {
            lease.close();
          }
        }
      }
    }
  }
}
