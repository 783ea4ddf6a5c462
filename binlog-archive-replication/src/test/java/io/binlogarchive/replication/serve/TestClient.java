package io.binlogarchive.replication.serve;

import io.binlogarchive.replication.internal.NativePassword;
import io.binlogarchive.replication.internal.PacketChannel;
import io.binlogarchive.replication.internal.PayloadReader;
import io.binlogarchive.replication.internal.PayloadWriter;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A minimal protocol client for the server's tests: login, text queries, a binlog dump. */
final class TestClient implements AutoCloseable {
  final Socket socket;
  final PacketChannel ch;
  final int capabilities;
  String serverVersion;

  TestClient(InetSocketAddress at, boolean deprecateEof) throws IOException {
    socket = new Socket(at.getAddress(), at.getPort());
    ch = new PacketChannel(new BufferedInputStream(socket.getInputStream()), new BufferedOutputStream(socket.getOutputStream()));
    capabilities = ReplicaSession.CLIENT_PROTOCOL_41 | ReplicaSession.CLIENT_SECURE_CONNECTION
        | ReplicaSession.CLIENT_PLUGIN_AUTH | ReplicaSession.CLIENT_LONG_PASSWORD
        | (deprecateEof ? Responses.CLIENT_DEPRECATE_EOF : 0);
  }

  /** Logs in; returns the server's answer (OK: first byte 0, ERR: 0xFF). */
  byte[] login(String user, String password) throws IOException {
    PayloadReader hs = new PayloadReader(ch.read());
    if (hs.u8() != 10) {
      throw new IOException("not a v10 handshake");
    }
    serverVersion = hs.nulString();
    hs.skip(4);
    byte[] part1 = hs.bytes(8);
    hs.skip(1 + 2 + 1 + 2 + 2 + 1 + 10);
    byte[] part2 = hs.bytes(12);
    byte[] scramble = new byte[20];
    System.arraycopy(part1, 0, scramble, 0, 8);
    System.arraycopy(part2, 0, scramble, 8, 12);
    byte[] answer = NativePassword.scramble(password, scramble);
    ch.write(new PayloadWriter().fixed(capabilities, 4).fixed(1 << 24, 4).u8(45).zeros(23).nulString(user)
        .u8(answer.length).bytes(answer).nulString("mysql_native_password").toByteArray());
    return ch.read();
  }

  /** Sends a query; reads an OK/ERR or a whole text result set (rows of strings; ERR as an exception). */
  List<List<String>> query(String sql) throws IOException {
    ch.resetSequence();
    ch.write(new PayloadWriter().u8(ReplicaSession.COM_QUERY).bytes(sql.getBytes(StandardCharsets.UTF_8)).toByteArray());
    byte[] first = ch.read();
    if ((first[0] & 0xFF) == 0xFF) {
      throw QueryError.of(first);
    }
    if (first[0] == 0) {
      return List.of();
    }
    int columns = (int) new PayloadReader(first).lenenc();
    for (int i = 0; i < columns; i++) {
      ch.read();
    }
    boolean deprecateEof = (capabilities & Responses.CLIENT_DEPRECATE_EOF) != 0;
    if (!deprecateEof) {
      byte[] eof = ch.read();
      if ((eof[0] & 0xFF) != 0xFE || eof.length != 5) {
        throw new IOException("expected an EOF packet after the column definitions: " + Arrays.toString(eof));
      }
    }
    List<List<String>> rows = new ArrayList<>();
    while (true) {
      byte[] p = ch.read();
      if ((p[0] & 0xFF) == 0xFE && p.length < 0xFFFFFF) {
        if (deprecateEof && p.length < 7) {
          throw new IOException("expected an OK packet (0xFE) at the end of the rows, got " + p.length + " bytes");
        }
        return rows;
      }
      PayloadReader r = new PayloadReader(p);
      List<String> row = new ArrayList<>();
      for (int i = 0; i < columns; i++) {
        row.add(r.lenencString());
      }
      rows.add(row);
    }
  }

  /** COM_BINLOG_DUMP from {@code file:pos}. */
  void dump(String file, long pos, int flags) throws IOException {
    ch.resetSequence();
    ch.write(new PayloadWriter().u8(ReplicaSession.COM_BINLOG_DUMP).fixed(pos, 4).fixed(flags, 2).fixed(99, 4)
        .bytes(file.getBytes(StandardCharsets.UTF_8)).toByteArray());
  }

  /** The next event of a dump (without the OK byte), or null at its EOF packet. */
  byte[] event() throws IOException {
    byte[] p = ch.read();
    if ((p[0] & 0xFF) == 0xFF) {
      throw QueryError.of(p);
    }
    if ((p[0] & 0xFF) == 0xFE && p.length < 9) {
      return null;
    }
    return Arrays.copyOfRange(p, 1, p.length);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  /** An ERR packet. */
  static final class QueryError extends IOException {
    private static final long serialVersionUID = 1L;
    final int code;

    QueryError(int code, String message) {
      super(code + ": " + message);
      this.code = code;
    }

    /** @param err an ERR packet: 0xFF, code, '#', SQL state, message */
    static QueryError of(byte[] err) {
      PayloadReader r = new PayloadReader(err).skip(1);
      int code = (int) r.fixed(2);
      r.skip(6);
      return new QueryError(code, new String(r.rest(), StandardCharsets.UTF_8));
    }
  }
}
