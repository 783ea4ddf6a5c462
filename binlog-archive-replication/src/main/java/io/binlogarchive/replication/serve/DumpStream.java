package io.binlogarchive.replication.serve;

import io.binlogarchive.Sidecar;
import io.binlogarchive.replication.internal.BinlogEvents;
import io.binlogarchive.replication.internal.PacketChannel;
import io.binlogarchive.replication.internal.PayloadReader;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code COM_BINLOG_DUMP} or {@code COM_BINLOG_DUMP_GTID}: the artificial ROTATE and the format
 * description a server sends first, then the plan's events as they are in the files (the server's
 * own bytes, checksums included), file after file, each file only once it is proven; at the target
 * it stops on a transaction boundary and idles with heartbeats.
 */
final class DumpStream {
  private static final Logger LOG = LoggerFactory.getLogger(DumpStream.class);
  static final int ER_MASTER_FATAL_ERROR_READING_BINLOG = 1236;
  private static final int BINLOG_DUMP_NON_BLOCK = 0x01;
  private static final int BINLOG_SEND_ANNOTATE_ROWS_EVENT = 0x02;
  private static final int BINLOG_THROUGH_GTID = 0x04;

  private final BinlogServer server;
  private final PacketChannel ch;
  private final SetupQueries queries;
  private final Socket socket;
  private final String peer;
  private final ArchiveFeed feed;
  private byte[] packet = new byte[1 << 16];
  private String file;
  private long position;
  private String lastGtid;
  /** Whether the current file's events end with a CRC32. */
  private boolean checksums;
  /**
   * Whether the events made up for this dump (ROTATE, HEARTBEAT) carry a CRC32: as a server does,
   * when the replica declared {@code @master_binlog_checksum} CRC32 (it announces the algorithm it
   * expects; {@code mariadb-binlog} says NONE). The files' events pass through as they are.
   */
  private boolean artificialChecksums;
  private long heartbeatNanos;

  DumpStream(BinlogServer server, PacketChannel ch, SetupQueries queries, Socket socket, String peer) {
    this.server = server;
    this.ch = ch;
    this.queries = queries;
    this.socket = socket;
    this.peer = peer;
    this.feed = server.feed();
  }

  void run(byte[] cmd) throws IOException {
    PayloadReader r = new PayloadReader(cmd).skip(1);
    int flags;
    long replicaId;
    String requestedFile;
    long requestedPos;
    GtidFilter skip = null;
    if ((cmd[0] & 0xFF) == ReplicaSession.COM_BINLOG_DUMP) {
      requestedPos = r.fixed(4);
      flags = (int) r.fixed(2);
      replicaId = r.fixed(4);
      requestedFile = new String(r.rest(), StandardCharsets.UTF_8);
      String connectState = queries.userVariable("slave_connect_state");
      if (connectState != null) {
        skip = GtidFilter.mariaDb(connectState);
        requestedFile = "";
      }
    } else {
      flags = (int) r.fixed(2);
      replicaId = r.fixed(4);
      int nameLen = (int) r.fixed(4);
      requestedFile = new String(r.bytes(nameLen), StandardCharsets.UTF_8);
      requestedPos = r.fixed(8);
      if ((flags & BINLOG_THROUGH_GTID) != 0) {
        skip = GtidFilter.mySql(r.bytes((int) r.fixed(4)));
        requestedFile = "";
      }
    }
    heartbeatNanos = parseLong(queries.userVariable("master_heartbeat_period"));
    if (heartbeatNanos == 0) {
      heartbeatNanos = parseLong(queries.userVariable("source_heartbeat_period")); // MySQL 8.0.26+
    }
    artificialChecksums(queries);
    boolean annotate = (flags & BINLOG_SEND_ANNOTATE_ROWS_EVENT) != 0;
    int i;
    if (requestedFile.isEmpty()) {
      i = 0;
      position = feed.firstPosition(0);
    } else {
      i = feed.indexOf(requestedFile);
      position = Math.max(4, requestedPos);
      String refusal = null;
      if (i < 0 && position == 4 && follows(requestedFile, feed.sidecar(feed.size() - 1).file())) {
        // where the last file's ROTATE left a replica that has everything: nothing more to send
        LOG.info("replica {} (server id {}) is past the plan's last file, at {}:4; it has everything", peer, replicaId,
            requestedFile);
        file = requestedFile;
        send(Events.fakeRotate(server.served().serverId(), file, 4, artificialChecksums));
        finish(flags);
        return;
      }
      if (i < 0) {
        refusal = "binlog-archive serve has no " + requestedFile + " in its restore plan (" + feed.sidecar(0).file()
            + " to " + feed.sidecar(feed.size() - 1).file() + "); point the replica at " + feed.sidecar(0).file() + ":"
            + feed.firstPosition(0);
      } else if (position < feed.firstPosition(i)) {
        refusal = "binlog-archive serve starts at " + feed.sidecar(0).file() + ":" + feed.firstPosition(0)
            + " (the restore plan's start), not at " + requestedFile + ":" + position;
      }
      if (refusal != null) {
        LOG.warn("replica {} asked for {}:{}: {}", peer, requestedFile, requestedPos, refusal);
        Responses.error(ch, ER_MASTER_FATAL_ERROR_READING_BINLOG, "HY000", refusal);
        return;
      }
    }
    LOG.info("replica {} (server id {}) dumps from {}:{}{}", peer, replicaId, feed.sidecar(i).file(), position,
        skip == null ? "" : " skipping the GTIDs it has");
    file = feed.sidecar(i).file();
    checksums = checksums(feed.sidecar(i));
    feed.release(i); // a replica that resumes further on needs none of the files before
    send(Events.fakeRotate(server.served().serverId(), file, position, artificialChecksums));
    boolean firstFile = true;
    while (true) {
      ArchiveFeed.Ready ready = awaitFile(i);
      if (ready == null) {
        return; // the error went to the replica
      }
      Sidecar s = feed.sidecar(i);
      checksums = checksums(s);
      if (!s.file().equals(file)) {
        // the previous file did not end with a ROTATE to this one (a server stop or crash ended it)
        file = s.file();
        position = 4;
        send(Events.fakeRotate(server.served().serverId(), file, 4, artificialChecksums));
      }
      long from = firstFile ? position : 4;
      boolean reached = serveFile(ready, from, firstFile, annotate, skip);
      firstFile = false;
      ch.flush();
      if (reached || i == feed.size() - 1) {
        break;
      }
      i++;
      feed.release(i);
    }
    finish(flags);
  }

  /** At the target: tells the server, then ends a non-blocking dump or idles with heartbeats. */
  private void finish(int flags) throws IOException {
    ServePosition at = new ServePosition(file, position, lastGtid);
    LOG.info("replica {} was sent everything up to the target; it stops at {}", peer, at);
    server.targetSent(at);
    if ((flags & BINLOG_DUMP_NON_BLOCK) != 0) {
      ch.write(new byte[] {(byte) 0xFE, 0, 0, 2, 0});
      return;
    }
    idle();
  }

  /** Whether {@code next} is the binlog name after {@code last} ({@code mysql-bin.000007} after {@code .000006}). */
  static boolean follows(String next, String last) {
    int a = next.lastIndexOf('.');
    int b = last.lastIndexOf('.');
    if (a <= 0 || b <= 0 || !next.substring(0, a).equals(last.substring(0, b))) {
      return false;
    }
    try {
      return Long.parseLong(next.substring(a + 1)) == Long.parseLong(last.substring(b + 1)) + 1;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private void artificialChecksums(SetupQueries queries) {
    String declared = queries.userVariable("master_binlog_checksum");
    if (declared == null) {
      declared = queries.userVariable("source_binlog_checksum");
    }
    artificialChecksums = "CRC32".equalsIgnoreCase(declared == null ? "" : declared.strip());
  }

  /** Sends the events of one proven file from {@code from}; true if the target was reached in it. */
  private boolean serveFile(ArchiveFeed.Ready ready, long from, boolean firstFile, boolean annotate, GtidFilter skip)
      throws IOException {
    if (firstFile) {
      try (EventReader fde = new EventReader(ready.path(), 4)) {
        if (!fde.next() || BinlogEvents.type(fde.buffer(), 0) != BinlogEvents.FORMAT_DESCRIPTION) {
          throw new IOException(ready.path().getFileName() + " does not start with a format description event");
        }
        byte[] ev = Arrays.copyOf(fde.buffer(), fde.length());
        Events.patchStartFde(ev, ev.length, checksums, from > 4);
        send(ev);
        if (from == 4) {
          from = fde.end();
          position = from;
        }
      }
    }
    boolean skipping = false;
    try (EventReader r = new EventReader(ready.path(), from, ready.end())) {
      while (r.next()) {
        if (ready.stop() >= 0 && r.offset() >= ready.stop()) {
          return true;
        }
        byte[] ev = r.buffer();
        int type = BinlogEvents.type(ev, 0);
        if (Events.startsTransaction(type)) {
          String gtid = Events.gtid(ev, r.length(), checksums);
          skipping = skip != null && gtid != null && skip.has(gtid);
          if (!skipping && gtid != null) {
            lastGtid = gtid;
          }
        } else if (Events.outsideTransactions(type)) {
          skipping = false;
        }
        if (type == BinlogEvents.FORMAT_DESCRIPTION && (ev[17] & BinlogEvents.IN_USE_FLAG) != 0) {
          // the open file's format description, archived (as segments) while the server wrote it:
          // a server clears the flag when it sends it, or the replica would take the source for crashed
          Events.clearInUse(ev, r.length(), checksums);
        }
        if (type == BinlogEvents.ROTATE && (ev[17] & BinlogEvents.ARTIFICIAL_FLAG) == 0) {
          send(ev, r.length());
          file = BinlogEvents.rotateName(ev, 0, r.length(), checksums);
          position = BinlogEvents.rotatePosition(ev, 0);
          continue;
        }
        if (!skipping && (annotate || type != BinlogEvents.MARIADB_ANNOTATE_ROWS)) {
          send(ev, r.length());
        }
        position = r.end();
      }
    }
    server.progress(file, position);
    return false;
  }

  /** Waits for file {@code i} to be proven, with heartbeats; null after telling the replica it failed. */
  private ArchiveFeed.Ready awaitFile(int i) throws IOException {
    ch.flush();
    long wait = heartbeatNanos > 0 ? heartbeatNanos : 5_000_000_000L;
    while (true) {
      ArchiveFeed.Ready ready;
      try {
        ready = feed.await(i, wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while waiting for " + feed.sidecar(i).file());
      } catch (IOException | RuntimeException e) {
        String msg = "binlog-archive serve stopped before " + feed.sidecar(i).file() + ": " + e.getMessage();
        LOG.error("{}; the replica {} got nothing of that file", msg, peer);
        server.failed(new IOException(msg, e));
        Responses.error(ch, ER_MASTER_FATAL_ERROR_READING_BINLOG, "HY000", msg);
        return null;
      }
      if (ready != null) {
        return ready;
      }
      if (heartbeatNanos > 0) {
        heartbeat();
      }
    }
  }

  /**
   * After the target: heartbeats every period the replica asked for, until it disconnects (the
   * replica sends nothing on a dump connection, so a read only ends at its close).
   */
  private void idle() throws IOException {
    InputStream in = socket.getInputStream();
    int timeout = (int) Math.min(Integer.MAX_VALUE, Math.max(heartbeatNanos / 1_000_000, heartbeatNanos > 0 ? 1 : 0));
    socket.setSoTimeout(timeout);
    while (!socket.isClosed()) {
      try {
        if (in.read() < 0) {
          return;
        }
      } catch (SocketTimeoutException e) {
        heartbeat();
      }
    }
  }

  private void heartbeat() throws IOException {
    send(Events.heartbeat(server.served().serverId(), file, position, artificialChecksums));
    ch.flush();
  }

  private void send(byte[] ev) throws IOException {
    send(ev, ev.length);
  }

  private void send(byte[] ev, int len) throws IOException {
    if (packet.length < len + 1) {
      packet = new byte[Math.max(len + 1, packet.length * 2)];
    }
    packet[0] = 0;
    System.arraycopy(ev, 0, packet, 1, len);
    ch.writeNoFlush(packet, 0, len + 1);
  }

  private static boolean checksums(Sidecar s) {
    return s.binlog() != null && "crc32".equalsIgnoreCase(s.binlog().checksumAlgorithm());
  }

  private static long parseLong(String s) {
    if (s == null || s.isBlank()) {
      return 0;
    }
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
