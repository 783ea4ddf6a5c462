package io.binlogarchive.replication.serve;

import io.binlogarchive.replication.internal.CachingSha2Password;
import io.binlogarchive.replication.internal.NativePassword;
import io.binlogarchive.replication.internal.PacketChannel;
import io.binlogarchive.replication.internal.PayloadReader;
import io.binlogarchive.replication.internal.PayloadWriter;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: handshake v10, TLS, {@code mysql_native_password} or {@code
 * caching_sha2_password}, then commands until the client quits or a binlog dump ends.
 */
final class ReplicaSession implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaSession.class);
  private static final String NATIVE = "mysql_native_password";
  private static final String SHA2 = "caching_sha2_password";
  private static final SecureRandom RANDOM = new SecureRandom();

  static final int CLIENT_LONG_PASSWORD = 0x1;
  static final int CLIENT_FOUND_ROWS = 0x2;
  static final int CLIENT_LONG_FLAG = 0x4;
  static final int CLIENT_CONNECT_WITH_DB = 0x8;
  static final int CLIENT_PROTOCOL_41 = 0x200;
  static final int CLIENT_SSL = 0x800;
  static final int CLIENT_TRANSACTIONS = 0x2000;
  static final int CLIENT_SECURE_CONNECTION = 0x8000;
  static final int CLIENT_MULTI_RESULTS = 0x20000;
  static final int CLIENT_PLUGIN_AUTH = 0x80000;
  static final int CLIENT_CONNECT_ATTRS = 0x100000;
  static final int CLIENT_PLUGIN_AUTH_LENENC_DATA = 0x200000;
  static final int SERVER_CAPABILITIES = CLIENT_LONG_PASSWORD | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG
      | CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION
      | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS | CLIENT_PLUGIN_AUTH_LENENC_DATA
      | Responses.CLIENT_DEPRECATE_EOF;

  static final int COM_QUIT = 0x01;
  static final int COM_INIT_DB = 0x02;
  static final int COM_QUERY = 0x03;
  static final int COM_PING = 0x0E;
  static final int COM_BINLOG_DUMP = 0x12;
  static final int COM_REGISTER_SLAVE = 0x15;
  static final int COM_BINLOG_DUMP_GTID = 0x1E;

  private final BinlogServer server;
  private final Socket socket;
  private final int connectionId;
  private int capabilities;
  /** The socket commands go over: {@link #socket}, or the TLS socket layered on it. */
  private Socket connection;

  ReplicaSession(BinlogServer server, Socket socket, int connectionId) {
    this.server = server;
    this.socket = socket;
    this.connection = socket;
    this.connectionId = connectionId;
  }

  @Override
  public void run() {
    String peer = String.valueOf(socket.getRemoteSocketAddress());
    try (socket) {
      socket.setTcpNoDelay(true);
      // unbuffered reads until the login is done: a TLS handshake may follow the SSLRequest at once
      PacketChannel login = new PacketChannel(socket.getInputStream(), new BufferedOutputStream(socket.getOutputStream()));
      if (!authenticate(login, peer)) {
        return;
      }
      PacketChannel ch = new PacketChannel(new BufferedInputStream(connection.getInputStream(), 1 << 16),
          new BufferedOutputStream(connection.getOutputStream(), 1 << 16));
      SetupQueries queries = new SetupQueries(server.served().globals(), server.served()::binlogGtidPos);
      while (true) {
        ch.resetSequence();
        byte[] cmd = ch.read();
        if (cmd.length == 0) {
          continue;
        }
        int code = cmd[0] & 0xFF;
        switch (code) {
          case COM_QUIT -> {
            return;
          }
          case COM_QUERY -> queries.answer(ch, capabilities, new String(cmd, 1, cmd.length - 1, StandardCharsets.UTF_8));
          case COM_PING, COM_INIT_DB -> Responses.ok(ch);
          case COM_REGISTER_SLAVE -> {
            PayloadReader r = new PayloadReader(cmd).skip(1);
            long replicaId = r.fixed(4);
            LOG.info("replica {} (server id {}) registered", peer, replicaId);
            Responses.ok(ch);
          }
          case COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID -> {
            new DumpStream(server, ch, queries, connection, peer).run(cmd);
            return; // a dump ends the connection, as on a real server
          }
          default -> Responses.error(ch, 1047, "08S01", "binlog-archive serve does not support command 0x"
              + Integer.toHexString(code));
        }
      }
    } catch (EOFException | SocketException e) {
      LOG.debug("connection {} from {} closed: {}", connectionId, peer, e.toString());
    } catch (IOException | RuntimeException e) {
      LOG.warn("connection {} from {} failed: {}", connectionId, peer, e.toString());
    } finally {
      server.sessionEnded(this);
    }
  }

  void closeSocket() {
    try {
      socket.close();
    } catch (IOException e) {
      LOG.debug("closing {}: {}", socket, e.toString());
    }
  }

  /**
   * Handshake v10, TLS if the replica asks for it (required when the server has a certificate),
   * then {@code mysql_native_password} or {@code caching_sha2_password}, whichever the replica
   * answers with (others are switched to {@code mysql_native_password}).
   *
   * @param ch the connection's packets, read unbuffered
   * @return whether the replica is logged in (otherwise it got an error)
   */
  private boolean authenticate(PacketChannel ch, String peer) throws IOException {
    byte[] scramble = new byte[20];
    for (int i = 0; i < scramble.length; i++) {
      scramble[i] = (byte) (1 + RANDOM.nextInt(126)); // printable-ish, never NUL: clients read it as a string
    }
    ServerTls tls = server.tls();
    int offered = SERVER_CAPABILITIES | (tls != null ? CLIENT_SSL : 0);
    PayloadWriter hs = new PayloadWriter().u8(10).nulString(server.served().handshakeVersion()).fixed(connectionId, 4)
        .bytes(java.util.Arrays.copyOfRange(scramble, 0, 8)).u8(0).fixed(offered & 0xFFFF, 2)
        .u8(45).fixed(0x0002, 2).fixed(offered >>> 16, 2).u8(21).zeros(10)
        .bytes(java.util.Arrays.copyOfRange(scramble, 8, 20)).u8(0).nulString(NATIVE);
    ch.write(hs.toByteArray());
    byte[] response = ch.read();
    capabilities = (int) new PayloadReader(response).fixed(4);
    boolean secure = false;
    if (tls != null && (capabilities & CLIENT_SSL) != 0) {
      connection = tls.accept(socket); // the SSLRequest was the short packet just read
      secure = true;
      ch = new PacketChannel(connection.getInputStream(), new BufferedOutputStream(connection.getOutputStream()));
      response = ch.read();
      capabilities = (int) new PayloadReader(response).fixed(4);
    } else if ((capabilities & CLIENT_SSL) != 0) {
      LOG.warn("replica {} was refused: it asked for TLS, which this server does not offer", peer);
      Responses.error(ch, 1045, "28000", "binlog-archive serve offers no TLS (start it with --tls-cert and --tls-key),"
          + " or connect without MASTER_SSL");
      return false;
    } else if (tls != null) {
      LOG.warn("replica {} was refused: it did not ask for TLS, which this server requires", peer);
      Responses.error(ch, 1045, "28000", "binlog-archive serve requires TLS (it has a certificate): connect with"
          + " MASTER_SSL=1 (SOURCE_SSL=1), or mariadb --ssl");
      return false;
    }
    if ((capabilities & CLIENT_PROTOCOL_41) == 0) {
      Responses.error(ch, 1251, "08004", "binlog-archive serve needs a client that speaks protocol 4.1");
      return false;
    }
    PayloadReader r = new PayloadReader(response).skip(4 + 4 + 1 + 23);
    String user = r.nulString();
    byte[] answer;
    if ((capabilities & CLIENT_PLUGIN_AUTH_LENENC_DATA) != 0) {
      answer = r.bytes((int) r.lenenc());
    } else if ((capabilities & CLIENT_SECURE_CONNECTION) != 0) {
      answer = r.bytes(r.u8());
    } else {
      answer = r.nulString().getBytes(StandardCharsets.ISO_8859_1);
    }
    if ((capabilities & CLIENT_CONNECT_WITH_DB) != 0 && r.remaining() > 0) {
      r.nulString();
    }
    String plugin = (capabilities & CLIENT_PLUGIN_AUTH) != 0 && r.remaining() > 0 ? r.nulString() : NATIVE;
    if (!NATIVE.equals(plugin) && !SHA2.equals(plugin)) {
      plugin = NATIVE;
      answer = switchPlugin(ch, NATIVE, scramble);
    } else if (SHA2.equals(plugin) && answer.length != 32) {
      // a client whose default plugin is not the greeting's (MySQL 8's) answers with nothing and waits
      // for a switch: to its own over TLS; without TLS, where its full authentication would be refused,
      // to mysql_native_password, which MySQL 8.0 and MariaDB clients have
      plugin = secure ? SHA2 : NATIVE;
      answer = switchPlugin(ch, plugin, scramble);
    }
    boolean ok = server.user().equals(user);
    if (NATIVE.equals(plugin)) {
      ok &= NativePassword.check(answer, scramble, server.passwordHash());
    } else {
      Boolean sha2 = cachingSha2(ch, answer, scramble, ok, secure, peer);
      if (sha2 == null) {
        return false;
      }
      ok &= sha2;
    }
    if (!ok) {
      LOG.warn("replica {} was refused: wrong user name or password (user '{}', {})", peer, user, plugin);
      Responses.error(ch, 1045, "28000", "Access denied for user '" + user + "' (using password: "
          + (answer.length > 0 ? "YES" : "NO") + ")");
      return false;
    }
    Responses.ok(ch);
    return true;
  }

  private static byte[] switchPlugin(PacketChannel ch, String plugin, byte[] scramble) throws IOException {
    ch.write(new PayloadWriter().u8(0xFE).nulString(plugin).bytes(scramble).u8(0).toByteArray());
    return ch.read();
  }

  /**
   * {@code caching_sha2_password} as a MySQL server does it: the fast path once a full
   * authentication of the user succeeded since the server started (its "cache"), otherwise full
   * authentication, which takes the password in clear and so only over TLS.
   *
   * @return whether the password is right, or null when the replica was refused already
   */
  private Boolean cachingSha2(PacketChannel ch, byte[] answer, byte[] scramble, boolean knownUser, boolean secure,
      String peer) throws IOException {
    if (knownUser && server.sha2Cached() && CachingSha2Password.check(answer, scramble, server.sha2Hash())) {
      ch.write(new byte[] {1, CachingSha2Password.FAST_AUTH_SUCCESS});
      return true;
    }
    ch.write(new byte[] {1, CachingSha2Password.PERFORM_FULL_AUTHENTICATION});
    byte[] p = ch.read();
    if (!secure) {
      Arrays.fill(p, (byte) 0);
      LOG.warn("replica {} was refused: caching_sha2_password full authentication without TLS", peer);
      Responses.error(ch, 1045, "28000", "binlog-archive serve takes caching_sha2_password full authentication only"
          + " over TLS (it has no RSA key): start it with --tls-cert and --tls-key and connect with MASTER_SSL=1"
          + " (SOURCE_SSL=1), or use mysql_native_password");
      return null;
    }
    int n = p.length > 0 && p[p.length - 1] == 0 ? p.length - 1 : p.length;
    byte[] password = Arrays.copyOf(p, n);
    Arrays.fill(p, (byte) 0);
    byte[] hash = CachingSha2Password.doubleSha256(password);
    Arrays.fill(password, (byte) 0);
    boolean ok = knownUser && MessageDigest.isEqual(hash, server.sha2Hash());
    if (ok) {
      server.sha2Authenticated();
    }
    return ok;
  }
}
