package io.binlogarchive.gcs;

import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.auth.Credentials;
import com.google.auth.Retryable;
import com.google.cloud.NoCredentials;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.StoreException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The two Cloud KMS REST calls the key provider needs ({@code cryptoKeys.encrypt} and {@code
 * cryptoKeys.decrypt}) over the JDK's {@link HttpClient}, with CRC32C integrity fields both ways
 * and the one place where KMS answers become the library's error taxonomy.
 *
 * <p>Key hygiene: request bodies are assembled in byte arrays that are zeroed once the call is
 * over, and the decrypted key is decoded from the response bytes straight into a byte array
 * (never a {@code String}), after which the response bytes are zeroed. Jackson's own parse buffers
 * are recycled, not zeroed; that is as far as a JSON API allows. No request or response body ever
 * reaches a log line or an exception message: errors quote only the {@code error.status} and
 * {@code error.message} fields that KMS sends.
 */
final class GcpKmsClient {
  private static final JsonFactory JSON = new JsonFactory();
  private static final int MAX_ERROR_MESSAGE = 300;

  private final URI endpoint;
  private final Credentials credentials;
  private final HttpClient http;
  private final Duration timeout;
  private final RetryPolicy retry;

  GcpKmsClient(URI endpoint, Credentials credentials, HttpClient http, Duration timeout, RetryPolicy retry) {
    this.endpoint = endpoint;
    this.credentials = credentials;
    this.http = http;
    this.timeout = timeout;
    this.retry = retry;
  }

  /** What an encrypt call returned. */
  record Encrypted(String keyVersion, byte[] ciphertext) {}

  /**
   * Encrypts with the primary version of {@code keyName}.
   *
   * @return the ciphertext and the name of the key version that made it
   */
  Encrypted encrypt(String keyName, byte[] plaintext, byte[] aad) {
    String what = "wrap a data key with Cloud KMS key " + keyName;
    return call(what, () -> {
      byte[] body =
          body(
              "plaintext", plaintext,
              "additionalAuthenticatedData", aad,
              "plaintextCrc32c", crc32c(plaintext),
              "additionalAuthenticatedDataCrc32c", crc32c(aad));
      byte[] response = null;
      try {
        response = post(keyName, "encrypt", body, what, false);
        Fields f = Fields.parse(response, "ciphertext", what);
        if (f.binary == null || f.name == null) {
          throw new StoreException("cannot " + what + ": the answer lacks ciphertext or name", false, null);
        }
        if (!f.verifiedPlaintextCrc32c || !f.verifiedAadCrc32c) {
          throw new StoreException(
              "cannot " + what + ": Cloud KMS did not confirm the request checksums; the request may have been"
                  + " corrupted in transit", true, null);
        }
        if (f.crc32c == null || f.crc32c != crc32c(f.binary)) {
          throw new StoreException(
              "cannot " + what + ": the ciphertext does not match its CRC32C; the answer was corrupted in transit",
              true, null);
        }
        if (!f.name.startsWith(keyName + "/cryptoKeyVersions/")) {
          throw new StoreException(
              "cannot " + what + ": Cloud KMS answered with key version '" + f.name + "', not a version of that key",
              false, null);
        }
        return new Encrypted(f.name, f.binary);
      } finally {
        Arrays.fill(body, (byte) 0);
        if (response != null) {
          Arrays.fill(response, (byte) 0);
        }
      }
    });
  }

  /**
   * Decrypts a ciphertext made by any version of {@code keyName}.
   *
   * @return the plaintext; the caller zeroes it
   */
  byte[] decrypt(String keyName, byte[] ciphertext, byte[] aad) {
    String what = "unwrap a data key with Cloud KMS key " + keyName;
    return call(what, () -> {
      byte[] body =
          body(
              "ciphertext", ciphertext,
              "additionalAuthenticatedData", aad,
              "ciphertextCrc32c", crc32c(ciphertext),
              "additionalAuthenticatedDataCrc32c", crc32c(aad));
      byte[] response = post(keyName, "decrypt", body, what, true);
      Fields f;
      try {
        f = Fields.parse(response, "plaintext", what);
      } finally {
        Arrays.fill(response, (byte) 0);
      }
      if (f.binary == null) {
        throw new StoreException("cannot " + what + ": the answer lacks the plaintext", false, null);
      }
      if (f.crc32c == null || f.crc32c != crc32c(f.binary)) {
        Arrays.fill(f.binary, (byte) 0);
        throw new StoreException(
            "cannot " + what + ": the plaintext does not match its CRC32C; the answer was corrupted in transit",
            true, null);
      }
      return f.binary;
    });
  }

  private <T> T call(String what, RetryPolicy.IoCall<T> call) {
    try {
      return retry.call(what, call);
    } catch (InterruptedIOException e) {
      throw new StoreException("cannot " + what + ": interrupted", false, e);
    } catch (IOException e) {
      throw new StoreException("cannot " + what + ": " + e.getMessage(), true, e);
    }
  }

  private byte[] post(String keyName, String method, byte[] body, String what, boolean decrypting)
      throws IOException {
    URI uri = URI.create(endpoint.toString().replaceAll("/+$", "") + "/v1/" + keyName + ":" + method);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (Map.Entry<String, List<String>> h : authHeaders(uri, what).entrySet()) {
      for (String v : h.getValue()) {
        request.header(h.getKey(), v);
      }
    }
    HttpResponse<byte[]> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (HttpTimeoutException e) {
      throw new StoreException("cannot " + what + ": timed out after " + timeout, true, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("cannot " + what + ": interrupted", false, e);
    } catch (IOException e) {
      throw new StoreException("cannot " + what + ": connection failed: " + e, true, e);
    }
    int code = response.statusCode();
    if (code == 200) {
      return response.body();
    }
    throw translate(code, response.body(), keyName, what, decrypting);
  }

  private Map<String, List<String>> authHeaders(URI uri, String what) {
    if (credentials instanceof NoCredentials) {
      return Map.of();
    }
    try {
      Map<String, List<String>> headers = credentials.getRequestMetadata(uri);
      return headers == null ? Map.of() : headers;
    } catch (IOException e) {
      boolean retryable = !(e instanceof Retryable r) || r.isRetryable();
      throw new StoreException(
          "cannot " + what + ": the credentials could not produce an access token: " + e.getMessage(), retryable, e);
    }
  }

  /** Error answers: {@code {"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}}}. */
  static ArchiveException translate(int code, byte[] body, String keyName, String what, boolean decrypting) {
    String[] statusAndMessage = errorFields(body);
    String status = statusAndMessage[0];
    String detail = " (HTTP " + code + (status.isEmpty() ? "" : " " + status) + ": " + statusAndMessage[1] + ")";
    switch (code) {
      case 400:
        if (decrypting && "INVALID_ARGUMENT".equals(status)) {
          return new IntegrityException(
              "cannot " + what + ": Cloud KMS refused to decrypt it" + detail + "; the wrapped key is corrupt, or"
                  + " was made with another key or context");
        }
        return new StoreException("cannot " + what + ": request rejected" + detail, false, null);
      case 401:
      case 403:
        return new StoreException(
            "cannot " + what + ": access denied" + detail + "; the caller needs roles/cloudkms.cryptoKeyEncrypterDecrypter"
                + " (cloudkms.cryptoKeyVersions.useTo" + (decrypting ? "Decrypt" : "Encrypt") + ") on " + keyName,
            false, null);
      case 404:
        return new NotFoundException(
            "cannot " + what + ": the key does not exist or is not visible to these credentials" + detail);
      case 408:
      case 429:
        return new StoreException("cannot " + what + ": throttled or timed out" + detail, true, null);
      default:
        if (code >= 500) {
          return new StoreException("cannot " + what + ": transient failure" + detail, true, null);
        }
        return new StoreException("cannot " + what + detail, false, null);
    }
  }

  private static String[] errorFields(byte[] body) {
    String status = "";
    String message = "";
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          p.nextToken();
          if (!field.equals("error") || !p.isExpectedStartObjectToken()) {
            p.skipChildren();
            continue;
          }
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String inner = p.currentName();
            p.nextToken();
            if (inner.equals("status") && p.currentToken() == JsonToken.VALUE_STRING) {
              status = p.getText();
            } else if (inner.equals("message") && p.currentToken() == JsonToken.VALUE_STRING) {
              message = p.getText();
            } else {
              p.skipChildren();
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      message = "no JSON error body";
    }
    if (message.length() > MAX_ERROR_MESSAGE) {
      message = message.substring(0, MAX_ERROR_MESSAGE) + "...";
    }
    return new String[] {status, message.isEmpty() ? "no message" : message};
  }

  /** The fields of an encrypt or decrypt answer that the provider checks. */
  private static final class Fields {
    byte[] binary;
    String name;
    Long crc32c;
    boolean verifiedPlaintextCrc32c;
    boolean verifiedAadCrc32c;

    static Fields parse(byte[] response, String binaryField, String what) {
      Fields f = new Fields();
      String crcField = binaryField + "Crc32c";
      try (JsonParser p = JSON.createParser(response)) {
        if (p.nextToken() != JsonToken.START_OBJECT) {
          throw new IOException("not a JSON object");
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken t = p.nextToken();
          if (field.equals(binaryField) && t == JsonToken.VALUE_STRING) {
            f.binary = p.getBinaryValue(Base64Variants.MIME_NO_LINEFEEDS);
          } else if (field.equals("name") && t == JsonToken.VALUE_STRING) {
            f.name = p.getText();
          } else if (field.equals(crcField) && (t == JsonToken.VALUE_STRING || t == JsonToken.VALUE_NUMBER_INT)) {
            f.crc32c = Long.parseLong(p.getText());
          } else if (field.equals("verifiedPlaintextCrc32c") && t.isBoolean()) {
            f.verifiedPlaintextCrc32c = p.getBooleanValue();
          } else if (field.equals("verifiedAdditionalAuthenticatedDataCrc32c") && t.isBoolean()) {
            f.verifiedAadCrc32c = p.getBooleanValue();
          } else {
            p.skipChildren();
          }
        }
      } catch (IOException | RuntimeException e) {
        if (f.binary != null) {
          Arrays.fill(f.binary, (byte) 0);
        }
        // never quote the body: it may hold the key
        throw new StoreException(
            "cannot " + what + ": Cloud KMS answered with a body that is not the expected JSON ("
                + e.getClass().getSimpleName() + ")", true, null);
      }
      return f;
    }
  }

  /**
   * A JSON object of base64 and decimal fields in one exactly sized array, so that the caller can
   * zero it: pairs of name and value, the value a {@code byte[]} (base64) or a {@code Long}.
   */
  static byte[] body(Object... pairs) {
    byte[][] parts = new byte[pairs.length / 2][];
    int length = 2;
    try {
      for (int i = 0; i < pairs.length; i += 2) {
        byte[] name = ((String) pairs[i]).getBytes(StandardCharsets.US_ASCII);
        Object v = pairs[i + 1];
        byte[] value =
            v instanceof byte[] b
                ? Base64.getEncoder().encode(b)
                : Long.toString((Long) v).getBytes(StandardCharsets.US_ASCII);
        byte[] part = new byte[name.length + value.length + 5];
        int at = 0;
        part[at++] = '"';
        System.arraycopy(name, 0, part, at, name.length);
        at += name.length;
        part[at++] = '"';
        part[at++] = ':';
        part[at++] = '"';
        System.arraycopy(value, 0, part, at, value.length);
        at += value.length;
        part[at] = '"';
        Arrays.fill(value, (byte) 0);
        parts[i / 2] = part;
        length += part.length + (i == 0 ? 0 : 1);
      }
      byte[] out = new byte[length];
      int at = 0;
      out[at++] = '{';
      for (int i = 0; i < parts.length; i++) {
        if (i > 0) {
          out[at++] = ',';
        }
        System.arraycopy(parts[i], 0, out, at, parts[i].length);
        at += parts[i].length;
      }
      out[at] = '}';
      return out;
    } finally {
      for (byte[] part : parts) {
        if (part != null) {
          Arrays.fill(part, (byte) 0);
        }
      }
    }
  }

  static long crc32c(byte[] data) {
    CRC32C c = new CRC32C();
    c.update(data);
    return c.getValue();
  }
}
