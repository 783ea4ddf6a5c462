package io.binlogarchive.internal.agent;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Archiver;
import io.binlogarchive.internal.pipeline.PipelineSettings;
import io.binlogarchive.LeaseUnavailableException;
import io.binlogarchive.Preflight;
import io.binlogarchive.RunSummary;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoreLease;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The long-running agent's helpers, kept out of {@link Archiver} to keep it small. */
public final class AgentSupport {
  /**
   * Where the file system refuses locks, how long a temporary file of a {@code FileSystemSink} must
   * have gone unmodified before an archiver removes it: far beyond the gap between two writes of a
   * live writer (seconds even when throttled) and beyond any clock skew between a host and its NFS
   * server that leaves the host usable. Also how often an archiver sweeps. Where locks work, age
   * plays no part.
   */
  public static final Duration STALE_PART_AGE = Duration.ofMinutes(15);

  private static final Logger LOG = LoggerFactory.getLogger(Archiver.class);

  private AgentSupport() {}

  /** @return null if the lease is held (go on), or the summary of a run that stood by */
  public static RunSummary standbyUnlessLeaseHeld(PipelineSettings a) {
    long t0 = System.nanoTime();
    Throwable why;
    String holder = null;
    try {
      if (a.lease().tryAcquire()) {
        return null;
      }
      holder = holder(a.lease()).orElse(null);
      why = new LeaseUnavailableException("another agent holds the lease " + a.lease().key() + " in "
          + a.sink().describe() + (holder == null ? "" : " (" + holder + ")") + "; standing by");
      LOG.atDebug().addKeyValue("lease_holder", holder).addKeyValue("agent", a.lease().holderId())
          .log(why.getMessage());
    } catch (IOException | RuntimeException e) {
      why = e;
      LOG.atWarn().log("cannot check the lease {}: {}", a.lease().key(), e.toString());
    }
    a.listener().standingBy(a.lease().key(), holder);
    Optional<Cursor> cursor;
    try {
      cursor = a.cursorStore().load();
    } catch (IOException | RuntimeException e) {
      cursor = Optional.empty();
    }
    return new RunSummary(List.of(), cursor, why, null, Duration.ofNanos(System.nanoTime() - t0));
  }

  private static Optional<String> holder(StoreLease lease) {
    try {
      return lease.currentHolder().map(StoreLease.Holder::holder);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Removes what killed uploads left under {@code prefix}; a failure is logged and the run goes on. */
  public static void removeStaleParts(Sink fs, String prefix) {
    try {
      fs.removeStaleParts(prefix, STALE_PART_AGE);
    } catch (IOException | RuntimeException e) {
      LOG.atWarn().log("cannot remove stale temporary files under {} in {}: {}", prefix, fs.describe(), e.toString());
    }
  }

  /** @return how long until the next rotation check is due; the poll interval decides on errors */
  public static Duration rotateIfDue(BinlogRotator rotator) {
    try {
      return rotator.maybeRotate();
    } catch (IOException | RuntimeException e) {
      LOG.atError().log("cannot bound the archive lag: {}", e.getMessage());
      return null;
    }
  }

  public static void preflight(DataSource ds, Preflight.OnProblem onProblem, Duration worstCaseLag) {
    Preflight.Report r = Preflight.check(ds, worstCaseLag);
    if (r.ok()) {
      LOG.atInfo().log("{}", r);
      return;
    }
    if (onProblem == Preflight.OnProblem.REFUSE) {
      throw new ArchiveException("refusing to archive: " + r);
    }
    for (Preflight.Finding f : r.findings()) {
      LOG.atWarn().addKeyValue("setting", f.setting()).log("preflight: {}", f);
    }
  }
}
