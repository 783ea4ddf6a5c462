package io.binlogarchive.gcs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A test double of two Cloud KMS REST methods, {@code cryptoKeys.encrypt} and {@code
 * cryptoKeys.decrypt}, on the JDK's {@code HttpServer} at 127.0.0.1. It is <b>not</b> Cloud KMS,
 * which cannot run on a build machine: it follows the request and response shapes of Google's
 * REST reference for those two methods ({@code plaintext}, {@code ciphertext}, {@code
 * additionalAuthenticatedData} as base64; the {@code *Crc32c} integrity fields as int64 strings;
 * {@code verifiedPlaintextCrc32c} and friends; errors as {@code {"error": {"code", "message",
 * "status"}}}), so that {@link GcpKmsKeyProvider} can be tested end to end over HTTP. Passing
 * against it is evidence, not proof, of behaviour against the real service.
 *
 * <p>Keys are symmetric CryptoKeys made with {@link #createKey}, each with numbered versions (a
 * random AES-256 key each; {@link #rotate} adds a primary version). Its ciphertext format is its
 * own: version number, nonce, AES-GCM under that version with the request's additional
 * authenticated data. Every request must carry {@code Authorization: Bearer} {@link #TOKEN} (the
 * token of {@link #credentials()}), or it is answered 401.
 *
 * <p>Faults: the next {@code n} requests answered with an HTTP status ({@link #failNext}),
 * connections dropped without an answer ({@link #dropNext}), answers whose ciphertext or plaintext
 * does not match its CRC32C ({@link #corruptNext}), access denial ({@link #denyAll}) and disabled
 * keys ({@link #disable}).
 */
final class GcpKmsTestServer implements AutoCloseable {
  static final String TOKEN = "kms-test-token";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PATH =
      Pattern.compile("/v1/(projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/:]+)(/cryptoKeyVersions/(\\d+))?:(encrypt|decrypt)");

  private final HttpServer http;
  private final ExecutorService executor;
  private final SecureRandom random = new SecureRandom();
  private final Object lock = new Object();
  private final Map<String, CryptoKey> keys = new HashMap<>();
  private final List<byte[]> plaintexts = new ArrayList<>();
  private final AtomicInteger encrypts = new AtomicInteger();
  private final AtomicInteger decrypts = new AtomicInteger();
  private final AtomicInteger faults = new AtomicInteger();
  // faults, guarded by lock
  private final List<Integer> failCodes = new ArrayList<>();
  private int drops;
  private int corruptions;
  private boolean denyAll;

  private static final class CryptoKey {
    final List<SecretKeySpec> versions = new ArrayList<>();
    boolean enabled = true;
  }

  private GcpKmsTestServer(HttpServer http, ExecutorService executor) {
    this.http = http;
    this.executor = executor;
  }

  /** Starts a server on a free port of 127.0.0.1. */
  static GcpKmsTestServer start() throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    ExecutorService executor =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "kms-test-server");
              t.setDaemon(true);
              return t;
            });
    GcpKmsTestServer server = new GcpKmsTestServer(http, executor);
    http.createContext("/", server::handle);
    http.setExecutor(executor);
    http.start();
    return server;
  }

  /** @return the base URI for {@code GcpKmsKeyProvider.Builder.endpoint} */
  URI endpoint() {
    return URI.create("http://127.0.0.1:" + http.getAddress().getPort());
  }

  /** @return credentials whose requests carry the token this server accepts */
  static GoogleCredentials credentials() {
    return GoogleCredentials.create(new AccessToken(TOKEN, null));
  }

  /** Creates a CryptoKey with one version (idempotent). */
  void createKey(String name) {
    synchronized (lock) {
      keys.computeIfAbsent(name, n -> {
        CryptoKey k = new CryptoKey();
        k.versions.add(newAesKey());
        return k;
      });
    }
  }

  /** Adds a new primary version to a key. */
  void rotate(String name) {
    synchronized (lock) {
      keys.get(name).versions.add(newAesKey());
    }
  }

  /** Disables a key: every use answers 400 FAILED_PRECONDITION. */
  void disable(String name) {
    synchronized (lock) {
      keys.get(name).enabled = false;
    }
  }

  /** Answers the next requests with these HTTP codes, one each, before acting on them. */
  void failNext(Integer... codes) {
    synchronized (lock) {
      failCodes.addAll(List.of(codes));
    }
  }

  /** Drops the connection of the next {@code n} requests without answering (after acting). */
  void dropNext(int n) {
    synchronized (lock) {
      drops = n;
    }
  }

  /** Flips a bit of the ciphertext or plaintext in the next {@code n} answers, not of its CRC32C. */
  void corruptNext(int n) {
    synchronized (lock) {
      corruptions = n;
    }
  }

  /** Answers every request 403 while {@code deny} holds. */
  void denyAll(boolean deny) {
    synchronized (lock) {
      denyAll = deny;
    }
  }

  int encrypts() {
    return encrypts.get();
  }

  int decrypts() {
    return decrypts.get();
  }

  /** @return how many faults were injected so far */
  int faults() {
    return faults.get();
  }

  /** @return copies of every plaintext this server encrypted, so tests can look for leaks */
  List<byte[]> plaintexts() {
    synchronized (lock) {
      return plaintexts.stream().map(byte[]::clone).toList();
    }
  }

  @Override
  public void close() {
    http.stop(0);
    executor.shutdownNow();
  }

  // ---------------------------------------------------------------------------------------------

  private static final class Reply extends Exception {
    private static final long serialVersionUID = 1L;
    final int code;
    final String status;

    Reply(int code, String status, String message) {
      super(message, null, false, false);
      this.code = code;
      this.status = status;
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      byte[] body = ex.getRequestBody().readAllBytes();
      boolean drop;
      boolean corrupt;
      synchronized (lock) {
        if (!failCodes.isEmpty()) {
          faults.incrementAndGet();
          int code = failCodes.remove(0);
          throw new Reply(code, code == 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE", "injected " + code + " (test server fault)");
        }
        if (denyAll) {
          throw new Reply(403, "PERMISSION_DENIED",
              "Permission 'cloudkms.cryptoKeyVersions.useToEncrypt' denied on resource (or it may not exist).");
        }
        drop = drops > 0;
        if (drop) {
          drops--;
          faults.incrementAndGet();
        }
        corrupt = !drop && corruptions > 0;
        if (corrupt) {
          corruptions--;
          faults.incrementAndGet();
        }
      }
      if (!"POST".equals(ex.getRequestMethod())) {
        throw new Reply(405, "INVALID_ARGUMENT", "method not allowed");
      }
      if (!("Bearer " + TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        throw new Reply(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
      }
      Matcher m = PATH.matcher(ex.getRequestURI().getPath());
      if (!m.matches()) {
        throw new Reply(404, "NOT_FOUND", "no such method");
      }
      JsonNode request = JSON.readTree(body);
      ObjectNode answer =
          m.group(4).equals("encrypt")
              ? encrypt(m.group(1), m.group(3), request, corrupt)
              : decrypt(m.group(1), m.group(2) != null, request, corrupt);
      if (drop) {
        ex.close();
        return;
      }
      send(ex, 200, answer);
    } catch (Reply r) {
      ObjectNode err = JSON.createObjectNode();
      err.putObject("error").put("code", r.code).put("message", r.getMessage()).put("status", r.status);
      send(ex, r.code, err);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      ObjectNode err = JSON.createObjectNode();
      err.putObject("error").put("code", 400).put("message", "Invalid JSON payload received.").put("status", "INVALID_ARGUMENT");
      send(ex, 400, err);
    } catch (RuntimeException e) {
      ObjectNode err = JSON.createObjectNode();
      err.putObject("error").put("code", 500).put("message", String.valueOf(e)).put("status", "INTERNAL");
      send(ex, 500, err);
    } finally {
      ex.close();
    }
  }

  private ObjectNode encrypt(String name, String version, JsonNode request, boolean corrupt) throws Reply {
    encrypts.incrementAndGet();
    byte[] plaintext = binary(request, "plaintext", true);
    byte[] aad = binary(request, "additionalAuthenticatedData", false);
    if (plaintext.length > 64 * 1024) {
      throw new Reply(400, "INVALID_ARGUMENT", "The plaintext must be no larger than 64KiB.");
    }
    boolean plaintextChecked = checkCrc(request, "plaintextCrc32c", plaintext);
    boolean aadChecked = checkCrc(request, "additionalAuthenticatedDataCrc32c", aad);
    int v;
    SecretKeySpec key;
    synchronized (lock) {
      CryptoKey k = usable(name);
      v = version == null ? k.versions.size() : Integer.parseInt(version);
      if (v < 1 || v > k.versions.size()) {
        throw new Reply(404, "NOT_FOUND", name + "/cryptoKeyVersions/" + v + " not found.");
      }
      key = k.versions.get(v - 1);
      plaintexts.add(plaintext.clone());
    }
    byte[] nonce = new byte[12];
    random.nextBytes(nonce);
    byte[] sealed = gcm(Cipher.ENCRYPT_MODE, key, nonce, aad, plaintext, 0, plaintext.length);
    byte[] ciphertext = ByteBuffer.allocate(4 + 12 + sealed.length).putInt(v).put(nonce).put(sealed).array();
    long crc = crc32c(ciphertext);
    if (corrupt) {
      ciphertext[ciphertext.length - 1] ^= 1;
    }
    ObjectNode answer = JSON.createObjectNode();
    answer.put("name", name + "/cryptoKeyVersions/" + v);
    answer.put("ciphertext", Base64.getEncoder().encodeToString(ciphertext));
    answer.put("ciphertextCrc32c", Long.toString(crc));
    answer.put("verifiedPlaintextCrc32c", plaintextChecked);
    answer.put("verifiedAdditionalAuthenticatedDataCrc32c", aadChecked);
    answer.put("protectionLevel", "SOFTWARE");
    return answer;
  }

  private ObjectNode decrypt(String name, boolean versionGiven, JsonNode request, boolean corrupt) throws Reply {
    decrypts.incrementAndGet();
    if (versionGiven) {
      throw new Reply(400, "INVALID_ARGUMENT", "Decrypt takes a CryptoKey name, not a CryptoKeyVersion name.");
    }
    byte[] ciphertext = binary(request, "ciphertext", true);
    byte[] aad = binary(request, "additionalAuthenticatedData", false);
    checkCrc(request, "ciphertextCrc32c", ciphertext);
    checkCrc(request, "additionalAuthenticatedDataCrc32c", aad);
    SecretKeySpec key;
    int v = ciphertext.length >= 4 + 12 + 16 ? ByteBuffer.wrap(ciphertext).getInt() : 0;
    synchronized (lock) {
      CryptoKey k = usable(name);
      if (v < 1 || v > k.versions.size()) {
        throw new Reply(400, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.");
      }
      key = k.versions.get(v - 1);
    }
    byte[] nonce = java.util.Arrays.copyOfRange(ciphertext, 4, 16);
    byte[] plaintext = gcm(Cipher.DECRYPT_MODE, key, nonce, aad, ciphertext, 16, ciphertext.length - 16);
    if (plaintext == null) {
      throw new Reply(400, "INVALID_ARGUMENT", "Decryption failed: verify that 'name' refers to the correct CryptoKey.");
    }
    long crc = crc32c(plaintext);
    if (corrupt) {
      plaintext[0] ^= 1;
    }
    ObjectNode answer = JSON.createObjectNode();
    answer.put("plaintext", Base64.getEncoder().encodeToString(plaintext));
    answer.put("plaintextCrc32c", Long.toString(crc));
    answer.put("usedPrimary", true);
    answer.put("protectionLevel", "SOFTWARE");
    return answer;
  }

  private CryptoKey usable(String name) throws Reply {
    CryptoKey k = keys.get(name);
    if (k == null) {
      throw new Reply(404, "NOT_FOUND", name + " not found.");
    }
    if (!k.enabled) {
      throw new Reply(400, "FAILED_PRECONDITION", name + "/cryptoKeyVersions/1 is not enabled, current state is: DISABLED.");
    }
    return k;
  }

  private static byte[] binary(JsonNode request, String field, boolean required) throws Reply {
    JsonNode n = request.get(field);
    if (n == null || n.isNull()) {
      if (required) {
        throw new Reply(400, "INVALID_ARGUMENT", "Invalid value at '" + field + "': required");
      }
      return new byte[0];
    }
    try {
      return Base64.getDecoder().decode(n.asText());
    } catch (IllegalArgumentException e) {
      throw new Reply(400, "INVALID_ARGUMENT", "Invalid value at '" + field + "' (TYPE_BYTES), Base64 decoding failed");
    }
  }

  /** @return whether the field was present (and so verified) */
  private static boolean checkCrc(JsonNode request, String field, byte[] data) throws Reply {
    JsonNode n = request.get(field);
    if (n == null || n.isNull()) {
      return false;
    }
    if (Long.parseLong(n.asText()) != crc32c(data)) {
      throw new Reply(400, "INVALID_ARGUMENT", "The checksum in field " + field + " did not match the data.");
    }
    return true;
  }

  private byte[] gcm(int mode, SecretKeySpec key, byte[] nonce, byte[] aad, byte[] in, int off, int len) {
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(mode, key, new GCMParameterSpec(128, nonce));
      c.updateAAD(aad);
      return c.doFinal(in, off, len);
    } catch (AEADBadTagException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private SecretKeySpec newAesKey() {
    byte[] k = new byte[32];
    random.nextBytes(k);
    return new SecretKeySpec(k, "AES");
  }

  private static long crc32c(byte[] data) {
    CRC32C c = new CRC32C();
    c.update(data);
    return c.getValue();
  }

  private static void send(HttpExchange ex, int code, ObjectNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
