package io.binlogarchive.s3;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.StoreException;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.ConditionalCalls;
import io.binlogarchive.store.spi.PreconditionFailedException;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/**
 * The conditional writes of an {@link S3Sink} (for {@link io.binlogarchive.store.StoreLease}): a
 * replace is a {@code PutObject} with {@code If-Match}, a delete a {@code HeadObject} followed by a
 * {@code DeleteObject} with {@code If-Match}. A refused precondition ends a call at once, whatever
 * the retry policy says; a refusal of a request the policy re-sent is decided by the object's
 * write id. The sink's class comment describes what callers see.
 */
final class S3ConditionalWrites {
  private final S3Sink sink;
  private final S3SinkSettings settings;

  S3ConditionalWrites(S3Sink sink) {
    this.sink = sink;
    this.settings = sink.settings;
  }

  StoredObject replace(String key, String fullKey, String expectedVersion, byte[] content) throws IOException {
    Objects.requireNonNull(content, "content");
    String expected = expectedEtag(fullKey, expectedVersion);
    byte[] digest = Sha256.of(content, 0, content.length);
    String b64 = Sha256.base64(digest);
    String hex = Sha256.hex(digest);
    String writeId = ConditionalCalls.newWriteId();
    PutObjectRequest.Builder r =
        PutObjectRequest.builder()
            .bucket(settings.bucket())
            .key(fullKey)
            .ifMatch(quoted(expected))
            .contentLength((long) content.length)
            .contentType("application/octet-stream")
            .checksumSHA256(b64)
            .metadata(Map.of(S3Sink.SHA256_METADATA, hex, ConditionalCalls.WRITE_ID, writeId));
    if (settings.sse() != null) {
      r.serverSideEncryption(settings.sse()).ssekmsKeyId(settings.kmsKeyId())
          .ssekmsEncryptionContext(settings.kmsEncryptionContext());
    }
    if (settings.storageClass() != null) {
      r.storageClass(settings.storageClass());
    }
    PutObjectRequest request = r.build();
    PutObjectResponse resp;
    try {
      resp = conditional("replace", fullKey, expected,
          () -> settings.client().putObject(request, RequestBody.fromBytes(content)));
    } catch (PreconditionFailedException refused) {
      // our own earlier attempt may have landed, its answer lost
      HeadObjectResponse h = ConditionalCalls.ownWriteOrRefuse(
          refused, writeId, () -> sink.head(fullKey, "check"), HeadObjectResponse::metadata);
      return new StoredObject(key, content.length, h.lastModified(), Map.of("sha256", hex), Map.of(), S3Sink.version(h.eTag()));
    }
    String where = "s3://" + settings.bucket() + "/" + fullKey;
    if (resp.checksumSHA256() != null && !Sha256.sameChecksum(resp.checksumSHA256(), b64)) {
      throw new IntegrityException("replaced " + where + " but the store reports SHA-256 " + resp.checksumSHA256()
          + ", we sent " + b64);
    }
    String v = S3Sink.version(resp.eTag());
    if (v == null) {
      throw new StoreException("replaced " + where + " but the store returned no ETag", false, null);
    }
    return new StoredObject(key, content.length, null, Map.of("sha256", hex), Map.of(), v);
  }

  void delete(String fullKey, String expectedVersion) throws IOException {
    String expected = expectedEtag(fullKey, expectedVersion);
    HeadObjectResponse h;
    try {
      h = sink.head(fullKey, "delete");
    } catch (NotFoundException e) {
      throw S3Errors.gone("delete", settings.bucket(), fullKey, expected);
    }
    String found = S3Sink.version(h.eTag());
    if (!expected.equals(found)) {
      throw S3Errors.moved("delete", settings.bucket(), fullKey, expected, found);
    }
    conditional("delete", fullKey, expected,
        () -> settings.client().deleteObject(d -> d.bucket(settings.bucket()).key(fullKey).ifMatch(quoted(expected))));
  }

  private String expectedEtag(String fullKey, String expectedVersion) {
    Objects.requireNonNull(expectedVersion, "expectedVersion");
    String v = Sha256.unquote(expectedVersion);
    if (v.isBlank()) {
      throw new IllegalArgumentException("expected version of s3://" + settings.bucket() + "/" + fullKey
          + " must be an ETag as stat() reports it, got '" + expectedVersion + "'");
    }
    return v;
  }

  private static String quoted(String etag) {
    return "\"" + etag + "\"";
  }

  /**
   * Runs one conditional call under the retry policy. A refused precondition ends it at once,
   * whatever the policy's predicate says: re-sending a refused conditional write cannot help.
   */
  private <T> T conditional(String operation, String fullKey, String expected, RetryPolicy.IoCall<T> call)
      throws IOException {
    return ConditionalCalls.retryUnlessRefused(
        settings.retryPolicy(),
        operation + " s3://" + settings.bucket() + "/" + fullKey,
        () -> {
          try {
            return call.call();
          } catch (SdkException e) {
            throw S3Errors.translateConditional(e, operation, settings.bucket(), fullKey, expected);
          }
        });
  }
}
