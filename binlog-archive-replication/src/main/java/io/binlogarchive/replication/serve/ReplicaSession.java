package io.binlogarchive.replication.serve;

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
import java.security.SecureRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: handshake v10, {@code mysql_native_password}, then commands until the
 * client quits or a binlog dump ends.
 */
final class ReplicaSession implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaSession.class);
  private static final String NATIVE = "mysql_native_password";
  private static final SecureRandom RANDOM = new SecureRandom();

  static final int CLIENT_LONG_PASSWORD = 0x1;
  static final int CLIENT_FOUND_ROWS = 0x2;
  static final int CLIENT_LONG_FLAG = 0x4;
  static final int CLIENT_CONNECT_WITH_DB = 0x8;
  static final int CLIENT_PROTOCOL_41 = 0x200;
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

  ReplicaSession(BinlogServer server, Socket socket, int connectionId) {
    this.server = server;
    this.socket = socket;
    this.connectionId = connectionId;
  }

  @Override
  public void run() {
    String peer = String.valueOf(socket.getRemoteSocketAddress());
    try (socket) {
      socket.setTcpNoDelay(true);
      PacketChannel ch = new PacketChannel(new BufferedInputStream(socket.getInputStream(), 1 << 16),
          new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
      if (!authenticate(ch, peer)) {
        return;
      }
      SetupQueries queries = new SetupQueries(server.globals(), server::binlogGtidPos);
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
            new DumpStream(server, ch, queries, socket, peer).run(cmd);
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

  private boolean authenticate(PacketChannel ch, String peer) throws IOException {
    byte[] scramble = new byte[20];
    for (int i = 0; i < scramble.length; i++) {
      scramble[i] = (byte) (1 + RANDOM.nextInt(126)); // printable-ish, never NUL: clients read it as a string
    }
    PayloadWriter hs = new PayloadWriter().u8(10).nulString(server.handshakeVersion()).fixed(connectionId, 4)
        .bytes(java.util.Arrays.copyOfRange(scramble, 0, 8)).u8(0).fixed(SERVER_CAPABILITIES & 0xFFFF, 2)
        .u8(45).fixed(0x0002, 2).fixed(SERVER_CAPABILITIES >>> 16, 2).u8(21).zeros(10)
        .bytes(java.util.Arrays.copyOfRange(scramble, 8, 20)).u8(0).nulString(NATIVE);
    ch.write(hs.toByteArray());
    PayloadReader r = new PayloadReader(ch.read());
    capabilities = (int) r.fixed(4);
    if ((capabilities & CLIENT_PROTOCOL_41) == 0) {
      Responses.error(ch, 1251, "08004", "binlog-archive serve needs a client that speaks protocol 4.1");
      return false;
    }
    r.skip(4 + 1 + 23);
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
    if (!NATIVE.equals(plugin)) {
      // Auth switch: ask for mysql_native_password with the same scramble.
      ch.write(new PayloadWriter().u8(0xFE).nulString(NATIVE).bytes(scramble).u8(0).toByteArray());
      answer = ch.read();
    }
    if (!server.user().equals(user) || !NativePassword.check(answer, scramble, server.passwordHash())) {
      LOG.warn("replica {} was refused: wrong user name or password (user '{}')", peer, user);
      Responses.error(ch, 1045, "28000", "Access denied for user '" + user + "' (using password: "
          + (answer.length > 0 ? "YES" : "NO") + ")");
      return false;
    }
    Responses.ok(ch);
    return true;
  }
}
