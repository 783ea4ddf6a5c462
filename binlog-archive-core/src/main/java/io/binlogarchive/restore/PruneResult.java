package io.binlogarchive.restore;

import java.util.List;

/**
 * What {@link ArchiveMaintenance#prune(RetentionPolicy, boolean)} deleted, or would delete in a dry run.
 *
 * @param applied whether anything was deleted ({@code false} for a dry run)
 * @param policy the policy applied
 * @param retainedBackups the base backups kept
 * @param droppedBackups the base backups whose records go (their start file goes)
 * @param keptFrom where the kept binlogs start ({@code timeline/file}), or {@code null} if nothing
 *     is kept
 * @param deletedKeys every object deleted (or to delete), in deletion order: for each binlog its
 *     sidecar first, then its artifact, so an interrupted prune leaves only orphaned artifacts that
 *     readers ignore
 * @param deletedFiles the binlog files removed from the archive
 * @param freedBytes the artifact bytes freed
 */
public record PruneResult(
    boolean applied,
    String policy,
    List<String> retainedBackups,
    List<String> droppedBackups,
    String keptFrom,
    List<String> deletedKeys,
    List<String> deletedFiles,
    long freedBytes) {

  /**
   * Copies the lists.
   *
   * @param applied whether anything was deleted ({@code false} for a dry run)
   * @param policy the policy applied
   * @param retainedBackups the base backups kept
   * @param droppedBackups the base backups whose records go (their start file goes)
   * @param keptFrom where the kept binlogs start ({@code timeline/file}), or {@code null} if nothing
   *     is kept
   * @param deletedKeys every object deleted (or to delete), in deletion order: for each binlog its
   *     sidecar first, then its artifact, so an interrupted prune leaves only orphaned artifacts that
   *     readers ignore
   * @param deletedFiles the binlog files removed from the archive
   * @param freedBytes the artifact bytes freed
   */
  public PruneResult {
    retainedBackups = List.copyOf(retainedBackups);
    droppedBackups = List.copyOf(droppedBackups);
    deletedKeys = List.copyOf(deletedKeys);
    deletedFiles = List.copyOf(deletedFiles);
  }
}
