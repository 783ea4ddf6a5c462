package io.binlogarchive.gcs;

import java.io.IOException;

/**
 * Opens the package-private {@link GcpKmsTestServer} (gcs test-jar) to the runner's tests in
 * {@code io.binlogarchive.examples}.
 */
public final class KmsTestServerAccess implements AutoCloseable {
  /** The bearer token the server accepts. */
  public static final String TOKEN = GcpKmsTestServer.TOKEN;

  private final GcpKmsTestServer server;

  private KmsTestServerAccess(GcpKmsTestServer server) {
    this.server = server;
  }

  /** Starts a server on a free port of 127.0.0.1. */
  public static KmsTestServerAccess start() throws IOException {
    return new KmsTestServerAccess(GcpKmsTestServer.start());
  }

  /** @return the base URI for {@code --gcp-kms-endpoint} */
  public String endpoint() {
    return server.endpoint().toString();
  }

  /** Creates a CryptoKey (idempotent). */
  public void createKey(String name) {
    server.createKey(name);
  }

  /** @return encrypt calls answered */
  public int encrypts() {
    return server.encrypts();
  }

  /** @return decrypt calls answered */
  public int decrypts() {
    return server.decrypts();
  }

  @Override
  public void close() {
    server.close();
  }
}
