package io.binlogarchive.replication.live;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback between the stream and the server that can stall its open connections: the
 * bytes stop flowing while both sockets stay open, as on a network that drops packets silently. New
 * connections flow normally.
 */
final class StallingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final int target;
  private final List<Link> links = new CopyOnWriteArrayList<>();

  StallingProxy(int targetPort) throws IOException {
    this.target = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::accept, "proxy-accept");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Stops forwarding on every connection open now, without closing them. */
  void stallAll() {
    for (Link l : links) {
      l.stalled = true;
    }
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
        Link link = new Link(client, server);
        links.add(link);
        pump(link, client.getInputStream(), server.getOutputStream());
        pump(link, server.getInputStream(), client.getOutputStream());
      } catch (IOException e) {
        // listener closed, or the server is down: the client sees its connection fail
      }
    }
  }

  private static void pump(Link link, InputStream in, OutputStream out) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[1 << 16];
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (link.stalled) {
            synchronized (link) {
              while (!link.closed) {
                link.wait(); // hold the bytes; the sockets stay open until the proxy closes
              }
            }
            return;
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // the other side closed
      } finally {
        link.close();
      }
    }, "proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Link l : links) {
      l.close();
    }
  }

  private static final class Link {
    final Socket a;
    final Socket b;
    volatile boolean stalled;
    boolean closed;

    Link(Socket a, Socket b) {
      this.a = a;
      this.b = b;
    }

    synchronized void close() {
      closed = true;
      notifyAll();
      try {
        a.close();
      } catch (IOException e) {
        // closing anyway
      }
      try {
        b.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
