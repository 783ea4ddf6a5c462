package io.binlogarchive.restore;

import io.binlogarchive.crypto.KeyProvider;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What {@link ArchiveMaintenance#rewrap(KeyProvider, java.util.function.Predicate, boolean)} moved to
 * the new key, or would move in a dry run.
 *
 * @param applied whether anything was written ({@code false} for a dry run)
 * @param targetKeyId the key id the artifacts move to (the new provider's primary key id)
 * @param moved every artifact moved (or to move), in archive order
 * @param leftoversRemoved superseded artifacts of earlier, interrupted rewraps that were deleted
 *     (or would be): the old artifact of a file whose sidecar already names its rewrapped one
 * @param failures files that could not be moved; each is left as it was (its sidecar still names
 *     an intact artifact), at most with a new artifact beside it that a re-run adopts
 * @param problems selected files that cannot be moved because the archive is damaged there
 *     (missing or corrupt artifact, unreadable sidecar): found by listing, nothing was attempted
 * @param alreadyOnTarget selected encrypted files already under {@code targetKeyId}
 * @param notEncrypted selected files stored without client-side encryption (nothing to rewrap)
 * @param notSelected files the predicate left out
 * @param duration how long it took
 */
public record RewrapResult(
    boolean applied,
    String targetKeyId,
    List<Move> moved,
    List<String> leftoversRemoved,
    List<Failure> failures,
    List<ArchiveProblem> problems,
    int alreadyOnTarget,
    int notEncrypted,
    int notSelected,
    Duration duration) {

  /**
   * Copies the lists.
   *
   * @param applied whether anything was written ({@code false} for a dry run)
   * @param targetKeyId the key id the artifacts move to (the new provider's primary key id); not
   *     null
   * @param moved every artifact moved (or to move), in archive order
   * @param leftoversRemoved superseded artifacts of earlier, interrupted rewraps that were deleted
   *     (or would be): the old artifact of a file whose sidecar already names its rewrapped one
   * @param failures files that could not be moved; each is left as it was (its sidecar still names
   *     an intact artifact), at most with a new artifact beside it that a re-run adopts
   * @param problems selected files that cannot be moved because the archive is damaged there
   *     (missing or corrupt artifact, unreadable sidecar): found by listing, nothing was attempted
   * @param alreadyOnTarget selected encrypted files already under {@code targetKeyId}
   * @param notEncrypted selected files stored without client-side encryption (nothing to rewrap)
   * @param notSelected files the predicate left out
   * @param duration how long it took
   */
  public RewrapResult {
    Objects.requireNonNull(targetKeyId, "targetKeyId");
    moved = List.copyOf(moved);
    leftoversRemoved = List.copyOf(leftoversRemoved);
    failures = List.copyOf(failures);
    problems = List.copyOf(problems);
  }

  /** @return whether every selected file is (or, in a dry run, can be) under the target key */
  public boolean ok() {
    return failures.isEmpty() && problems.isEmpty();
  }

  /**
   * One artifact moved from one key to another.
   *
   * @param timeline its timeline
   * @param file the binlog file (for a segment of a file still open, one move per segment)
   * @param fromKeyId the key id its data key was wrapped under
   * @param toKeyId the key id it is wrapped under now
   * @param fromArtifact the old artifact's key (deleted once the sidecar names the new one)
   * @param toArtifact the new artifact's key ({@code <file>.k<N><ext>}; a segment's {@code
   *     <file>.<start>.k<N><ext>})
   * @param artifactBytes the new artifact's size (in a dry run: the old one's; both are equal
   *     unless the key envelopes differ in size)
   * @param resumed {@code true} if an interrupted earlier rewrap had already written the new
   *     artifact and this run verified and adopted it instead of writing it again
   */
  public record Move(
      String timeline,
      String file,
      String fromKeyId,
      String toKeyId,
      String fromArtifact,
      String toArtifact,
      long artifactBytes,
      boolean resumed) {}

  /**
   * A file that could not be moved.
   *
   * @param timeline its timeline
   * @param file the binlog file
   * @param artifactKey the artifact its sidecar names
   * @param message what went wrong, and what state the file is in
   */
  public record Failure(String timeline, String file, String artifactKey, String message) {}
}
