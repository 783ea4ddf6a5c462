package io.binlogarchive.restore;

import java.time.Duration;
import java.util.List;

/**
 * What {@link ArchiveReader#verify(VerifyOptions)} found.
 *
 * @param full whether artifacts were downloaded and decoded
 * @param filesChecked archived files whose sidecar and artifact were checked in this run
 * @param filesUnchanged archived files skipped because the state file shows them verified and
 *     unchanged since
 * @param bytesChecked artifact bytes checked in this run (downloaded when {@code full}, else as
 *     listed)
 * @param problems every problem, with the object it concerns
 * @param windows the restorable windows once the problems are taken into account
 * @param duration how long it took
 */
public record VerifyReport(
    boolean full,
    int filesChecked,
    int filesUnchanged,
    long bytesChecked,
    List<ArchiveProblem> problems,
    List<RestoreWindow> windows,
    Duration duration) {

  /**
   * Copies the lists.
   *
   * @param full whether artifacts were downloaded and decoded
   * @param filesChecked archived files whose sidecar and artifact were checked in this run
   * @param filesUnchanged archived files skipped because the state file shows them verified and
   *     unchanged since
   * @param bytesChecked artifact bytes checked in this run (downloaded when {@code full}, else as
   *     listed)
   * @param problems every problem, with the object it concerns
   * @param windows the restorable windows once the problems are taken into account
   * @param duration how long it took
   */
  public VerifyReport {
    problems = List.copyOf(problems);
    windows = List.copyOf(windows);
  }

  /** @return whether no problem ends a window (a new timeline alone is fine) */
  public boolean ok() {
    return problems.stream().noneMatch(ArchiveProblem::breaksWindow);
  }
}
