package io.binlogarchive.replication.live;

import io.binlogarchive.ArchiveException;

/**
 * The server no longer has a binlog the spool needs: the events after {@code lastPosition} of {@code
 * lastFile} up to the start of {@code resumeFile} are lost to the archive. Reported through {@link
 * SpoolListener#gap}; thrown by {@link LiveStream#run()} only when the stream is built to stop on gaps.
 */
public class BinlogGapException extends ArchiveException {
  private static final long serialVersionUID = 1L;
  private final String lastFile;
  private final long lastPosition;
  private final String resumeFile;

  /**
   * @param lastFile the spool's last file (its copy ends at {@code lastPosition})
   * @param lastPosition where the spool's data ends
   * @param resumeFile the oldest binlog the server still has, where the stream resumes; null if none
   * @param serverMessage what the server said
   */
  public BinlogGapException(String lastFile, long lastPosition, String resumeFile, String serverMessage) {
    super("gap in the binlog stream: the server no longer has " + lastFile + " from position " + lastPosition
        + (resumeFile == null ? "" : "; resuming at the oldest binlog it has, " + resumeFile)
        + " (server: " + serverMessage + ")");
    this.lastFile = lastFile;
    this.lastPosition = lastPosition;
    this.resumeFile = resumeFile;
  }

  /** @return the spool's file whose copy ends early */
  public String lastFile() {
    return lastFile;
  }

  /** @return where that copy ends */
  public long lastPosition() {
    return lastPosition;
  }

  /** @return where the stream resumes, or null */
  public String resumeFile() {
    return resumeFile;
  }
}
