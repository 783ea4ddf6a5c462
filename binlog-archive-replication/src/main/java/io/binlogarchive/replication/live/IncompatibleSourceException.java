package io.binlogarchive.replication.live;

import java.io.IOException;

/**
 * The stream's own settings cannot work with this server, whatever the number of attempts: a TLS mode
 * the server does not offer, an authentication plugin this client does not speak, a server
 * certificate that fails verification, a CA file that cannot be read. {@link LiveStream#run()} ends
 * with it at once instead of reconnecting; the message names the server and what to change.
 */
public class IncompatibleSourceException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what cannot work, with which server, and what to change
   * @param cause the underlying failure, or null
   */
  public IncompatibleSourceException(String message, Throwable cause) {
    super(message, cause);
  }
}
