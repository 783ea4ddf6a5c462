package io.binlogarchive.s3;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.store.spi.PreconditionFailedException;
import io.binlogarchive.StoreException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Locale;
import java.util.Set;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/**
 * The one place where AWS SDK errors become the library's error taxonomy. Every store call of
 * {@link S3Sink} and its writer catches {@link SdkException} and rethrows what {@link #translate}
 * returns, so retry decisions ({@link StoreException#isRetryable()}) are made here and nowhere
 * else.
 */
final class S3Errors {
  private S3Errors() {}

  /** Error codes that mean the bytes the store received do not match their checksum. */
  private static final Set<String> INTEGRITY_CODES =
      Set.of("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum", "InvalidPart");

  /** Error codes that are worth another attempt whatever their status. */
  private static final Set<String> RETRYABLE_CODES =
      Set.of(
          "SlowDown",
          "Throttling",
          "ThrottlingException",
          "RequestLimitExceeded",
          "TooManyRequestsException",
          "InternalError",
          "ServiceUnavailable",
          "RequestTimeout",
          "RequestTimeoutException",
          "OperationAborted",
          "ConditionalRequestConflict");

  /**
   * @param e what the SDK threw
   * @param operation what was being done, e.g. {@code "upload part 3 of"}
   * @param bucket the bucket
   * @param key the full object key in the bucket, or {@code null} for bucket-wide calls
   * @return the translated error, with the SDK's error as its cause
   */
  static ArchiveException translate(SdkException e, String operation, String bucket, String key) {
    String where = key == null ? "s3://" + bucket : "s3://" + bucket + "/" + key;
    String what = operation + " " + where;
    if (e instanceof SdkServiceException se) {
      int status = se.statusCode();
      String code = errorCode(se);
      String detail = describe(se, status, code);
      if (status == 412 || "PreconditionFailed".equals(code)) {
        return new ObjectExistsException(
            key, "cannot " + what + ": an object already exists under the key (" + detail + ")");
      }
      if (INTEGRITY_CODES.contains(code)) {
        return new IntegrityException(
            "cannot " + what + ": the store rejected the bytes it received as not matching their checksum ("
                + detail + "); not retried",
            e);
      }
      if ("NoSuchBucket".equals(code)) {
        return new StoreException(
            "cannot " + what + ": bucket " + bucket + " does not exist (" + detail + ")", false, e);
      }
      if ("NoSuchKey".equals(code) || status == 404 && code.isEmpty() && key != null) {
        return new NotFoundException("cannot " + what + ": object " + key + " does not exist in bucket " + bucket, e);
      }
      if ("NoSuchUpload".equals(code)) {
        return new StoreException(
            "cannot " + what + ": the multipart upload no longer exists (aborted by another process or a lifecycle rule) ("
                + detail + ")",
            false,
            e);
      }
      if (status == 403 || status == 401) {
        return new StoreException(
            "cannot " + what + ": access denied (" + detail + "); check the credentials, the bucket policy and, for SSE-KMS, the key policy",
            false,
            e);
      }
      boolean retryable = RETRYABLE_CODES.contains(code) || status >= 500 || status == 429 || status == 408;
      return new StoreException("cannot " + what + ": " + detail, retryable, e);
    }
    if (e instanceof AbortedException) {
      return new StoreException("cannot " + what + ": the call was interrupted", false, e);
    }
    if (e instanceof ApiCallAttemptTimeoutException || e instanceof ApiCallTimeoutException) {
      return new StoreException("cannot " + what + ": timed out (" + e.getMessage() + ")", true, e);
    }
    if (e instanceof SdkClientException) {
      IOException io = ioCause(e);
      if (io instanceof InterruptedIOException && !(io instanceof java.net.SocketTimeoutException)) {
        return new StoreException("cannot " + what + ": the call was interrupted", false, e);
      }
      if (io != null) {
        // connection refused or reset, a broken pipe, a read timeout, a truncated response
        return new StoreException(
            "cannot " + what + ": " + io.getClass().getSimpleName() + ": " + io.getMessage(), true, e);
      }
      String msg = String.valueOf(e.getMessage());
      if (e.retryable() || msg.toLowerCase(Locale.ROOT).contains("unable to execute http request")) {
        return new StoreException("cannot " + what + ": " + msg, true, e);
      }
      if (msg.toLowerCase(Locale.ROOT).contains("checksum")) {
        // e.g. the SDK's own validation of a response checksum
        return new IntegrityException("cannot " + what + ": " + msg, e);
      }
      return new StoreException("cannot " + what + ": " + msg, false, e);
    }
    return new StoreException("cannot " + what + ": " + e.getMessage(), e.retryable(), e);
  }

  /**
   * Translates an error of a conditional write ({@code PutObject} or {@code DeleteObject} with
   * {@code If-Match}): 412 (the ETag moved on) and 404 (the object is gone) are a {@link
   * PreconditionFailedException}; 409 {@code ConditionalRequestConflict} (a concurrent write to the
   * key) is a retryable {@link StoreException}, as AWS advises; everything else as {@link
   * #translate}.
   *
   * @param e what the SDK threw
   * @param operation what was being done, e.g. {@code "replace"}
   * @param bucket the bucket
   * @param key the full object key
   * @param expectedEtag the ETag the caller expected
   * @return the translated error, with the SDK's error as its cause
   */
  static ArchiveException translateConditional(
      SdkException e, String operation, String bucket, String key, String expectedEtag) {
    if (e instanceof SdkServiceException se) {
      int status = se.statusCode();
      String code = errorCode(se);
      if (status == 412 || "PreconditionFailed".equals(code)) {
        return new PreconditionFailedException("cannot " + operation + " s3://" + bucket + "/" + key
            + ": it is no longer at ETag " + expectedEtag + " (" + describe(se, status, code) + ")");
      }
      if ("NoSuchKey".equals(code) || status == 404 && !"NoSuchBucket".equals(code)) {
        return gone(operation, bucket, key, expectedEtag);
      }
      if (status == 409 || "ConditionalRequestConflict".equals(code)) {
        return new StoreException("cannot " + operation + " s3://" + bucket + "/" + key
            + ": a concurrent write to the key conflicted (" + describe(se, status, code) + "); worth another attempt",
            true, e);
      }
    }
    return translate(e, operation, bucket, key);
  }

  /**
   * @param operation what was being done
   * @param bucket the bucket
   * @param key the full object key
   * @param expectedEtag the ETag the caller expected
   * @return the error for a conditional write that found no object under the key
   */
  static PreconditionFailedException gone(String operation, String bucket, String key, String expectedEtag) {
    return new PreconditionFailedException("cannot " + operation + " s3://" + bucket + "/" + key
        + ": expected ETag " + expectedEtag + ", but no object exists under the key");
  }

  /**
   * @param operation what was being done
   * @param bucket the bucket
   * @param key the full object key
   * @param expectedEtag the ETag the caller expected
   * @param foundEtag the ETag the object has
   * @return the error for a conditional write that found the object at another ETag
   */
  static PreconditionFailedException moved(
      String operation, String bucket, String key, String expectedEtag, String foundEtag) {
    return new PreconditionFailedException("cannot " + operation + " s3://" + bucket + "/" + key
        + ": expected ETag " + expectedEtag + ", found " + foundEtag);
  }

  /**
   * @param e an error a response stream threw while it was read
   * @return an {@link IOException} for the stream path (integrity failures stay unchecked)
   */
  static IOException forStream(SdkException e, String bucket, String key) {
    ArchiveException t = translate(e, "read", bucket, key);
    if (t instanceof IntegrityException) {
      throw t;
    }
    return new IOException(t.getMessage(), t);
  }

  /** @return whether the store says the multipart upload does not exist (any more) */
  static boolean isNoSuchUpload(SdkException e) {
    return e instanceof SdkServiceException se && "NoSuchUpload".equals(errorCode(se));
  }

  private static String errorCode(SdkServiceException se) {
    if (se instanceof AwsServiceException ae && ae.awsErrorDetails() != null) {
      String c = ae.awsErrorDetails().errorCode();
      if (c != null) {
        return c;
      }
    }
    return "";
  }

  private static String describe(SdkServiceException se, int status, String code) {
    StringBuilder b = new StringBuilder("HTTP ").append(status);
    if (!code.isEmpty()) {
      b.append(' ').append(code);
    }
    if (se instanceof AwsServiceException ae && ae.awsErrorDetails() != null) {
      String m = ae.awsErrorDetails().errorMessage();
      if (m != null && !m.isBlank()) {
        b.append(": ").append(m);
      }
    }
    if (se.requestId() != null) {
      b.append(", request id ").append(se.requestId());
    }
    return b.toString();
  }

  private static IOException ioCause(Throwable t) {
    for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
      if (c instanceof IOException io) {
        return io;
      }
      if (c == c.getCause()) {
        break;
      }
    }
    return null;
  }
}
