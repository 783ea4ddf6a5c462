package io.binlogarchive.replication.live;

/**
 * How the connection to the server is secured, with the meanings of the MySQL client's
 * {@code --ssl-mode}.
 */
public enum TlsMode {
  /** Never TLS. The password crosses the network hashed (native) or RSA-encrypted (caching_sha2). */
  DISABLED,
  /** TLS when the server offers it, plain otherwise; the certificate is not checked. */
  PREFERRED,
  /** TLS or fail; the certificate is not checked (protects against eavesdropping only). */
  REQUIRED,
  /** TLS, and the server's certificate must chain to the configured CA (or the JDK's trust store). */
  VERIFY_CA,
  /** As {@link #VERIFY_CA}, and the certificate must name the host connected to. */
  VERIFY_IDENTITY;

  /**
   * Reads the command-line spelling: {@code disabled}, {@code preferred}, {@code required},
   * {@code verify-ca}, {@code verify-identity} (case-insensitive, {@code _} or {@code -}).
   *
   * @param text the mode's name
   * @return the mode
   * @throws IllegalArgumentException naming the accepted values
   */
  public static TlsMode parse(String text) {
    String t = text.strip().toUpperCase(java.util.Locale.ROOT).replace('-', '_');
    for (TlsMode m : values()) {
      if (m.name().equals(t)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown TLS mode '" + text
        + "': use disabled, preferred, required, verify-ca or verify-identity");
  }

  boolean verifiesChain() {
    return this == VERIFY_CA || this == VERIFY_IDENTITY;
  }
}
