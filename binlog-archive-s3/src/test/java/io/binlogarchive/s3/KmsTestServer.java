package io.binlogarchive.s3;

import io.binlogarchive.NotFoundException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * A stand-in for AWS KMS on a loopback port, for tests only: no KMS can run on the build machines,
 * so this JDK {@code HttpServer} speaks the KMS JSON protocol ({@code POST /}, {@code X-Amz-Target:
 * TrentService.<Operation>}, {@code application/x-amz-json-1.1}, base64 blobs) for the three
 * operations {@link AwsKmsKeyProvider} uses: {@code GenerateDataKey}, {@code Decrypt}, {@code
 * Encrypt} and {@code DescribeKey} (only the key's id and ARN). It is not AWS KMS: signatures are not checked, and its ciphertext blobs are its own
 * format (key ARN, nonce, AES-GCM of the data key with the encryption context as associated data).
 * What it does enforce as KMS does: an unknown key is {@code NotFoundException}; a blob given to
 * {@code Decrypt} with another key's id is {@code IncorrectKeyException}; a blob that does not
 * authenticate (corrupt, or another encryption context) is {@code InvalidCiphertextException}.
 * Errors are HTTP 400 with {@code {"__type": ..., "message": ...}} as in the KMS API reference.
 */
public final class KmsTestServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One exchange as seen by the server.
   *
   * @param operation the operation from {@code X-Amz-Target}, e.g. {@code GenerateDataKey}
   * @param body the request's JSON
   * @param status the response status
   * @param response the response's JSON (with base64 {@code Plaintext} where KMS returns one)
   */
  public record Call(String operation, JsonNode body, int status, JsonNode response) {}

  private record Reply(int status, JsonNode body) {}

  private final HttpServer server;
  private final ExecutorService threads = Executors.newFixedThreadPool(2);
  private final Map<String, SecretKeySpec> keys = new ConcurrentHashMap<>();
  private final Map<String, String> aliases = new ConcurrentHashMap<>();
  private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
  private final SecureRandom random = new SecureRandom();
  private volatile String failNextWith;

  /**
   * Starts the server.
   *
   * @throws IOException if no loopback port can be bound
   */
  public KmsTestServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(threads);
    server.start();
  }

  /** @return the endpoint for {@code KmsClient.builder().endpointOverride(...)} */
  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /**
   * Creates a symmetric key with a fresh random master key.
   *
   * @param arn the key ARN KMS would report
   * @param alias an alias name ({@code alias/...}) that resolves to it, or {@code null}
   * @return {@code arn}
   */
  public String createKey(String arn, String alias) {
    byte[] k = new byte[32];
    random.nextBytes(k);
    keys.put(arn, new SecretKeySpec(k, "AES"));
    if (alias != null) {
      aliases.put(alias, arn);
    }
    return arn;
  }

  /** @return every request so far, in arrival order */
  public List<Call> calls() {
    synchronized (calls) {
      return List.copyOf(calls);
    }
  }

  /** @param errorType a KMS error type the next request is answered with (HTTP 400 or, for KMSInternalException, 500) */
  public void failNext(String errorType) {
    this.failNextWith = errorType;
  }

  /**
   * A client for this server: static dummy credentials, a fixed region, the SDK's retries off.
   *
   * @return a new client; the caller closes it
   */
  public KmsClient client() {
    return KmsClient.builder()
        .endpointOverride(endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String target = ex.getRequestHeaders().getFirst("X-Amz-Target");
      JsonNode body = JSON.readTree(ex.getRequestBody().readAllBytes());
      String op = target == null ? "" : target.substring(target.indexOf('.') + 1);
      Reply reply;
      try {
        reply = reply(target, op, body);
      } catch (RuntimeException | GeneralSecurityException e) {
        reply = error(500, "KMSInternalException", e.toString());
      }
      calls.add(new Call(op, body, reply.status(), reply.body()));
      byte[] out = JSON.writeValueAsBytes(reply.body());
      ex.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
      ex.getResponseHeaders().set("x-amzn-RequestId", "kms-test-server");
      ex.sendResponseHeaders(reply.status(), out.length);
      ex.getResponseBody().write(out);
    }
  }

  private Reply reply(String target, String op, JsonNode body) throws GeneralSecurityException {
    String fail = failNextWith;
    if (fail != null) {
      failNextWith = null;
      return error(fail.equals("KMSInternalException") ? 500 : 400, fail, "injected by the test");
    }
    if (target == null || !target.startsWith("TrentService.")) {
      return error(400, "UnknownOperationException", "missing or foreign X-Amz-Target");
    }
    return switch (op) {
      case "GenerateDataKey" -> generateDataKey(body);
      case "Encrypt" -> encrypt(body);
      case "Decrypt" -> decrypt(body);
      case "DescribeKey" -> describeKey(body);
      default -> error(400, "UnknownOperationException", "operation " + op + " is not served here");
    };
  }

  private Reply generateDataKey(JsonNode body) throws GeneralSecurityException {
    String arn = resolve(body);
    if (arn == null) {
      return notFound(body);
    }
    if (!"AES_256".equals(body.path("KeySpec").asText())) {
      return error(400, "ValidationException", "this server issues only KeySpec AES_256");
    }
    byte[] dataKey = new byte[32];
    random.nextBytes(dataKey);
    ObjectNode out = JSON.createObjectNode();
    out.put("KeyId", arn);
    out.put("Plaintext", Base64.getEncoder().encodeToString(dataKey));
    out.put("CiphertextBlob", Base64.getEncoder().encodeToString(seal(arn, dataKey, context(body))));
    return new Reply(200, out);
  }

  private Reply encrypt(JsonNode body) throws GeneralSecurityException {
    String arn = resolve(body);
    if (arn == null) {
      return notFound(body);
    }
    byte[] plaintext = Base64.getDecoder().decode(body.path("Plaintext").asText());
    ObjectNode out = JSON.createObjectNode();
    out.put("KeyId", arn);
    out.put("CiphertextBlob", Base64.getEncoder().encodeToString(seal(arn, plaintext, context(body))));
    out.put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
    return new Reply(200, out);
  }

  private Reply decrypt(JsonNode body) {
    byte[] blob = Base64.getDecoder().decode(body.path("CiphertextBlob").asText());
    ByteBuffer b = ByteBuffer.wrap(blob);
    String blobArn;
    byte[] nonce = new byte[12];
    byte[] sealed;
    try {
      byte[] arn = new byte[b.getShort()];
      b.get(arn);
      blobArn = new String(arn, StandardCharsets.UTF_8);
      b.get(nonce);
      sealed = new byte[b.remaining()];
      b.get(sealed);
    } catch (RuntimeException e) {
      return error(400, "InvalidCiphertextException", "not a ciphertext blob of this server");
    }
    if (body.hasNonNull("KeyId")) {
      String given = resolve(body);
      if (given == null) {
        return notFound(body);
      }
      if (!given.equals(blobArn)) {
        return error(400, "IncorrectKeyException", "the ciphertext was not encrypted under the KMS key given");
      }
    }
    SecretKeySpec master = keys.get(blobArn);
    if (master == null) {
      return error(400, "NotFoundException", "Key '" + blobArn + "' does not exist");
    }
    byte[] plaintext;
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, master, new GCMParameterSpec(128, nonce));
      c.updateAAD(context(body));
      plaintext = c.doFinal(sealed);
    } catch (GeneralSecurityException e) {
      return error(400, "InvalidCiphertextException", "the ciphertext does not authenticate under this key and context");
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("KeyId", blobArn);
    out.put("Plaintext", Base64.getEncoder().encodeToString(plaintext));
    out.put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
    return new Reply(200, out);
  }

  private Reply describeKey(JsonNode body) {
    String arn = resolve(body);
    if (arn == null) {
      return notFound(body);
    }
    ObjectNode out = JSON.createObjectNode();
    ObjectNode meta = out.putObject("KeyMetadata");
    meta.put("KeyId", arn.substring(arn.lastIndexOf('/') + 1));
    meta.put("Arn", arn);
    meta.put("KeyState", "Enabled");
    meta.put("KeyUsage", "ENCRYPT_DECRYPT");
    return new Reply(200, out);
  }

  private static Reply notFound(JsonNode body) {
    return error(400, "NotFoundException", "Key '" + body.path("KeyId").asText("") + "' does not exist");
  }

  /** @return the key ARN the request's KeyId names, or null if there is no such key */
  private String resolve(JsonNode body) {
    String id = body.path("KeyId").asText("");
    String arn = aliases.getOrDefault(id, id);
    return keys.containsKey(arn) ? arn : null;
  }

  private byte[] seal(String arn, byte[] plaintext, byte[] context) throws GeneralSecurityException {
    byte[] nonce = new byte[12];
    random.nextBytes(nonce);
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.ENCRYPT_MODE, keys.get(arn), new GCMParameterSpec(128, nonce));
    c.updateAAD(context);
    byte[] sealed = c.doFinal(plaintext);
    byte[] id = arn.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(2 + id.length + nonce.length + sealed.length)
        .putShort((short) id.length).put(id).put(nonce).put(sealed).array();
  }

  /** The encryption context in a canonical form (sorted pairs), bound to the blob as associated data. */
  private static byte[] context(JsonNode body) {
    Map<String, String> sorted = new TreeMap<>();
    body.path("EncryptionContext").properties().forEach(e -> sorted.put(e.getKey(), e.getValue().asText()));
    return sorted.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static Reply error(int status, String type, String message) {
    ObjectNode body = JSON.createObjectNode();
    body.put("__type", type);
    body.put("message", message);
    return new Reply(status, body);
  }

  /** Stops the server. */
  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
