package io.binlogarchive.s3;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * An HTTP/1.1 proxy for tests, between an S3 client and s3proxy, that injects faults into chosen
 * requests: error responses (503 SlowDown, 500, 403), connection resets before or after the store
 * saw the request, delayed or stalled responses, and a flipped bit in the request body. JDK only.
 *
 * <p>Each client connection carries one exchange: the request is forwarded with {@code Connection:
 * close} and the response relayed until the store closes, so responses need no parsing beyond
 * their status line. {@code Expect: 100-continue} is answered by the proxy itself.
 */
public final class FaultProxy implements AutoCloseable {

  /** What happens to one request. */
  public enum Fault {
    /** forwarded and relayed unchanged */
    NONE,
    /** answered with 503 SlowDown without reaching the store */
    SLOW_DOWN,
    /** answered with 500 InternalError without reaching the store */
    INTERNAL_ERROR,
    /** answered with 403 AccessDenied without reaching the store */
    ACCESS_DENIED,
    /** the connection is reset after part of the request body, before the store sees it */
    RESET_BEFORE,
    /** the store handles the request, then the connection is reset instead of the response */
    RESET_AFTER,
    /** the response is held back for {@link #delayMillis} */
    DELAY,
    /** the response is held back for {@link #stallMillis}, longer than the client's timeout */
    STALL,
    /** one bit of the request body is flipped on the way to the store */
    CORRUPT
  }

  /** A request as the plan sees it. {@code attempt} counts requests with the same method and target, from 1. */
  public record Request(String method, String target, int attempt) {
    /** @return whether this is an {@code UploadPart} */
    public boolean isUploadPart() {
      return method.equals("PUT") && target.contains("partNumber=");
    }

    /** @return whether this is a {@code PutObject} */
    public boolean isPutObject() {
      return method.equals("PUT") && !target.contains("partNumber=") && !target.contains("uploadId=");
    }

    /** @return whether this is a {@code CreateMultipartUpload} */
    public boolean isCreateMultipart() {
      return method.equals("POST") && target.contains("uploads");
    }

    /** @return whether this is a {@code CompleteMultipartUpload} */
    public boolean isCompleteMultipart() {
      return method.equals("POST") && target.contains("uploadId=");
    }

    /** @return whether this is an {@code AbortMultipartUpload} */
    public boolean isAbortMultipart() {
      return method.equals("DELETE") && target.contains("uploadId=");
    }
  }

  /** One exchange, as recorded. */
  public record Exchange(Request request, Fault fault, int status, Map<String, String> headers) {}

  /** Chooses the fault for each request; called concurrently. */
  @FunctionalInterface
  public interface Plan {
    /**
     * @param request the request
     * @return its fault
     */
    Fault choose(Request request);

    /** @return a plan that injects nothing */
    static Plan none() {
      return r -> Fault.NONE;
    }

    /**
     * A seeded share of the requests that {@code applies} accepts gets one of {@code faults}. The
     * choice is a function of the seed, the request and its attempt number, so it does not depend
     * on thread scheduling.
     */
    static Plan seeded(long seed, double share, Predicate<Request> applies, Fault... faults) {
      return r -> {
        if (!applies.test(r)) {
          return Fault.NONE;
        }
        // upload ids are random: leave them out so the same run makes the same choices
        String target = r.target().replaceAll("uploadId=[^&]*", "uploadId");
        long h = mix(seed ^ mix(r.method().hashCode() * 31L + target.hashCode()) ^ mix(r.attempt()));
        double u = (h >>> 11) * 0x1.0p-53;
        if (u >= share) {
          return Fault.NONE;
        }
        return faults[(int) Math.floorMod(mix(h), (long) faults.length)];
      };
    }

    private static long mix(long z) {
      z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
      z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
      return z ^ (z >>> 31);
    }
  }

  final int delayMillis;
  final int stallMillis;
  private final int upstreamPort;
  private final ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fault-proxy");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
  private final List<Exchange> exchanges = Collections.synchronizedList(new ArrayList<>());
  private volatile Plan plan;

  /**
   * @param upstream the store's endpoint on loopback
   * @param delayMillis how long {@link Fault#DELAY} holds a response
   * @param stallMillis how long {@link Fault#STALL} holds a response
   */
  public FaultProxy(URI upstream, int delayMillis, int stallMillis) throws IOException {
    this.upstreamPort = upstream.getPort();
    this.delayMillis = delayMillis;
    this.stallMillis = stallMillis;
    this.plan = Plan.none();
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    threads.execute(this::acceptLoop);
  }

  /** @return the proxy's endpoint */
  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getLocalPort());
  }

  /** @param plan the fault plan for requests from now on */
  public void plan(Plan plan) {
    this.plan = plan;
  }

  /** @return the exchanges so far, in the order their requests arrived */
  public List<Exchange> exchanges() {
    synchronized (exchanges) {
      return List.copyOf(exchanges);
    }
  }

  /** @return how many requests matched */
  public long count(Predicate<Request> which) {
    return exchanges().stream().filter(e -> which.test(e.request())).count();
  }

  /** @return how many faults of a kind were injected */
  public long injected(Fault fault) {
    return exchanges().stream().filter(e -> e.fault() == fault).count();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        threads.execute(() -> handle(client));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void handle(Socket client) {
    try (client) {
      InputStream in = new BufferedInputStream(client.getInputStream(), 64 * 1024);
      OutputStream out = client.getOutputStream();
      byte[] head = readHead(in);
      if (head == null) {
        return;
      }
      String headText = new String(head, StandardCharsets.ISO_8859_1);
      String[] lines = headText.split("\r\n");
      String[] requestLine = lines[0].split(" ");
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
      }
      if (headers.containsKey("transfer-encoding")) {
        throw new IllegalStateException("chunked request bodies are not supported by this proxy: " + lines[0]);
      }
      long length = Long.parseLong(headers.getOrDefault("content-length", "0"));
      boolean expectContinue = "100-continue".equalsIgnoreCase(headers.get("expect"));
      String key = requestLine[0] + " " + requestLine[1];
      Request request =
          new Request(requestLine[0], requestLine[1], attempts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet());
      Fault fault = plan.choose(request);

      switch (fault) {
        case SLOW_DOWN -> {
          record(request, fault, 503, headers);
          reject(in, out, expectContinue, length, 503, "Service Unavailable", "SlowDown", "Please reduce your request rate.");
          return;
        }
        case INTERNAL_ERROR -> {
          record(request, fault, 500, headers);
          reject(in, out, expectContinue, length, 500, "Internal Server Error", "InternalError", "We encountered an internal error.");
          return;
        }
        case ACCESS_DENIED -> {
          record(request, fault, 403, headers);
          reject(in, out, expectContinue, length, 403, "Forbidden", "AccessDenied", "Access Denied");
          return;
        }
        case RESET_BEFORE -> {
          record(request, fault, -1, headers);
          if (expectContinue) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
          }
          in.readNBytes((int) Math.min(length / 2, 1 << 20));
          reset(client);
          return;
        }
        default -> {}
      }

      if (expectContinue) {
        out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
      byte[] body = in.readNBytes((int) length);
      if (body.length != length) {
        throw new EOFException("request body ended early");
      }
      if (fault == Fault.CORRUPT && body.length > 0) {
        // near the end, where an aws-chunked body has payload rather than chunk framing
        body[body.length > 2000 ? body.length - 1000 : body.length / 2] ^= 0x01;
      }
      try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
        OutputStream up = upstream.getOutputStream();
        up.write(rewriteHead(lines));
        up.write(body);
        up.flush();
        InputStream down = new BufferedInputStream(upstream.getInputStream(), 64 * 1024);
        byte[] responseHead = readHead(down);
        if (responseHead == null) {
          throw new EOFException("store closed without a response");
        }
        String statusLine = new String(responseHead, StandardCharsets.ISO_8859_1).split("\r\n", 2)[0];
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        record(request, fault, status, headers);
        switch (fault) {
          case RESET_AFTER -> {
            down.readAllBytes(); // the store has done all its work
            reset(client);
            return;
          }
          case DELAY -> pause(delayMillis);
          case STALL -> pause(stallMillis);
          default -> {}
        }
        out.write(responseHead);
        down.transferTo(out);
        out.flush();
      }
    } catch (IOException | RuntimeException e) {
      // the client went away (after a timeout or a reset it was told of): nothing to relay
    }
  }

  private void record(Request r, Fault f, int status, Map<String, String> headers) {
    exchanges.add(new Exchange(r, f, status, Map.copyOf(headers)));
  }

  private static void reject(InputStream in, OutputStream out, boolean expectContinue, long length, int status,
      String reason, String code, String message) throws IOException {
    if (!expectContinue) {
      in.readNBytes((int) length); // a client that sends the body at once gets it consumed
    }
    byte[] xml =
        ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message
                + "</Message><RequestId>FAULTPROXY</RequestId></Error>")
            .getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/xml\r\nContent-Length: " + xml.length
            + "\r\nConnection: close\r\n\r\n";
    out.write(head.getBytes(StandardCharsets.ISO_8859_1));
    out.write(xml);
    out.flush();
  }

  private static byte[] rewriteHead(String[] lines) {
    StringBuilder b = new StringBuilder(lines[0]).append("\r\n");
    for (int i = 1; i < lines.length; i++) {
      String lower = lines[i].toLowerCase(Locale.ROOT);
      if (lower.startsWith("expect:") || lower.startsWith("connection:")) {
        continue;
      }
      b.append(lines[i]).append("\r\n");
    }
    b.append("Connection: close\r\n\r\n");
    return b.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  /** @return the bytes up to and including the blank line, or null at end of stream */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(1024);
    int last4 = 0;
    while (true) {
      int c = in.read();
      if (c < 0) {
        return b.size() == 0 ? null : b.toByteArray();
      }
      b.write(c);
      last4 = last4 << 8 | c;
      if (last4 == 0x0d0a0d0a) {
        return b.toByteArray();
      }
    }
  }

  private static void reset(Socket s) throws IOException {
    s.setSoLinger(true, 0); // close() now sends RST
    s.close();
  }

  private static void pause(int millis) {
    try {
      Thread.sleep(millis); // the fault itself: a slow store, not test synchronisation
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    threads.shutdownNow();
  }
}
