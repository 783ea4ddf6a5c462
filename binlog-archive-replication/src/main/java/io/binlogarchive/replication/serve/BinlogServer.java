package io.binlogarchive.replication.serve;

import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.replication.internal.CachingSha2Password;
import io.binlogarchive.replication.internal.NativePassword;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a restore plan to a restored server as its replication source, so it applies the archive
 * natively, at replica speed, instead of through {@code mariadb-binlog | mariadb}.
 *
 * <pre>{@code
 * RestorePlan plan = reader.plan("nightly", RestoreTarget.time(t));
 * try (BinlogServer server = BinlogServer.builder()
 *     .reader(reader).plan(plan)
 *     .spool(Path.of("/restore/spool"))
 *     .listen(new InetSocketAddress("127.0.0.1", 3307))
 *     .user("repl").password(Files.readAllBytes(passwordFile))
 *     .build()) {
 *   server.start();
 *   server.replicaStatements(null, false).forEach(System.out::println); // CHANGE MASTER TO ...; START SLAVE
 *   ServePosition end = server.awaitTarget(Duration.ofHours(1));
 * }
 * }</pre>
 *
 * <p>A replica connects with {@code mysql_native_password} or {@code caching_sha2_password}, over
 * TLS when the server has a {@link Builder#tls certificate}, sends its setup queries and asks for
 * the binlog from the plan's start (by file and position, MariaDB GTID position or MySQL GTID
 * set). The plan's files are fetched ahead of it into the spool, a few at a time and in parallel;
 * no event of a file is sent before the file's SHA-256 is proven against its sidecar. A file the
 * live stream archived only as segments (the open file after the last closed one) is served as
 * its segments' bytes, once each is proven against its own sidecar. Serving stops
 * at the plan's target on a transaction boundary; the connection then stays open with heartbeats.
 * A damaged or missing file ends the dump with error 1236 naming it, before any of its events.
 * Memory is bounded by the largest event, whatever the file sizes.
 */
public final class BinlogServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BinlogServer.class);

  private final ArchiveReader reader;
  private final RestorePlan plan;
  private final Path spool;
  private final int prefetch;
  private final int parallelism;
  private final InetSocketAddress listen;
  private final String user;
  private final byte[] passwordHash;
  private final byte[] sha2Hash;
  private final Path tlsCertificate;
  private final Path tlsKey;
  /** The server replicas see: server id, version, global variables. */
  private final ServedSource served;
  private final Set<ReplicaSession> sessions = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<ServePosition> target = new CompletableFuture<>();
  private final AtomicInteger connections = new AtomicInteger();
  private volatile ServePosition progress;
  private volatile ServerTls tls;
  /** Whether a caching_sha2_password full authentication succeeded: later logins may take the fast path. */
  private volatile boolean sha2Cached;
  private volatile ArchiveFeed feed;
  private volatile ServerSocket socket;
  private volatile boolean closed;

  private BinlogServer(Builder b) {
    this.reader = b.reader;
    this.plan = b.plan;
    this.spool = b.spool;
    this.prefetch = b.prefetch;
    this.parallelism = b.parallelism;
    this.listen = b.listen;
    this.user = b.user;
    this.passwordHash = b.passwordHash;
    this.sha2Hash = b.sha2Hash;
    this.tlsCertificate = b.tlsCertificate;
    this.tlsKey = b.tlsKey;
    this.served = new ServedSource(plan, reader.root(), listen.getPort(), b.serverId);
  }

  /** @return a new builder */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the listening socket and starts accepting replicas; the first files are fetched at once.
   *
   * @return this server
   * @throws IOException if the address cannot be bound, the spool cannot be made, or the TLS
   *     certificate or key cannot be read (the message names the file)
   * @throws IllegalStateException if started twice
   */
  public synchronized BinlogServer start() throws IOException {
    if (socket != null || closed) {
      throw new IllegalStateException("the server was already started");
    }
    if (tlsCertificate != null) {
      tls = ServerTls.load(tlsCertificate, tlsKey);
    }
    feed = new ArchiveFeed(reader, plan, spool, prefetch, parallelism,
        d -> Files.getFileStore(d).getUsableSpace());
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    try {
      s.bind(listen, 16);
    } catch (IOException e) {
      s.close();
      feed.close();
      throw new IOException("cannot listen on " + listen + ": " + e.getMessage(), e);
    }
    socket = s;
    Thread accept = new Thread(this::acceptLoop, "binlog-archive-serve-accept");
    accept.setDaemon(true);
    accept.start();
    try {
      feed.await(0, 0); // starts the prefetch before any replica connects
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      LOG.debug("first fetch not started: {}", e.toString()); // reported to the replica when it asks
    }
    LOG.info("serving {} ({} file(s), {} .. {}) on {} as {}", plan.target(), plan.files().size(), plan.startFile(),
        plan.lastFile(), address(), served.handshakeVersion());
    return this;
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket c = socket.accept();
        ReplicaSession session = new ReplicaSession(this, c, connections.incrementAndGet());
        sessions.add(session);
        Thread t = new Thread(session, "binlog-archive-serve-" + c.getRemoteSocketAddress());
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("accepting a replica failed: {}", e.toString());
        }
      }
    }
  }

  /**
   * @return the address replicas connect to (with the port chosen, if port 0 was asked for)
   * @throws IllegalStateException before {@link #start()}
   */
  public InetSocketAddress address() {
    ServerSocket s = socket;
    if (s == null) {
      throw new IllegalStateException("the server is not started");
    }
    return new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
  }

  /**
   * The statements that point a restored server at this one and start replication: MariaDB's
   * {@code CHANGE MASTER TO} (MySQL 8.0.23+ accepts the same words), either by the plan's start file
   * and position, or (MariaDB) by GTID: {@code gtid_slave_pos} set to the plan's start state and
   * {@code MASTER_USE_GTID=slave_pos}. With a {@link Builder#tls certificate} they carry {@code
   * MASTER_SSL=1}.
   *
   * @param password the password to write in them, or {@code null} for a placeholder
   * @param useGtid whether the replica should connect by GTID (MariaDB plans with a start GTID state)
   * @return the statements, {@code START SLAVE} last
   * @throws IllegalStateException before {@link #start()}, or for a GTID connect the plan cannot give
   */
  public List<String> replicaStatements(String password, boolean useGtid) {
    InetSocketAddress a = address();
    String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
    String change = "CHANGE MASTER TO MASTER_HOST='" + host + "', MASTER_PORT=" + a.getPort() + ", MASTER_USER='"
        + sqlString(user) + "', MASTER_PASSWORD='" + (password == null ? "<password>" : sqlString(password)) + "'"
        + (tlsCertificate != null ? ", MASTER_SSL=1" : "");
    List<String> out = new ArrayList<>();
    if (useGtid) {
      if ("mysql".equals(plan.flavor()) || plan.startGtids() == null) {
        throw new IllegalStateException("a GTID connect needs a MariaDB plan with a start GTID state (a base backup"
            + " registered with its GTID); connect by file and position instead");
      }
      out.add("SET GLOBAL gtid_slave_pos='" + sqlString(plan.startGtids()) + "'");
      out.add(change + ", MASTER_USE_GTID=slave_pos");
    } else {
      out.add(change + ", MASTER_LOG_FILE='" + sqlString(plan.startFile()) + "', MASTER_LOG_POS=" + plan.startPosition()
          + ("mysql".equals(plan.flavor()) ? "" : ", MASTER_USE_GTID=no"));
    }
    out.add("START SLAVE");
    return out;
  }

  private static String sqlString(String s) {
    return s.replace("\\", "\\\\").replace("'", "''");
  }

  /**
   * Waits until a replica has been sent everything up to the plan's target.
   *
   * @param timeout how long to wait
   * @return where the replica stops: its position once it has applied what it was sent
   * @throws IOException if serving failed (a damaged or missing file: the message names it)
   * @throws TimeoutException if the target was not reached in time
   */
  public ServePosition awaitTarget(Duration timeout) throws IOException, InterruptedException, TimeoutException {
    try {
      return target.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw c instanceof IOException io ? io : new IOException(c.getMessage(), c);
    }
  }

  /** @return the position after the last event sent to a replica, if any was */
  public Optional<ServePosition> position() {
    return Optional.ofNullable(progress);
  }

  /** @return the restore plan served */
  public RestorePlan plan() {
    return plan;
  }

  /** Stops listening, closes every replica connection and deletes the spooled files. */
  @Override
  public void close() throws IOException {
    closed = true;
    ServerSocket s = socket;
    if (s != null) {
      s.close();
    }
    for (ReplicaSession session : new ArrayList<>(sessions)) {
      session.closeSocket();
    }
    ArchiveFeed f = feed;
    if (f != null) {
      f.close();
    }
    target.completeExceptionally(new IOException("the server was closed before the target was reached"));
  }

  // ---- for the sessions -----------------------------------------------------------------------

  ServedSource served() {
    return served;
  }

  String user() {
    return user;
  }

  byte[] passwordHash() {
    return passwordHash;
  }

  byte[] sha2Hash() {
    return sha2Hash;
  }

  /** @return the TLS side of the listener, or null without a certificate */
  ServerTls tls() {
    return tls;
  }

  boolean sha2Cached() {
    return sha2Cached;
  }

  void sha2Authenticated() {
    sha2Cached = true;
  }

  ArchiveFeed feed() {
    return feed;
  }

  void progress(String file, long position) {
    progress = new ServePosition(file, position, null);
  }

  void targetSent(ServePosition at) {
    progress = at;
    target.complete(at);
  }

  void failed(IOException e) {
    target.completeExceptionally(e);
  }

  void sessionEnded(ReplicaSession s) {
    sessions.remove(s);
  }

  /** Configures a {@link BinlogServer}. */
  public static final class Builder {
    private ArchiveReader reader;
    private RestorePlan plan;
    private Path spool;
    private int prefetch = 3;
    private int parallelism = 2;
    private InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private String user = "repl";
    private byte[] passwordHash;
    private byte[] sha2Hash;
    private Path tlsCertificate;
    private Path tlsKey;
    private long serverId = -1;

    private Builder() {}

    /**
     * @param reader the archive the plan was made from
     * @return this builder
     */
    public Builder reader(ArchiveReader reader) {
      this.reader = Objects.requireNonNull(reader, "reader");
      return this;
    }

    /**
     * @param plan what to serve: from its start to its target
     * @return this builder
     */
    public Builder plan(RestorePlan plan) {
      this.plan = Objects.requireNonNull(plan, "plan");
      return this;
    }

    /**
     * @param directory where files are fetched ahead of the replica (created if missing); files are
     *     deleted once the replica has moved past them, and on {@link #close()}
     * @return this builder
     */
    public Builder spool(Path directory) {
      this.spool = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * @param files how many files may be fetched ahead of the one being served, at least 1
     *     (default 3); bounded further by the spool's free space
     * @return this builder
     */
    public Builder prefetch(int files) {
      if (files < 1) {
        throw new IllegalArgumentException("prefetch must be at least 1, got " + files);
      }
      this.prefetch = files;
      return this;
    }

    /**
     * @param n how many files are fetched at once, at least 1 (default 2)
     * @return this builder
     */
    public Builder parallelism(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("parallelism must be at least 1, got " + n);
      }
      this.parallelism = n;
      return this;
    }

    /**
     * @param address where to listen (default: loopback, a free port)
     * @return this builder
     */
    public Builder listen(InetSocketAddress address) {
      this.listen = Objects.requireNonNull(address, "address");
      return this;
    }

    /**
     * @param user the user name replicas log in with (default {@code repl})
     * @return this builder
     */
    public Builder user(String user) {
      if (Objects.requireNonNull(user, "user").isEmpty()) {
        throw new IllegalArgumentException("the user name is empty");
      }
      this.user = user;
      return this;
    }

    /**
     * The replicas' password. Only SHA1(SHA1(password)) and SHA256(SHA256(password)) are kept (for
     * {@code mysql_native_password} and {@code caching_sha2_password}); trailing line ends (of a
     * password file) are ignored. The caller may clear the array afterwards.
     *
     * @param password the password's bytes (UTF-8)
     * @return this builder
     */
    public Builder password(byte[] password) {
      int n = Objects.requireNonNull(password, "password").length;
      while (n > 0 && (password[n - 1] == '\n' || password[n - 1] == '\r')) {
        n--;
      }
      if (n == 0) {
        throw new IllegalArgumentException("the password is empty");
      }
      byte[] trimmed = java.util.Arrays.copyOf(password, n);
      this.passwordHash = NativePassword.sha1(NativePassword.sha1(trimmed));
      this.sha2Hash = CachingSha2Password.doubleSha256(trimmed);
      java.util.Arrays.fill(trimmed, (byte) 0);
      return this;
    }

    /**
     * Offers TLS to replicas and requires it: a replica that does not ask for TLS ({@code
     * MASTER_SSL=1}, MySQL's {@code SOURCE_SSL=1}) is refused, and {@link #replicaStatements}
     * include {@code MASTER_SSL=1}. Over TLS, {@code caching_sha2_password} full authentication
     * (the password in clear inside TLS, as MySQL 8 replicas send it on a first connection) is
     * possible; without TLS it is refused. The files are read by {@link BinlogServer#start()}.
     *
     * @param certificateChain PEM: the server's certificate, then any intermediates
     * @param privateKey PEM: its unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}, RSA or
     *     EC), e.g. from {@code openssl req -newkey rsa:2048 -nodes -keyout KEY ...}
     * @return this builder
     */
    public Builder tls(Path certificateChain, Path privateKey) {
      this.tlsCertificate = Objects.requireNonNull(certificateChain, "certificateChain");
      this.tlsKey = Objects.requireNonNull(privateKey, "privateKey");
      return this;
    }

    /**
     * @param id the server id to report (default: the source's, from the first file's events);
     *     the restored server's own {@code server_id} must differ from the source's
     * @return this builder
     */
    public Builder serverId(long id) {
      if (id < 1 || id > 0xFFFF_FFFFL) {
        throw new IllegalArgumentException("a server id is 1 to 4294967295, got " + id);
      }
      this.serverId = id;
      return this;
    }

    /**
     * @return the server, not started yet
     * @throws IllegalArgumentException naming every missing setting
     */
    public BinlogServer build() {
      List<String> missing = new ArrayList<>();
      if (reader == null) {
        missing.add("reader");
      }
      if (plan == null) {
        missing.add("plan");
      }
      if (spool == null) {
        missing.add("spool");
      }
      if (passwordHash == null) {
        missing.add("password");
      }
      if (!missing.isEmpty()) {
        throw new IllegalArgumentException("BinlogServer needs " + String.join(", ", missing).toLowerCase(Locale.ROOT));
      }
      return new BinlogServer(this);
    }
  }
}
