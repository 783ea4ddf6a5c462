package io.binlogarchive.store.spi;

import io.binlogarchive.NotFoundException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * What the object-store sinks ({@code S3Sink}, {@code GcsSink}) share in their conditional writes
 * ({@link Sink#replace(String, String, byte[])}, {@link Sink#delete(String, String)}): a refused
 * precondition is never retried, and a replace tags its object with a random write id so that it
 * can recognise its own write when the answer to a first attempt was lost and the re-sent request
 * was refused because that first attempt had already landed.
 */
public final class ConditionalCalls {
  /**
   * The user-metadata key a replace stores its write id under. Sinks do not report it in {@link
   * StoredObject#metadata()}.
   */
  public static final String WRITE_ID = "binlog-archive-write-id";

  private ConditionalCalls() {}

  /** @return a fresh, random write id for one replace */
  public static String newWriteId() {
    return UUID.randomUUID().toString();
  }

  /**
   * Runs one conditional store call under {@code policy}; a {@link PreconditionFailedException}
   * ends it at once, whatever the policy's retry predicate says, since re-sending a refused
   * conditional write cannot help.
   *
   * @param <T> the call's result type
   * @param policy how other failures are retried
   * @param what the call, for logs and errors, e.g. {@code "replace gs://b/k"}
   * @param call the call; it throws the library's translated errors
   * @return the call's result
   * @throws PreconditionFailedException at the first refusal
   * @throws IOException the last failure, when the policy gives up
   */
  public static <T> T retryUnlessRefused(RetryPolicy policy, String what, RetryPolicy.IoCall<T> call)
      throws IOException {
    PreconditionFailedException[] refused = new PreconditionFailedException[1];
    T result =
        policy.call(
            what,
            () -> {
              try {
                return call.call();
              } catch (PreconditionFailedException p) {
                refused[0] = p;
                return null;
              }
            });
    if (refused[0] != null) {
      throw refused[0];
    }
    return result;
  }

  /**
   * Decides a refused replace: looks the object up, and if it carries {@code writeId} the refusal
   * answered a re-send of this very replace, whose first attempt landed.
   *
   * @param <T> the backend's description of the object, as {@code lookup} returns it (e.g. S3's {@code
   *     HeadObjectResponse}, a GCS {@code Blob})
   * @param refused the refusal
   * @param writeId the id the replace stored under {@link #WRITE_ID}
   * @param lookup reads the object's current state; {@code null} or {@link NotFoundException} when
   *     there is none
   * @param metadata the user metadata of what {@code lookup} returned (may be {@code null})
   * @return what {@code lookup} returned, when it is this replace's own write
   * @throws PreconditionFailedException {@code refused}, when the object is missing or another
   *     writer's (a failed lookup is attached to it as suppressed)
   */
  public static <T> T ownWriteOrRefuse(
      PreconditionFailedException refused,
      String writeId,
      RetryPolicy.IoCall<T> lookup,
      Function<T, Map<String, String>> metadata) {
    T now;
    try {
      now = lookup.call();
    } catch (NotFoundException e) {
      throw refused;
    } catch (IOException | RuntimeException e) {
      refused.addSuppressed(e);
      throw refused;
    }
    Map<String, String> m = now == null ? null : metadata.apply(now);
    if (m == null || !writeId.equals(m.get(WRITE_ID))) {
      throw refused;
    }
    return now;
  }
}
