package io.binlogarchive.replication.live;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Where and how to connect to the server as a replica. Immutable; built with {@link #builder(String,
 * int, String)}. The password is asked from its supplier at each connection and the returned array is
 * wiped after use; it is never logged, never in {@link #toString()} and never in an exception.
 */
public final class SourceConfig {
  private final String host;
  private final int port;
  private final String user;
  private final Supplier<char[]> password;
  private final TlsMode tls;
  private final Path caFile;
  private final long replicaServerId;
  private final Duration heartbeat;
  private final Duration connectTimeout;
  private final boolean semiSync;

  private SourceConfig(Builder b) {
    this.host = b.host;
    this.port = b.port;
    this.user = b.user;
    this.password = b.password;
    this.tls = b.tls;
    this.caFile = b.caFile;
    this.replicaServerId = b.replicaServerId;
    this.heartbeat = b.heartbeat;
    this.connectTimeout = b.connectTimeout;
    this.semiSync = b.semiSync;
  }

  /**
   * @param host the server's host name or address
   * @param port its port
   * @param user an account with {@code REPLICATION SLAVE} (and {@code REPLICATION CLIENT} to list binlogs)
   * @return a builder
   */
  public static Builder builder(String host, int port, String user) {
    return new Builder(host, port, user);
  }

  /** @return the host */
  public String host() {
    return host;
  }

  /** @return the port */
  public int port() {
    return port;
  }

  /** @return the user name */
  public String user() {
    return user;
  }

  char[] password() {
    char[] p = password.get();
    return p == null ? new char[0] : p;
  }

  /** @return the TLS mode */
  public TlsMode tls() {
    return tls;
  }

  /** @return the CA certificates (PEM) for the verify modes, or null for the JDK's trust store */
  public Path caFile() {
    return caFile;
  }

  /** @return the server id this replica registers with; unique among the server's replicas */
  public long replicaServerId() {
    return replicaServerId;
  }

  /** @return how often the server sends a heartbeat when it has no event to send */
  public Duration heartbeat() {
    return heartbeat;
  }

  /** @return the TCP connect timeout */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** @return whether to acknowledge as a semi-synchronous replica */
  public boolean semiSync() {
    return semiSync;
  }

  @Override
  public String toString() {
    return user + "@" + host + ":" + port + " (tls " + tls.name().toLowerCase(java.util.Locale.ROOT)
        + ", replica server id " + replicaServerId + (semiSync ? ", semi-sync" : "") + ")";
  }

  /** Collects the settings; {@link #build()} reports every bad one at once. */
  public static final class Builder {
    private final String host;
    private final int port;
    private final String user;
    private Supplier<char[]> password = () -> new char[0];
    private TlsMode tls = TlsMode.PREFERRED;
    private Path caFile;
    private long replicaServerId = 0xBA5E;
    private Duration heartbeat = Duration.ofSeconds(1);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private boolean semiSync;

    private Builder(String host, int port, String user) {
      this.host = host;
      this.port = port;
      this.user = user;
    }

    /**
     * @param password asked at each connection; the array it returns is wiped after use, so return a fresh copy
     * @return this
     */
    public Builder password(Supplier<char[]> password) {
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /**
     * @param password copied now; wipe your array after the call
     * @return this
     */
    public Builder password(char[] password) {
      char[] copy = password.clone();
      this.password = copy::clone;
      return this;
    }

    /**
     * @param tls the TLS mode (default {@link TlsMode#PREFERRED})
     * @return this
     */
    public Builder tls(TlsMode tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /**
     * @param caFile PEM file of the CA certificates that may sign the server's certificate (verify modes)
     * @return this
     */
    public Builder caFile(Path caFile) {
      this.caFile = caFile;
      return this;
    }

    /**
     * @param id the server id to register as (1 to 2^32-1, distinct from the server's and its other replicas'; default 47710)
     * @return this
     */
    public Builder replicaServerId(long id) {
      this.replicaServerId = id;
      return this;
    }

    /**
     * @param period the heartbeat period asked of the server (default 1 s); a connection silent for
     *     four periods and 5 s more is treated as broken, and the stream reconnects
     * @return this
     */
    public Builder heartbeat(Duration period) {
      this.heartbeat = Objects.requireNonNull(period, "period");
      return this;
    }

    /**
     * @param timeout TCP connect timeout (default 10 s)
     * @return this
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * @param semiSync acknowledge events as a semi-synchronous replica, once they are durable
     * @return this
     */
    public Builder semiSync(boolean semiSync) {
      this.semiSync = semiSync;
      return this;
    }

    /**
     * @return the configuration
     * @throws IllegalArgumentException listing every bad setting
     */
    public SourceConfig build() {
      List<String> bad = new ArrayList<>();
      if (host == null || host.isBlank()) {
        bad.add("host is empty");
      }
      if (port < 1 || port > 65535) {
        bad.add("port " + port + " is not in 1-65535");
      }
      if (user == null || user.isEmpty()) {
        bad.add("user is empty");
      }
      if (replicaServerId < 1 || replicaServerId > 0xFFFF_FFFFL) {
        bad.add("replica server id " + replicaServerId + " is not in 1-4294967295");
      }
      if (heartbeat.isNegative() || heartbeat.isZero() || heartbeat.toMillis() > 4_294_967_000L) {
        bad.add("heartbeat " + heartbeat + " must be positive and below 4294967 s");
      }
      if (connectTimeout.isNegative() || connectTimeout.isZero()) {
        bad.add("connect timeout must be positive");
      }
      if (caFile != null && !tls.verifiesChain()) {
        bad.add("a CA file is set but TLS mode " + tls + " does not verify certificates");
      }
      if (!bad.isEmpty()) {
        throw new IllegalArgumentException("bad replication source settings: " + String.join("; ", bad));
      }
      return new SourceConfig(this);
    }
  }
}
