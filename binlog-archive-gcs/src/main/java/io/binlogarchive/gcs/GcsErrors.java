package io.binlogarchive.gcs;

import io.binlogarchive.RetryPolicy;
import com.google.api.client.http.HttpResponseException;
import com.google.cloud.BaseServiceException;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.store.spi.PreconditionFailedException;
import io.binlogarchive.StoreException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one place where google-cloud-storage errors become the library's error taxonomy. */
final class GcsErrors {
  private static final Pattern JSON_MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

  private GcsErrors() {}

  /** What the sink was doing; decides what a 404 means. */
  enum Op {
    CREATE("start an upload of"),
    WRITE("upload"),
    COMMIT("finalise"),
    STAT("stat"),
    READ("read"),
    LIST("list"),
    DELETE("delete"),
    REPLACE("replace"),
    CONDITIONAL_DELETE("delete");

    final String verb;

    Op(String verb) {
      this.verb = verb;
    }
  }

  /**
   * @param op what was being done
   * @param bucket the bucket
   * @param object the full object name, or for {@link Op#LIST} the prefix
   * @param error what the client threw
   * @return the error to throw: {@link ObjectExistsException}, {@link NotFoundException}, {@link
   *     IntegrityException}, {@link PreconditionFailedException} (a conditional write refused) or
   *     {@link StoreException} (retryable or not); an {@link ArchiveException} passes through
   *     unchanged
   */
  static ArchiveException translate(Op op, String bucket, String object, Throwable error) {
    if (error instanceof ArchiveException ae) {
      return ae;
    }
    String target = "gs://" + bucket + "/" + object;
    String what = "cannot " + op.verb + " " + target;
    BaseServiceException se = serviceException(error);
    if (se == null) {
      if (error instanceof InterruptedIOException) {
        return new StoreException(what + ": interrupted", false, error);
      }
      if (error instanceof IOException) {
        return new StoreException(what + ": connection failed: " + error, true, error);
      }
      return new StoreException(what + ": " + error, false, error);
    }
    int code = se.getCode();
    String serverSays = serverMessage(se);
    String detail = " (HTTP " + code + ": " + serverSays + ")";
    switch (code) {
      case 412:
        if (op == Op.REPLACE || op == Op.CONDITIONAL_DELETE) {
          return new PreconditionFailedException(
              what + ": the object is missing or no longer at the expected generation (ifGenerationMatch failed)"
                  + detail);
        }
        if (op == Op.CREATE || op == Op.COMMIT || op == Op.WRITE) {
          return new ObjectExistsException(
              object, what + ": an object already exists under that name (ifGenerationMatch=0 failed)");
        }
        return new StoreException(what + ": precondition failed" + detail, false, error);
      case 404:
        if (op == Op.CONDITIONAL_DELETE) {
          return generationGone(bucket, object, detail);
        }
        if (op == Op.STAT || op == Op.READ) {
          return new NotFoundException(what + ": no such object" + detail, error);
        }
        return new StoreException(
            what + ": bucket '" + bucket + "' does not exist or is not visible to these credentials" + detail,
            false,
            error);
      case 401:
      case 403:
        return new StoreException(
            what + ": access denied on bucket '" + bucket + "'" + detail
                + "; the credentials need storage.objects." + permission(op) + " on it",
            false,
            error);
      case 400:
        if (looksLikeChecksumRejection(serverSays)) {
          return new IntegrityException(
              what + ": the store rejected the upload because its checksum did not match" + detail, error);
        }
        return new StoreException(what + ": request rejected" + detail, false, error);
      case 408:
      case 429:
        return new StoreException(what + ": throttled or timed out" + detail, true, error);
      default:
        if (code >= 500 || code <= 0) {
          // 5xx, or 0 when the client lost the connection (its own cause is an IOException)
          return new StoreException(what + ": transient failure" + detail, true, error);
        }
        return new StoreException(what + detail, false, error);
    }
  }

  /**
   * A conditional delete found no object at the expected generation: the client answers a 404 with
   * {@code false} instead of an error.
   *
   * @param bucket the bucket
   * @param object the full object name
   * @param generation the expected generation
   * @return the error to throw
   */
  static PreconditionFailedException generationNotFound(String bucket, String object, long generation) {
    return generationGone(bucket, object, " (generation " + generation + " not found)");
  }

  private static PreconditionFailedException generationGone(String bucket, String object, String detail) {
    return new PreconditionFailedException("cannot " + Op.CONDITIONAL_DELETE.verb + " gs://" + bucket + "/" + object
        + ": the object is missing or no longer at the expected generation" + detail);
  }

  /**
   * @return the same error wrapped in an {@link IOException} for stream paths, keeping the
   *     translated error as cause (so {@code RetryPolicy.isRetryableByDefault} follows its flag)
   */
  static IOException asIoException(ArchiveException e) {
    return new IOException(e.getMessage(), e);
  }

  private static BaseServiceException serviceException(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof BaseServiceException se) {
        return se;
      }
    }
    return null;
  }

  /**
   * The store's own error message: the JSON body of the HTTP response when the client kept it
   * (resumable upload requests), else the first line of the client's message (which, for upload
   * requests, goes on with an allow-listed dump of headers that names checksums but no keys).
   */
  private static String serverMessage(BaseServiceException se) {
    for (Throwable c = se; c != null; c = c.getCause()) {
      if (c instanceof HttpResponseException hre && hre.getContent() != null) {
        Matcher m = JSON_MESSAGE.matcher(hre.getContent());
        if (m.find()) {
          return m.group(1);
        }
      }
    }
    String msg = String.valueOf(se.getMessage());
    int nl = msg.indexOf('\n');
    return nl < 0 ? msg : msg.substring(0, nl);
  }

  private static boolean looksLikeChecksumRejection(String message) {
    String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
    return m.contains("crc32c") || m.contains("md5") || m.contains("checksum");
  }

  private static String permission(Op op) {
    return switch (op) {
      case CREATE, WRITE, COMMIT -> "create";
      case STAT, READ -> "get";
      case LIST -> "list";
      case DELETE, CONDITIONAL_DELETE -> "delete";
      case REPLACE -> "create and storage.objects.delete";
    };
  }
}
