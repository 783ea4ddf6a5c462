package io.binlogarchive;

import io.binlogarchive.store.StoreLease;

/**
 * A run did not start because another agent holds the archive's {@link StoreLease}: this agent is
 * standing by. Not an error in a high-availability pair; {@link Archiver#start()} just tries again
 * on the next poll.
 */
public class LeaseUnavailableException extends ArchiveException {
  private static final long serialVersionUID = 1L;

  /** @param message who holds the lease */
  public LeaseUnavailableException(String message) {
    super(message);
  }
}
