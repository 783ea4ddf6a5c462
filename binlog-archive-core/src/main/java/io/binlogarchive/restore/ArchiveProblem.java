package io.binlogarchive.restore;

import io.binlogarchive.SegmentArchiver;
import java.util.Objects;

/**
 * Something wrong with, or worth knowing about, an archive: found by restore planning (sidecars
 * and listings) and by verification (checksums).
 *
 * @param kind what kind of problem
 * @param timeline the timeline it is in, or {@code null}
 * @param file the binlog file it concerns, or {@code null}
 * @param objectKey the object it concerns (missing, corrupt, orphaned), or {@code null}
 * @param message a sentence saying what is wrong and what it means for restores
 */
public record ArchiveProblem(Kind kind, String timeline, String file, String objectKey, String message) {

  /**
   * The kinds of problem. Every kind but {@link #NEW_TIMELINE}, {@link #REWRAP_LEFTOVER} and {@link
   * #SEGMENT_LEFTOVER} ends a restorable window.
   */
  public enum Kind {
    /** Sequence numbers are missing between two archived files. */
    MISSING_FILE,
    /** Two consecutive files do not continue each other's GTID state. */
    CHAIN_BREAK,
    /** A sidecar cannot be read or parsed. */
    INVALID_SIDECAR,
    /** A sidecar's artifact does not exist. */
    MISSING_ARTIFACT,
    /** An artifact has no sidecar (an interrupted upload, or a deleted sidecar). */
    ORPHAN_ARTIFACT,
    /** An artifact's size or checksum differs from its sidecar, or it does not decode. */
    CORRUPT_ARTIFACT,
    /** A timeline begins (RESET MASTER or a new server): restores cannot cross into it. */
    NEW_TIMELINE,
    /**
     * A second artifact of an archived file, left by an interrupted {@link
     * ArchiveMaintenance#rewrap key rotation}: either the new artifact, written before the sidecar was
     * switched to it, or the old one, not yet deleted after the switch. The sidecar names the other,
     * intact artifact, so restores are unaffected; running the rewrap again finishes the job.
     */
    REWRAP_LEFTOVER,
    /**
     * The segments of an open binlog (see {@link SegmentArchiver}) do not form one chain: bytes are
     * missing between two of them, or one is unreadable. A restore reaches the end of the chain
     * before the gap; the segments after it are not used.
     */
    SEGMENT_GAP,
    /**
     * Segment objects no restore uses: those of a binlog that is archived whole (left when the
     * removal after the whole file was interrupted; {@link ArchiveReader#prune prune} deletes them),
     * or one without its sidecar (an interrupted upload, adopted or replaced by the next segment
     * archiver run).
     */
    SEGMENT_LEFTOVER
  }

  /**
   * Validates the fields.
   *
   * @param kind what kind of problem; not null
   * @param timeline the timeline it is in, or {@code null}
   * @param file the binlog file it concerns, or {@code null}
   * @param objectKey the object it concerns (missing, corrupt, orphaned), or {@code null}
   * @param message a sentence saying what is wrong and what it means for restores; not null
   */
  public ArchiveProblem {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(message, "message");
  }

  /**
   * @return whether this ends a restorable window (everything but {@link Kind#NEW_TIMELINE}, {@link
   *     Kind#REWRAP_LEFTOVER} and {@link Kind#SEGMENT_LEFTOVER})
   */
  public boolean breaksWindow() {
    return kind != Kind.NEW_TIMELINE && kind != Kind.REWRAP_LEFTOVER && kind != Kind.SEGMENT_LEFTOVER;
  }

  /** @return {@code KIND: message} */
  @Override
  public String toString() {
    return kind + ": " + message;
  }
}
