package io.binlogarchive.restore;

import java.nio.file.Path;

/**
 * How {@link ArchiveReader#verify(VerifyOptions)} checks an archive.
 *
 * @param full download, decrypt and decompress every artifact and check its plaintext SHA-256
 *     (otherwise: sizes and the checksums the store reports)
 * @param stateFile a local JSON file remembering what was verified, so a re-run only re-checks
 *     sidecars and artifacts that changed since (by key, size and last-modified time); {@code null}
 *     for none
 * @param recheckAll ignore the state file's memory and check everything again (the file is still
 *     rewritten)
 */
public record VerifyOptions(boolean full, Path stateFile, boolean recheckAll) {

  /** @return store-level checks, no state file */
  public static VerifyOptions defaults() {
    return new VerifyOptions(false, null, false);
  }

  /** @return a copy that downloads and decodes every artifact */
  public VerifyOptions withFull() {
    return new VerifyOptions(true, stateFile, recheckAll);
  }

  /**
   * @param file the state file (created if missing)
   * @return a copy that remembers verified objects in {@code file}
   */
  public VerifyOptions withStateFile(Path file) {
    return new VerifyOptions(full, file, recheckAll);
  }

  /** @return a copy that re-checks everything, remembered or not */
  public VerifyOptions withRecheckAll() {
    return new VerifyOptions(full, stateFile, true);
  }
}
