package io.binlogarchive.gcs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.zip.CRC32C;
import java.util.zip.GZIPInputStream;

/**
 * A test double of the Google Cloud Storage JSON API, in memory, on the JDK's {@code HttpServer}
 * at 127.0.0.1. It is <b>not</b> Google's server: it implements only what {@code GcsSink} and the
 * google-cloud-storage client use, following Google's published JSON API documentation, so that the
 * sink can be tested where no GCS emulator runs. Behaviour it does not model (IAM, ACLs, retention,
 * composite objects, XML API, ...) is simply absent.
 *
 * <p>Modelled: bucket get; object insert (gzip request bodies accepted) with {@code uploadType=media}, {@code multipart} and
 * {@code resumable} (session URI in {@code Location}; chunks with {@code Content-Range: bytes
 * a-b/*} answered by 308 and a {@code Range} header; non-final chunks must be multiples of 256
 * KiB; status query {@code bytes *}{@code /*}; overlapping re-sends after an interruption;
 * finalisation with the total size); object metadata and media get ({@code alt=media}, {@code
 * Range}, {@code generation}); list with {@code prefix}, {@code maxResults}, {@code pageToken};
 * delete (of the live object or, with {@code generation}, of that generation only); generations and the
 * generation preconditions {@code ifGenerationMatch}, {@code ifGenerationNotMatch}, {@code
 * ifMetagenerationMatch} and {@code ifMetagenerationNotMatch} on insert, get and delete (412;
 * checked when a resumable upload session is created, as GCS does, and again when an upload is
 * finalised, atomically with storing it);
 * crc32c / md5 validation against {@code x-goog-hash} or the object resource sent by the client
 * (400 on mismatch); {@code kmsKeyName} and {@code storageClass} echoed; customer-supplied keys
 * (only the key's SHA-256 is kept, and media reads need it).
 *
 * <p>Faults: a seeded share of requests answered 503, connections dropped in the middle of
 * resumable chunk uploads (after part of the chunk is persisted), lost responses of finalising
 * requests, corruption of an upload's bytes, and access denial (403).
 *
 * <p>Outage: {@link #stop()} closes the port at once (requests in flight lose their connection) and
 * {@link #restart()} listens again on the same port with everything the server held (objects and
 * upload sessions, as GCS keeps a session for a week); an upload hook can hold a resumable upload's
 * request until the server has stopped.
 *
 * <p>Public only so that other modules' tests (the examples' command-line tests, through this
 * module's test-jar) can start it; it is test code, not part of the library.
 */
public final class GcsJsonApiTestServer implements AutoCloseable {
  static final int CHUNK_GRANULARITY = 256 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private volatile HttpServer http;
  private volatile ExecutorService executor;
  private volatile int port;
  /** Sees each resumable upload request's object name; true means drop it without acting on it. */
  private volatile Predicate<String> uploadHook;
  private final Object lock = new Object();
  private final Map<String, NavigableMap<String, StoredObj>> buckets = new HashMap<>();
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final AtomicLong generations = new AtomicLong(1_700_000_000_000_000L);

  // faults, all guarded by lock
  private Random faultRandom;
  private double failShare;
  private int dropChunkPuts;
  private int loseFinalizeResponses;
  private int corruptUploads;
  private boolean corruptUnchecked;
  private boolean denyAll;

  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger injected503 = new AtomicInteger();
  private final AtomicInteger droppedConnections = new AtomicInteger();
  private final AtomicInteger statusQueries = new AtomicInteger();
  private final AtomicInteger finalisingPuts = new AtomicInteger();
  private final AtomicInteger chunkPuts = new AtomicInteger();
  private final Map<String, AtomicInteger> uploadsByType = new ConcurrentHashMap<>();

  private record StoredObj(
      String bucket,
      String name,
      byte[] data,
      long generation,
      Instant created,
      ObjectNode meta,
      String kmsKeyName,
      String storageClass,
      String csekSha256) {}

  private static final class Session {
    final String id;
    final String bucket;
    final ObjectNode meta;
    final Map<String, String> query;
    final String csekSha256;
    final ByteArrayOutputStream data = new ByteArrayOutputStream();
    StoredObj result;

    Session(String id, String bucket, ObjectNode meta, Map<String, String> query, String csekSha256) {
      this.id = id;
      this.bucket = bucket;
      this.meta = meta;
      this.query = query;
      this.csekSha256 = csekSha256;
    }
  }

  private GcsJsonApiTestServer() {}

  /**
   * Starts a server on a free port of 127.0.0.1.
   *
   * @return the running server; {@link #close()} stops it
   * @throws IOException if no port can be bound
   */
  public static GcsJsonApiTestServer start() throws IOException {
    GcsJsonApiTestServer server = new GcsJsonApiTestServer();
    server.listen(0);
    return server;
  }

  private synchronized void listen(int onPort) throws IOException {
    HttpServer h = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort), 64);
    ExecutorService e =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "gcs-test-server");
              t.setDaemon(true);
              return t;
            });
    h.createContext("/", this::handle);
    h.setExecutor(e);
    h.start();
    http = h;
    executor = e;
    port = h.getAddress().getPort();
  }

  /**
   * Stops listening at once, as in an outage: requests in flight lose their connection (handlers
   * are interrupted), new ones are refused. Objects and sessions are kept for {@link #restart()}.
   */
  synchronized void stop() {
    if (http != null) {
      http.stop(0);
      executor.shutdownNow();
      http = null;
    }
  }

  /** Listens again on the same port after {@link #stop()}, with everything the server held. */
  synchronized void restart() throws IOException {
    if (http != null) {
      throw new IllegalStateException("the server is running");
    }
    listen(port);
  }

  /**
   * @param hook told the object name of every resumable upload request before the server acts on it
   *     (it may block); if it returns true the request is dropped unanswered, as by a server that
   *     stopped meanwhile
   */
  void onUpload(Predicate<String> hook) {
    uploadHook = hook;
  }

  /** @return the base URL for {@code StorageOptions.http().setHost(...)} */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /**
   * Creates an empty bucket (nothing happens if it exists).
   *
   * @param name the bucket's name
   */
  public void createBucket(String name) {
    synchronized (lock) {
      buckets.putIfAbsent(name, new TreeMap<>());
    }
  }

  /** Answers a seeded, reproducible share of all requests with 503 before acting on them. */
  void failShare(double share, long seed) {
    synchronized (lock) {
      this.failShare = share;
      this.faultRandom = new Random(seed);
    }
  }

  /** Drops the connection during the next {@code n} non-final resumable chunk uploads. */
  void dropChunkPuts(int n) {
    synchronized (lock) {
      dropChunkPuts = n;
    }
  }

  /**
   * Finalises the next {@code n} uploads (the final request of a resumable session, or a media or
   * multipart insert) but drops the connection instead of answering.
   */
  void loseFinalizeResponses(int n) {
    synchronized (lock) {
      loseFinalizeResponses = n;
    }
  }

  /**
   * Flips one byte of the next upload before it is finalised. If {@code unchecked}, the server also
   * ignores the client's checksums, as a faulty store would; otherwise its validation rejects it.
   */
  void corruptNextUpload(boolean unchecked) {
    synchronized (lock) {
      corruptUploads = 1;
      corruptUnchecked = unchecked;
    }
  }

  /** Answers every request with 403 while {@code deny} holds. */
  void denyAll(boolean deny) {
    synchronized (lock) {
      denyAll = deny;
    }
  }

  int requests() {
    return requests.get();
  }

  int injected503() {
    return injected503.get();
  }

  int droppedConnections() {
    return droppedConnections.get();
  }

  int statusQueries() {
    return statusQueries.get();
  }

  int chunkPuts() {
    return chunkPuts.get();
  }

  int finalisingPuts() {
    return finalisingPuts.get();
  }

  /** @return how many insert requests with this {@code uploadType} arrived (media, multipart, resumable) */
  int uploads(String uploadType) {
    AtomicInteger n = uploadsByType.get(uploadType);
    return n == null ? 0 : n.get();
  }

  /** @return the names of the objects in a bucket */
  List<String> objectNames(String bucket) {
    synchronized (lock) {
      return new ArrayList<>(buckets.getOrDefault(bucket, new TreeMap<>()).keySet());
    }
  }

  /** @return an object's bytes straight from the server's state (also while stopped), or null */
  byte[] objectBytes(String bucket, String name) {
    synchronized (lock) {
      StoredObj o = buckets.getOrDefault(bucket, new TreeMap<>()).get(name);
      return o == null ? null : o.data().clone();
    }
  }

  /** @return the object names of upload sessions that were never finalised, for {@code bucket} */
  List<String> unfinishedSessionNames(String bucket) {
    List<String> names = new ArrayList<>();
    for (Session s : sessions.values()) {
      synchronized (s) {
        if (s.result == null && s.bucket.equals(bucket)) {
          names.add(s.meta.path("name").asText());
        }
      }
    }
    return names;
  }

  /** @return bytes persisted by upload sessions that were never finalised, for {@code bucket} */
  List<Long> unfinishedSessionSizes(String bucket) {
    List<Long> sizes = new ArrayList<>();
    for (Session s : sessions.values()) {
      synchronized (s) {
        if (s.result == null && s.bucket.equals(bucket)) {
          sizes.add((long) s.data.size());
        }
      }
    }
    return sizes;
  }

  /** Stops the server and its threads. */
  @Override
  public void close() {
    stop();
  }

  // ---------------------------------------------------------------------------------------------

  private static final class Reply extends Exception {
    private static final long serialVersionUID = 1L;
    final int code;
    final String reason;

    Reply(int code, String reason, String message) {
      super(message, null, false, false);
      this.code = code;
      this.reason = reason;
    }
  }

  /** Thrown to close the connection without an answer. */
  private static final class Drop extends Exception {
    private static final long serialVersionUID = 1L;

    Drop() {
      super(null, null, false, false);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    requests.incrementAndGet();
    try {
      synchronized (lock) {
        if (denyAll) {
          throw new Reply(403, "forbidden", "anonymous caller does not have access to this resource (test server denies all)");
        }
        if (failShare > 0 && faultRandom.nextDouble() < failShare) {
          injected503.incrementAndGet();
          throw new Reply(503, "backendError", "injected 503 (test server fault)");
        }
      }
      route(ex);
    } catch (Reply r) {
      ex.getRequestBody().readAllBytes();
      sendError(ex, r.code, r.reason, r.getMessage());
    } catch (Drop d) {
      droppedConnections.incrementAndGet();
      // closing before the response headers are sent closes the connection itself
      ex.close();
    } catch (RuntimeException e) {
      sendError(ex, 500, "internalError", String.valueOf(e));
    } finally {
      ex.close();
    }
  }

  private void route(HttpExchange ex) throws IOException, Reply, Drop {
    String method = ex.getRequestMethod();
    List<String> parts = new ArrayList<>();
    for (String p : ex.getRequestURI().getRawPath().split("/")) {
      if (!p.isEmpty()) {
        parts.add(URLDecoder.decode(p.replace("+", "%2B"), StandardCharsets.UTF_8));
      }
    }
    Map<String, String> q = query(ex.getRequestURI().getRawQuery());
    if (!parts.isEmpty() && parts.get(0).equals("download")) {
      parts.remove(0);
    }
    boolean upload = !parts.isEmpty() && parts.get(0).equals("upload");
    if (upload) {
      parts.remove(0);
    }
    if (parts.size() < 4 || !parts.get(0).equals("storage") || !parts.get(1).equals("v1") || !parts.get(2).equals("b")) {
      throw new Reply(404, "notFound", "Not Found");
    }
    String bucket = parts.get(3);
    if (upload) {
      if (parts.size() != 5 || !parts.get(4).equals("o")) {
        throw new Reply(404, "notFound", "Not Found");
      }
      if (method.equals("POST")) {
        insert(ex, bucket, q);
      } else if (method.equals("PUT") && q.containsKey("upload_id")) {
        resumablePut(ex, q.get("upload_id"));
      } else if (method.equals("DELETE") && q.containsKey("upload_id")) {
        sessions.remove(q.get("upload_id"));
        sendJson(ex, 499, null);
      } else {
        throw new Reply(405, "methodNotAllowed", method + " not allowed");
      }
      return;
    }
    if (parts.size() == 4 && method.equals("GET")) {
      synchronized (lock) {
        requireBucket(bucket);
      }
      ObjectNode b = JSON.createObjectNode();
      b.put("kind", "storage#bucket").put("id", bucket).put("name", bucket);
      b.put("location", "US").put("storageClass", "STANDARD").put("metageneration", "1");
      b.put("projectNumber", "0").put("timeCreated", Instant.EPOCH.toString());
      sendJson(ex, 200, b);
    } else if (parts.size() == 5 && parts.get(4).equals("o") && method.equals("GET")) {
      list(ex, bucket, q);
    } else if (parts.size() >= 6 && parts.get(4).equals("o")) {
      String name = String.join("/", parts.subList(5, parts.size()));
      if (method.equals("GET")) {
        get(ex, bucket, name, q);
      } else if (method.equals("DELETE")) {
        delete(ex, bucket, name, q);
      } else {
        throw new Reply(405, "methodNotAllowed", method + " not allowed");
      }
    } else {
      throw new Reply(404, "notFound", "Not Found");
    }
  }

  private NavigableMap<String, StoredObj> requireBucket(String bucket) throws Reply {
    NavigableMap<String, StoredObj> b = buckets.get(bucket);
    if (b == null) {
      throw new Reply(404, "notFound", "The specified bucket does not exist.");
    }
    return b;
  }

  // --- uploads ---------------------------------------------------------------------------------

  private void insert(HttpExchange ex, String bucket, Map<String, String> q) throws IOException, Reply, Drop {
    String type = q.getOrDefault("uploadType", "");
    uploadsByType.computeIfAbsent(type, t -> new AtomicInteger()).incrementAndGet();
    byte[] body = ex.getRequestBody().readAllBytes();
    if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
      try (InputStream gz = new GZIPInputStream(new ByteArrayInputStream(body))) {
        body = gz.readAllBytes();
      }
    }
    synchronized (lock) {
      requireBucket(bucket);
    }
    String csek = csekSha256(ex);
    switch (type) {
      case "resumable" -> {
        ObjectNode meta = body.length == 0 ? JSON.createObjectNode() : (ObjectNode) JSON.readTree(body);
        if (q.containsKey("name")) {
          meta.put("name", q.get("name"));
        }
        if (!meta.hasNonNull("name")) {
          throw new Reply(400, "required", "Required: object name");
        }
        synchronized (lock) { // as GCS does, preconditions are checked when the session is created too
          checkGeneration(q, requireBucket(bucket).get(meta.get("name").asText()));
        }
        String id = UUID.randomUUID().toString().replace("-", "");
        sessions.put(id, new Session(id, bucket, meta, q, csek));
        ex.getResponseHeaders().set("Location", endpoint() + "/upload/storage/v1/b/" + bucket + "/o?uploadType=resumable&upload_id=" + id);
        ex.getResponseHeaders().set("X-GUploader-UploadID", id);
        sendJson(ex, 200, null);
      }
      case "media" -> {
        ObjectNode meta = JSON.createObjectNode().put("name", q.getOrDefault("name", ""));
        answerFinalised(ex, finalise(bucket, meta, q, csek, body, ex));
      }
      case "multipart" -> {
        String ct = ex.getRequestHeaders().getFirst("Content-Type");
        String boundary = ct.substring(ct.indexOf("boundary=") + 9).replace("\"", "").trim();
        List<byte[]> partsOf = multipart(body, boundary);
        if (partsOf.size() != 2) {
          throw new Reply(400, "invalid", "multipart upload needs two parts");
        }
        ObjectNode meta = (ObjectNode) JSON.readTree(partsOf.get(0));
        answerFinalised(ex, finalise(bucket, meta, q, csek, partsOf.get(1), ex));
      }
      default -> throw new Reply(400, "invalid", "unsupported uploadType '" + type + "'");
    }
  }

  private void resumablePut(HttpExchange ex, String id) throws IOException, Reply, Drop {
    Session s = sessions.get(id);
    if (s == null) {
      throw new Reply(404, "notFound", "No such upload session");
    }
    Predicate<String> hook = uploadHook;
    if (hook != null && hook.test(s.meta.path("name").asText())) {
      throw new Drop();
    }
    String range = ex.getRequestHeaders().getFirst("Content-Range");
    if (range == null || !range.startsWith("bytes ")) {
      throw new Reply(400, "invalid", "Content-Range required");
    }
    String spec = range.substring(6).trim();
    int slash = spec.indexOf('/');
    String span = spec.substring(0, slash);
    String totalText = spec.substring(slash + 1);
    Long total = totalText.equals("*") ? null : Long.parseLong(totalText);
    InputStream in = ex.getRequestBody();
    synchronized (s) {
      if (s.result != null) {
        in.readAllBytes();
        sendJson(ex, 200, toJson(s.result));
        return;
      }
      if (span.equals("*")) {
        in.readAllBytes();
        if (total == null) {
          statusQueries.incrementAndGet();
          sendIncomplete(ex, s.data.size());
          return;
        }
        if (total != s.data.size()) {
          throw new Reply(400, "invalid", "Content-Range total " + total + " but " + s.data.size() + " bytes persisted");
        }
        finishSession(ex, s);
        return;
      }
      int dash = span.indexOf('-');
      long first = Long.parseLong(span.substring(0, dash));
      long last = Long.parseLong(span.substring(dash + 1));
      long length = last - first + 1;
      long persisted = s.data.size();
      if (first > persisted) {
        in.readAllBytes();
        throw new Reply(400, "invalid", "Content-Range starts at " + first + " but only " + persisted + " bytes are persisted");
      }
      boolean finalising = total != null && total == last + 1;
      if (!finalising && length % CHUNK_GRANULARITY != 0) {
        in.readAllBytes();
        throw new Reply(400, "invalid", "non-final chunk of " + length + " bytes is not a multiple of 256 KiB");
      }
      if (!finalising) {
        chunkPuts.incrementAndGet();
        boolean drop;
        synchronized (lock) {
          drop = dropChunkPuts > 0;
          if (drop) {
            dropChunkPuts--;
          }
        }
        if (drop) {
          // persist the first half of the chunk (in 256 KiB units), then drop the connection
          long keep = length / 2 / CHUNK_GRANULARITY * CHUNK_GRANULARITY;
          byte[] head = in.readNBytes((int) keep);
          appendFrom(s, first, head);
          throw new Drop();
        }
      }
      byte[] body = in.readAllBytes();
      if (body.length != length) {
        throw new Reply(400, "invalid", "body of " + body.length + " bytes does not match Content-Range " + range);
      }
      appendFrom(s, first, body);
      if (!finalising) {
        sendIncomplete(ex, s.data.size());
        return;
      }
      finishSession(ex, s);
    }
  }

  private static void appendFrom(Session s, long first, byte[] bytes) {
    int skip = (int) (s.data.size() - first); // bytes already persisted from an earlier attempt
    if (skip < bytes.length) {
      s.data.write(bytes, skip, bytes.length - skip);
    }
  }

  private void finishSession(HttpExchange ex, Session s) throws IOException, Reply, Drop {
    finalisingPuts.incrementAndGet();
    StoredObj o = finalise(s.bucket, s.meta, s.query, s.csekSha256, s.data.toByteArray(), ex);
    s.result = o;
    answerFinalised(ex, o);
  }

  /** Answers a request that stored an object, unless a lost answer is due. */
  private void answerFinalised(HttpExchange ex, StoredObj o) throws IOException, Drop {
    boolean lose;
    synchronized (lock) {
      lose = loseFinalizeResponses > 0;
      if (lose) {
        loseFinalizeResponses--;
      }
    }
    if (lose) {
      throw new Drop();
    }
    sendJson(ex, 200, toJson(o));
  }

  /** Validates checksums and preconditions, then stores the object atomically. */
  private StoredObj finalise(String bucket, ObjectNode meta, Map<String, String> q, String csek, byte[] data, HttpExchange ex)
      throws Reply {
    boolean unchecked = false;
    synchronized (lock) {
      if (corruptUploads > 0 && data.length > 0) {
        corruptUploads--;
        unchecked = corruptUnchecked;
        data = data.clone();
        data[data.length / 2] ^= 0x5a;
      }
    }
    String crc = crc32c(data);
    String md5 = md5(data);
    if (!unchecked) {
      Map<String, String> hashes = new HashMap<>();
      String header = ex.getRequestHeaders().getFirst("x-goog-hash");
      if (header != null) {
        for (String h : header.split(",")) {
          int eq = h.indexOf('=');
          hashes.put(h.substring(0, eq).trim(), h.substring(eq + 1).trim());
        }
      }
      if (meta.hasNonNull("crc32c")) {
        hashes.putIfAbsent("crc32c", meta.get("crc32c").asText());
      }
      if (meta.hasNonNull("md5Hash")) {
        hashes.putIfAbsent("md5", meta.get("md5Hash").asText());
      }
      if (hashes.containsKey("crc32c") && !hashes.get("crc32c").equals(crc)) {
        throw new Reply(400, "invalid", "Provided CRC32C \"" + hashes.get("crc32c") + "\" doesn't match calculated CRC32C \"" + crc + "\".");
      }
      if (hashes.containsKey("md5") && !hashes.get("md5").equals(md5)) {
        throw new Reply(400, "invalid", "Provided MD5 hash \"" + hashes.get("md5") + "\" doesn't match calculated MD5 hash \"" + md5 + "\".");
      }
    }
    String name = meta.get("name").asText();
    String kms = q.containsKey("kmsKeyName") ? q.get("kmsKeyName") : meta.path("kmsKeyName").asText(null);
    if (kms != null && csek != null) {
      throw new Reply(400, "invalid", "A customer-supplied encryption key and a Cloud KMS key cannot both be used");
    }
    synchronized (lock) {
      NavigableMap<String, StoredObj> b = requireBucket(bucket);
      StoredObj existing = b.get(name);
      checkGeneration(q, existing);
      StoredObj o =
          new StoredObj(
              bucket,
              name,
              data,
              generations.incrementAndGet(),
              Instant.now(),
              meta,
              kms == null ? null : kms + "/cryptoKeyVersions/1",
              meta.path("storageClass").asText("STANDARD"),
              csek);
      b.put(name, o);
      return o;
    }
  }

  /**
   * The JSON API's generation preconditions, as documented for objects insert, get and delete:
   * {@code ifGenerationMatch} (0: no live object may exist), {@code ifGenerationNotMatch} (fails
   * when no live object exists; 0: a live object must exist), {@code ifMetagenerationMatch} and
   * {@code ifMetagenerationNotMatch} (every object here has metageneration 1; both fail when no live
   * object exists). A failed precondition is 412; a value that is not a number is 400.
   */
  private static void checkGeneration(Map<String, String> q, StoredObj existing) throws Reply {
    boolean ok = true;
    Long want = precondition(q, "ifGenerationMatch");
    if (want != null) {
      ok &= want == (existing == null ? 0 : existing.generation());
    }
    Long unwanted = precondition(q, "ifGenerationNotMatch");
    if (unwanted != null) {
      ok &= existing != null && unwanted != existing.generation();
    }
    Long meta = precondition(q, "ifMetagenerationMatch");
    if (meta != null) {
      ok &= existing != null && meta == 1;
    }
    Long notMeta = precondition(q, "ifMetagenerationNotMatch");
    if (notMeta != null) {
      ok &= existing != null && notMeta != 1;
    }
    if (!ok) {
      throw new Reply(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
    }
  }

  private static Long precondition(Map<String, String> q, String name) throws Reply {
    String v = q.get(name);
    if (v == null) {
      return null;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new Reply(400, "invalid", "Invalid argument for " + name + ": '" + v + "'");
    }
  }

  /** @return the {@code generation} query parameter, or null; 400 if it is not a number */
  private static Long generationParam(Map<String, String> q) throws Reply {
    return precondition(q, "generation");
  }

  private String csekSha256(HttpExchange ex) throws Reply {
    String key = ex.getRequestHeaders().getFirst("x-goog-encryption-key");
    if (key == null) {
      return null;
    }
    String sha = Base64.getEncoder().encodeToString(sha256(Base64.getDecoder().decode(key)));
    if (!sha.equals(ex.getRequestHeaders().getFirst("x-goog-encryption-key-sha256"))) {
      throw new Reply(400, "invalid", "The provided encryption key hash does not match the key");
    }
    return sha;
  }

  // --- reads, listing, delete ------------------------------------------------------------------

  private void get(HttpExchange ex, String bucket, String name, Map<String, String> q) throws IOException, Reply {
    StoredObj o;
    synchronized (lock) {
      o = requireBucket(bucket).get(name);
    }
    Long generation = generationParam(q);
    if (o == null || generation != null && generation != o.generation()) {
      throw new Reply(404, "notFound", "No such object: " + bucket + "/" + name);
    }
    checkGeneration(q, o);
    if (!"media".equals(q.get("alt"))) {
      sendJson(ex, 200, toJson(o));
      return;
    }
    if (o.csekSha256() != null && !o.csekSha256().equals(csekSha256(ex))) {
      throw new Reply(400, "resourceIsEncryptedWithCustomerEncryptionKey",
          "The target object is encrypted by a customer-supplied encryption key.");
    }
    long size = o.data().length;
    long from = 0;
    long to = size - 1;
    String range = ex.getRequestHeaders().getFirst("Range");
    boolean partial = false;
    if (range != null && range.startsWith("bytes=")) {
      String[] fromTo = range.substring(6).split("-", -1);
      from = Long.parseLong(fromTo[0]);
      if (!fromTo[1].isEmpty()) {
        to = Math.min(to, Long.parseLong(fromTo[1]));
      }
      if (from >= size && !(from == 0 && size == 0)) {
        ex.getResponseHeaders().set("Content-Range", "bytes */" + size);
        throw new Reply(416, "requestedRangeNotSatisfiable", "The requested range cannot be satisfied.");
      }
      partial = size > 0;
    }
    var h = ex.getResponseHeaders();
    h.set("Content-Type", "application/octet-stream");
    h.set("x-goog-generation", Long.toString(o.generation()));
    h.set("x-goog-metageneration", "1");
    h.set("x-goog-stored-content-length", Long.toString(size));
    h.set("x-goog-storage-class", o.storageClass());
    h.set("x-goog-hash", "crc32c=" + crc32c(o.data()) + ",md5=" + md5(o.data()));
    int len = (int) Math.max(0, to - from + 1);
    if (partial) {
      h.set("Content-Range", "bytes " + from + "-" + to + "/" + size);
    }
    ex.sendResponseHeaders(partial ? 206 : 200, len == 0 ? -1 : len);
    if (len > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(o.data(), (int) from, len);
      }
    }
  }

  private void list(HttpExchange ex, String bucket, Map<String, String> q) throws IOException, Reply {
    String prefix = q.getOrDefault("prefix", "");
    int max = Math.min(1000, Integer.parseInt(q.getOrDefault("maxResults", "1000")));
    String token = q.get("pageToken");
    String after = token == null ? null : new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    List<StoredObj> page = new ArrayList<>();
    boolean more = false;
    synchronized (lock) {
      NavigableMap<String, StoredObj> b = requireBucket(bucket);
      NavigableMap<String, StoredObj> view = after == null ? b.tailMap(prefix, true) : b.tailMap(after, false);
      for (StoredObj o : view.values()) {
        if (!o.name().startsWith(prefix)) {
          break;
        }
        if (page.size() == max) {
          more = true;
          break;
        }
        page.add(o);
      }
    }
    ObjectNode res = JSON.createObjectNode().put("kind", "storage#objects");
    if (!page.isEmpty()) {
      ArrayNode items = res.putArray("items");
      page.forEach(o -> items.add(toJson(o)));
    }
    if (more) {
      String last = page.get(page.size() - 1).name();
      res.put("nextPageToken", Base64.getUrlEncoder().encodeToString(last.getBytes(StandardCharsets.UTF_8)));
    }
    sendJson(ex, 200, res);
  }

  private void delete(HttpExchange ex, String bucket, String name, Map<String, String> q) throws IOException, Reply {
    synchronized (lock) {
      NavigableMap<String, StoredObj> b = requireBucket(bucket);
      StoredObj o = b.get(name);
      // buckets here keep no noncurrent versions: a generation other than the live one does not exist
      Long generation = generationParam(q);
      if (o == null || generation != null && generation != o.generation()) {
        throw new Reply(404, "notFound", "No such object: " + bucket + "/" + name);
      }
      checkGeneration(q, o);
      b.remove(name);
    }
    ex.sendResponseHeaders(204, -1);
  }

  // --- wire helpers ----------------------------------------------------------------------------

  private static ObjectNode toJson(StoredObj o) {
    ObjectNode n = JSON.createObjectNode();
    n.put("kind", "storage#object");
    n.put("id", o.bucket() + "/" + o.name() + "/" + o.generation());
    n.put("name", o.name());
    n.put("bucket", o.bucket());
    n.put("generation", Long.toString(o.generation()));
    n.put("metageneration", "1");
    n.put("contentType", o.meta().path("contentType").asText("application/octet-stream"));
    n.put("storageClass", o.storageClass());
    n.put("size", Long.toString(o.data().length));
    n.put("md5Hash", md5(o.data()));
    n.put("crc32c", crc32c(o.data()));
    n.put("etag", "CA" + Long.toHexString(o.generation()));
    n.put("timeCreated", o.created().toString());
    n.put("updated", o.created().toString());
    n.put("timeStorageClassUpdated", o.created().toString());
    if (o.meta().has("metadata")) {
      n.set("metadata", o.meta().get("metadata"));
    }
    if (o.kmsKeyName() != null) {
      n.put("kmsKeyName", o.kmsKeyName());
    }
    if (o.csekSha256() != null) {
      n.putObject("customerEncryption").put("encryptionAlgorithm", "AES256").put("keySha256", o.csekSha256());
    }
    return n;
  }

  private static void sendIncomplete(HttpExchange ex, long persisted) throws IOException {
    if (persisted > 0) {
      ex.getResponseHeaders().set("Range", "bytes=0-" + (persisted - 1));
    }
    ex.getResponseHeaders().set("Content-Length", "0");
    ex.sendResponseHeaders(308, -1);
  }

  private static void sendError(HttpExchange ex, int code, String reason, String message) throws IOException {
    ObjectNode err = JSON.createObjectNode();
    ObjectNode e = err.putObject("error");
    e.put("code", code).put("message", message);
    e.putArray("errors").addObject().put("domain", "global").put("reason", reason).put("message", message);
    sendJson(ex, code, err);
  }

  private static void sendJson(HttpExchange ex, int code, ObjectNode body) throws IOException {
    if (body == null) {
      ex.sendResponseHeaders(code, -1);
      return;
    }
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new HashMap<>();
    if (raw != null) {
      for (String kv : raw.split("&")) {
        int eq = kv.indexOf('=');
        String k = eq < 0 ? kv : kv.substring(0, eq);
        String v = eq < 0 ? "" : kv.substring(eq + 1);
        q.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
      }
    }
    return q;
  }

  private static List<byte[]> multipart(byte[] body, String boundary) {
    byte[] delim = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    List<byte[]> out = new ArrayList<>();
    int pos = indexOf(body, delim, 0);
    while (pos >= 0) {
      int start = pos + delim.length;
      if (start + 1 < body.length && body[start] == '-' && body[start + 1] == '-') {
        break;
      }
      int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), start);
      int next = indexOf(body, delim, headersEnd + 4);
      out.add(Arrays.copyOfRange(body, headersEnd + 4, next - 2)); // strip the CRLF before the delimiter
      pos = next;
    }
    return out;
  }

  private static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = from; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  static String crc32c(byte[] data) {
    CRC32C c = new CRC32C();
    c.update(data);
    long v = c.getValue();
    byte[] be = {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    return Base64.getEncoder().encodeToString(be);
  }

  static String md5(byte[] data) {
    try {
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
