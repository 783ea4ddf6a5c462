package io.binlogarchive.replication.serve;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;

/**
 * A TCP proxy in front of the server that cuts its first connection after a given number of bytes
 * towards the client, as a {@code kill -9} of serve would, then refuses connections until {@link
 * #heal()}, after which it forwards everything.
 */
final class CuttingProxy implements AutoCloseable {
  private final InetSocketAddress upstream;
  private final long cutAfter;
  private final ServerSocket listener;
  private final CountDownLatch cut = new CountDownLatch(1);
  private volatile boolean healed;
  private volatile boolean first = true;

  CuttingProxy(InetSocketAddress upstream, long cutAfter) throws IOException {
    this.upstream = upstream;
    this.cutAfter = cutAfter;
    this.listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::accept, "cutting-proxy");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Waits until the first connection was cut. */
  void awaitCut() throws InterruptedException {
    cut.await();
  }

  /** Forwards later connections in full. */
  void heal() {
    healed = true;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        boolean cutThis = first;
        first = false;
        if (!cutThis && !healed) {
          client.close(); // the source is "down"
          continue;
        }
        Socket server = new Socket(upstream.getAddress(), upstream.getPort());
        pump(client.getInputStream(), server.getOutputStream(), Long.MAX_VALUE, client, server, false);
        pump(server.getInputStream(), client.getOutputStream(), cutThis ? cutAfter : Long.MAX_VALUE, client, server,
            cutThis);
      } catch (IOException e) {
        // closed
      }
    }
  }

  private void pump(InputStream in, OutputStream out, long limit, Socket a, Socket b, boolean signal) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[8192];
      long sent = 0;
      try {
        int n;
        while ((n = in.read(buf, 0, (int) Math.min(buf.length, limit - sent))) > 0) {
          out.write(buf, 0, n);
          out.flush();
          sent += n;
          if (sent >= limit) {
            break;
          }
        }
      } catch (IOException e) {
        // the other side went away
      } finally {
        closeQuietly(a);
        closeQuietly(b);
        if (signal) {
          cut.countDown();
        }
      }
    }, "cutting-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
