package io.binlogarchive.replication.live;

import java.io.IOException;

/**
 * The server's stream contradicts the spool (an event that does not continue the file, a file that
 * cannot be started at its beginning, another server's files): reconnecting would not help, so the
 * stream stops with this error instead of retrying, and nothing in the spool is overwritten.
 */
final class StreamMismatchException extends IOException {
  private static final long serialVersionUID = 1L;

  StreamMismatchException(String message) {
    super(message);
  }
}
