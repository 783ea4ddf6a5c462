package io.binlogarchive.replication.live;

import io.binlogarchive.replication.internal.PacketChannel;
import io.binlogarchive.replication.internal.PayloadReader;
import io.binlogarchive.replication.internal.PayloadWriter;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One connection to a MySQL or MariaDB server as a replica: handshake (optionally TLS), authentication,
 * the replica's setup queries, {@code COM_REGISTER_SLAVE}, {@code COM_BINLOG_DUMP[_GTID]} and the event
 * stream with its semi-sync acknowledgements. Events are read by one thread; {@link #ack} may be called
 * from another. The greeting, the switch to TLS and authentication are {@link ClientHandshake}'s.
 */
final class ReplicationClient implements Closeable {
  static final int COM_QUERY = 0x03;
  static final int COM_BINLOG_DUMP = 0x12;
  static final int COM_REGISTER_SLAVE = 0x15;
  static final int COM_BINLOG_DUMP_GTID = 0x1e;
  /** MariaDB: also send ANNOTATE_ROWS events, so the stream holds every event of the file. */
  static final int BINLOG_SEND_ANNOTATE_ROWS_EVENT = 2;
  static final int BINLOG_DUMP_NON_BLOCK = 1;
  static final int BINLOG_THROUGH_GTID = 4;
  static final int SEMI_SYNC_MAGIC = 0xEF;
  static final String NATIVE = "mysql_native_password";
  static final String CACHING_SHA2 = "caching_sha2_password";

  private final SourceConfig config;
  private final Socket socket;
  private final SwitchableStreams streams;
  private final PacketChannel channel;
  private final OutputStream rawOut;
  private final Object writeLock = new Object();
  private String serverVersion;
  private long connectionId;
  private boolean tls;
  private boolean semiSyncActive;
  private boolean semiSyncOnSource;
  private boolean checksumCrc32;

  private ReplicationClient(SourceConfig config, Socket socket) throws IOException {
    this.config = config;
    this.socket = socket;
    this.streams = new SwitchableStreams(new BufferedInputStream(socket.getInputStream(), 1 << 16),
        new BufferedOutputStream(socket.getOutputStream(), 1 << 14));
    this.rawOut = streams.out();
    this.channel = new PacketChannel(streams.in(), rawOut);
  }

  /**
   * Connects and authenticates.
   *
   * @throws ServerErrorException when the server refuses (bad password, no such user, ...)
   * @throws IOException on a network or TLS failure
   */
  static ReplicationClient connect(SourceConfig config) throws IOException {
    return connect(config, null);
  }

  /**
   * As {@link #connect(SourceConfig)}, answering the greeting with {@code firstPlugin} instead of the
   * plugin the server names (as a client whose default differs would), so the server switches plugins.
   */
  static ReplicationClient connect(SourceConfig config, String firstPlugin) throws IOException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      int timeout = (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis());
      s.connect(new InetSocketAddress(config.host(), config.port()), timeout);
      s.setSoTimeout(timeout);
      ReplicationClient c = new ReplicationClient(config, s);
      ClientHandshake h = new ClientHandshake(config, s, c.streams, c.channel);
      h.run(firstPlugin);
      c.serverVersion = h.serverVersion;
      c.connectionId = h.connectionId;
      c.tls = h.tls;
      s.setSoTimeout(0);
      return c;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  String serverVersion() {
    return serverVersion;
  }

  boolean isMariaDb() {
    return serverVersion.contains("MariaDB");
  }

  long connectionId() {
    return connectionId;
  }

  boolean isTls() {
    return tls;
  }

  boolean semiSyncActive() {
    return semiSyncActive;
  }

  /** @return the source had semi-sync enabled when this connection prepared replication */
  boolean semiSyncOnSource() {
    return semiSyncOnSource;
  }

  boolean checksumCrc32() {
    return checksumCrc32;
  }

  // ---------------------------------------------------------------- queries

  /** Runs a statement that returns no rows. */
  void execute(String sql) throws IOException {
    List<String[]> rows = query(sql);
    if (!rows.isEmpty()) {
      throw new IOException("'" + sql + "' returned rows where none were expected");
    }
  }

  /** Runs a query over the text protocol; NULL columns are null. */
  List<String[]> query(String sql) throws IOException {
    byte[] q = new PayloadWriter().u8(COM_QUERY).bytes(sql.getBytes(StandardCharsets.UTF_8)).toByteArray();
    synchronized (writeLock) {
      channel.resetSequence();
      channel.write(q);
    }
    byte[] first = channel.read();
    int status = first[0] & 0xFF;
    if (status == 0xFF) {
      throw error("query '" + sql + "'", first);
    }
    List<String[]> rows = new ArrayList<>();
    if (status == 0x00) {
      return rows;
    }
    int columns = Math.toIntExact(new PayloadReader(first).lenenc());
    for (int i = 0; i < columns; i++) {
      channel.read();
    }
    byte[] p = channel.read(); // EOF after the column definitions
    while (true) {
      p = channel.read();
      int s = p[0] & 0xFF;
      if (s == 0xFE && p.length < 9) {
        return rows;
      }
      if (s == 0xFF) {
        throw error("query '" + sql + "'", p);
      }
      PayloadReader r = new PayloadReader(p);
      String[] row = new String[columns];
      for (int i = 0; i < columns; i++) {
        row[i] = r.lenencString();
      }
      rows.add(row);
    }
  }

  /** The global value of a server variable, or null if the server has no such variable. */
  String globalVariable(String name) throws IOException {
    List<String[]> rows = query("SHOW GLOBAL VARIABLES LIKE '" + name + "'");
    return rows.isEmpty() ? null : rows.get(0)[1];
  }

  /**
   * The statements a replica sends before asking for the binlog: checksum awareness, heartbeat period,
   * MariaDB's capability level, semi-sync if configured and offered.
   */
  void prepareReplication() throws IOException {
    execute("SET @master_binlog_checksum = @@global.binlog_checksum");
    if (!isMariaDb()) {
      execute("SET @source_binlog_checksum = @@global.binlog_checksum");
    }
    List<String[]> alg = query("SELECT @master_binlog_checksum");
    checksumCrc32 = !alg.isEmpty() && "CRC32".equalsIgnoreCase(alg.get(0)[0]);
    long nanos = config.heartbeat().toNanos();
    execute("SET @master_heartbeat_period = " + nanos);
    if (!isMariaDb()) {
      execute("SET @source_heartbeat_period = " + nanos);
    }
    if (isMariaDb()) {
      execute("SET @mariadb_slave_capability = 4");
    }
    if (config.semiSync()) {
      // Whether the source has semi-sync on (by SET GLOBAL or by its startup option, the same variable):
      // the replica side is declared either way, since the source may turn it on later; the value is
      // read from the global variable, not from SHOW VARIABLES' session view.
      String master = globalVariable("rpl_semi_sync_master_enabled");
      if (master != null) {
        execute("SET @rpl_semi_sync_slave = 1");
        semiSyncActive = true;
      } else {
        master = globalVariable("rpl_semi_sync_source_enabled");
        if (master != null) {
          execute("SET @rpl_semi_sync_replica = 1");
          semiSyncActive = true;
        }
      }
      semiSyncOnSource = master != null && ("1".equals(master) || "ON".equalsIgnoreCase(master));
    }
    // The server sends a heartbeat whenever it has had nothing to send for one period: a connection
    // silent for four periods and five seconds more is broken (a stalled network, a frozen server).
    socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, config.heartbeat().toMillis() * 4 + 5_000));
  }

  /** MariaDB: start from a GTID position instead of a file name ({@code @slave_connect_state}). */
  void setMariaDbGtidStart(String gtidPos) throws IOException {
    if (!gtidPos.matches("[0-9\\-, ]*")) {
      throw new IllegalArgumentException("'" + gtidPos + "' is not a MariaDB GTID position (domain-server-seq,...)");
    }
    execute("SET @slave_connect_state = '" + gtidPos + "'");
    execute("SET @slave_gtid_strict_mode = 1");
    execute("SET @slave_gtid_ignore_duplicates = 0");
  }

  void registerReplica() throws IOException {
    byte[] host = new byte[0];
    byte[] user = new byte[0];
    byte[] p = new PayloadWriter().u8(COM_REGISTER_SLAVE).fixed(config.replicaServerId(), 4).u8(host.length).bytes(host)
        .u8(user.length).bytes(user).u8(0).fixed(0, 2).fixed(0, 4).fixed(0, 4).toByteArray();
    command(p, "COM_REGISTER_SLAVE");
  }

  private void command(byte[] payload, String what) throws IOException {
    synchronized (writeLock) {
      channel.resetSequence();
      channel.write(payload);
    }
    byte[] reply = channel.read();
    if ((reply[0] & 0xFF) == 0xFF) {
      throw error(what, reply);
    }
  }

  /** Asks for the binlog from {@code file} at {@code position}; events follow. */
  void dump(String file, long position) throws IOException {
    int flags = isMariaDb() ? BINLOG_SEND_ANNOTATE_ROWS_EVENT : 0;
    byte[] p = new PayloadWriter().u8(COM_BINLOG_DUMP).fixed(position, 4).fixed(flags, 2)
        .fixed(config.replicaServerId(), 4).bytes(file.getBytes(StandardCharsets.UTF_8)).toByteArray();
    synchronized (writeLock) {
      channel.resetSequence();
      channel.write(p);
    }
  }

  /** MySQL: asks for every transaction not in {@code executed} (COM_BINLOG_DUMP_GTID). */
  void dumpGtid(String executed) throws IOException {
    byte[] set = MySqlGtidSetEncoding.encode(executed);
    byte[] p = new PayloadWriter().u8(COM_BINLOG_DUMP_GTID).fixed(BINLOG_THROUGH_GTID, 2)
        .fixed(config.replicaServerId(), 4).fixed(0, 4).fixed(4, 8).fixed(set.length, 4).bytes(set).toByteArray();
    synchronized (writeLock) {
      channel.resetSequence();
      channel.write(p);
    }
  }

  // ---------------------------------------------------------------- the event stream

  /** One event as the server sent it, without the protocol's OK byte and semi-sync header. */
  static final class Received {
    final byte[] payload;
    final int offset;
    final boolean needsAck;

    Received(byte[] payload, int offset, boolean needsAck) {
      this.payload = payload;
      this.offset = offset;
      this.needsAck = needsAck;
    }

    int length() {
      return payload.length - offset;
    }
  }

  /**
   * The next event.
   *
   * @return the event, or null when the server says the stream ended (EOF packet)
   * @throws ServerErrorException with the server's message when it sends an error
   * @throws EOFException when the connection closes
   */
  Received next(String context) throws IOException {
    byte[] p = channel.read();
    if (p.length == 0) {
      throw new IOException(context + ": empty packet in the binlog stream");
    }
    int status = p[0] & 0xFF;
    if (status == 0xFF) {
      throw error(context, p);
    }
    if (status == 0xFE && p.length < 9) {
      return null;
    }
    if (status != 0x00) {
      throw new IOException(context + ": unexpected packet 0x" + Integer.toHexString(status) + " in the binlog stream");
    }
    if (!semiSyncActive) {
      return new Received(p, 1, false);
    }
    if (p.length < 3 || (p[1] & 0xFF) != SEMI_SYNC_MAGIC) {
      throw new IOException(context + ": semi-sync is on but an event arrived without the semi-sync header");
    }
    return new Received(p, 3, (p[2] & 0x01) != 0);
  }

  /** Tells a semi-sync source that everything up to {@code position} of {@code file} is durable here. */
  void ack(String file, long position) throws IOException {
    byte[] name = file.getBytes(StandardCharsets.UTF_8);
    byte[] p = new PayloadWriter().u8(SEMI_SYNC_MAGIC).fixed(position, 8).bytes(name).toByteArray();
    // Framed here with sequence id 0, not through the channel: the reading thread moves the channel's
    // sequence id while this may run on another thread.
    byte[] header = {(byte) p.length, (byte) (p.length >>> 8), (byte) (p.length >>> 16), 0};
    synchronized (writeLock) {
      rawOut.write(header);
      rawOut.write(p);
      rawOut.flush();
    }
  }

  /** @return the server's error packet {@code p} as an exception about {@code what} */
  static ServerErrorException error(String what, byte[] p) {
    PayloadReader r = new PayloadReader(p).skip(1);
    int code = (int) r.fixed(2);
    String state = "";
    if (r.remaining() > 0 && p[r.position()] == '#') {
      r.skip(1);
      state = new String(r.bytes(5), StandardCharsets.US_ASCII);
    }
    return new ServerErrorException(what, code, state, new String(r.rest(), StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  /** Streams whose target changes once, when TLS is layered on the socket. */
  static final class SwitchableStreams {
    private volatile InputStream in;
    private volatile OutputStream out;

    SwitchableStreams(InputStream in, OutputStream out) {
      this.in = in;
      this.out = out;
    }

    void switchTo(InputStream newIn, OutputStream newOut) {
      this.in = newIn;
      this.out = newOut;
    }

    InputStream in() {
      return new InputStream() {
        @Override
        public int read() throws IOException {
          return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          return in.read(b, off, len);
        }
      };
    }

    OutputStream out() {
      return new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
          out.flush();
        }
      };
    }
  }
}
