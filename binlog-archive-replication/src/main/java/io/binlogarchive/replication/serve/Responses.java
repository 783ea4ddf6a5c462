package io.binlogarchive.replication.serve;

import io.binlogarchive.replication.internal.PacketChannel;
import io.binlogarchive.replication.internal.PayloadWriter;
import java.io.IOException;
import java.util.List;

/** The server's generic answers in the text protocol: OK, ERR and result sets. */
final class Responses {
  static final int CLIENT_DEPRECATE_EOF = 0x0100_0000;
  private static final int SERVER_STATUS_AUTOCOMMIT = 0x0002;
  private static final int TYPE_VAR_STRING = 0xFD;
  private static final int UTF8MB4_GENERAL_CI = 45;

  private Responses() {}

  static void ok(PacketChannel ch) throws IOException {
    ch.write(new PayloadWriter().u8(0).lenenc(0).lenenc(0).fixed(SERVER_STATUS_AUTOCOMMIT, 2).fixed(0, 2).toByteArray());
  }

  /**
   * An ERR packet.
   *
   * @param code the server error number (e.g. 1236, ER_MASTER_FATAL_ERROR_READING_BINLOG)
   * @param sqlState five characters
   * @param message what went wrong
   */
  static void error(PacketChannel ch, int code, String sqlState, String message) throws IOException {
    ch.write(new PayloadWriter().u8(0xFF).fixed(code, 2).u8('#').bytes(sqlState.getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        .bytes(message.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toByteArray());
  }

  /**
   * A text result set of string columns: column count, definitions, rows, then EOF or (with
   * CLIENT_DEPRECATE_EOF) an OK packet flagged as EOF.
   */
  static void resultSet(PacketChannel ch, int clientCapabilities, List<String> columns, List<List<String>> rows)
      throws IOException {
    boolean deprecateEof = (clientCapabilities & CLIENT_DEPRECATE_EOF) != 0;
    byte[] count = new PayloadWriter().lenenc(columns.size()).toByteArray();
    ch.writeNoFlush(count, 0, count.length);
    for (String c : columns) {
      byte[] def = new PayloadWriter().lenencString("def").lenencString("").lenencString("").lenencString("")
          .lenencString(c).lenencString(c).lenenc(0x0C).fixed(UTF8MB4_GENERAL_CI, 2).fixed(1024, 4).u8(TYPE_VAR_STRING)
          .fixed(0, 2).u8(0).fixed(0, 2).toByteArray();
      ch.writeNoFlush(def, 0, def.length);
    }
    if (!deprecateEof) {
      eof(ch);
    }
    for (List<String> row : rows) {
      PayloadWriter w = new PayloadWriter();
      for (String v : row) {
        w.lenencString(v);
      }
      byte[] b = w.toByteArray();
      ch.writeNoFlush(b, 0, b.length);
    }
    if (deprecateEof) {
      byte[] end = new PayloadWriter().u8(0xFE).lenenc(0).lenenc(0).fixed(SERVER_STATUS_AUTOCOMMIT, 2).fixed(0, 2)
          .toByteArray();
      ch.writeNoFlush(end, 0, end.length);
    } else {
      eof(ch);
    }
    ch.flush();
  }

  private static void eof(PacketChannel ch) throws IOException {
    byte[] eof = new PayloadWriter().u8(0xFE).fixed(0, 2).fixed(SERVER_STATUS_AUTOCOMMIT, 2).toByteArray();
    ch.writeNoFlush(eof, 0, eof.length);
  }
}
