package io.binlogarchive.s3;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.NotFoundException;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * The multipart uploads an {@link S3Sink} must not leave behind: those whose abort failed (the
 * store was unreachable), those that were aborted while parts were still on their way, and those
 * a lost CreateMultipartUpload answer may have started (orphans, found by listing the key's
 * uploads once no writer of the sink is writing it). Each is aborted again before the sink's next
 * upload, after each commit and on {@link S3Sink#close()}; what is still left then is named in a
 * warning, for a lifecycle rule to remove. Thread-safe; its methods never throw.
 */
final class S3MultipartCleanup {
  private static final Logger log = LoggerFactory.getLogger(S3Sink.class);
  /** At most this many failed aborts are remembered; beyond it they are left to a lifecycle rule. */
  static final int MAX_UNABORTED = 1000;

  private final S3Client client;
  private final String bucket;
  /** Multipart uploads whose abort failed: {fullKey, uploadId}. */
  private final ConcurrentLinkedQueue<String[]> unaborted = new ConcurrentLinkedQueue<>();
  private final AtomicInteger unabortedCount = new AtomicInteger();
  /** Keys whose CreateMultipartUpload went unanswered: the store may hold an upload we never heard of. */
  private final Set<String> suspectKeys = ConcurrentHashMap.newKeySet();
  /** Keys a writer of this sink is writing now, with how many writers. */
  private final ConcurrentHashMap<String, Integer> activeKeys = new ConcurrentHashMap<>();

  S3MultipartCleanup(S3Client client, String bucket) {
    this.client = client;
    this.bucket = bucket;
  }

  /** A writer of {@code fullKey} starts: its uploads are not orphans. */
  void writerStarted(String fullKey) {
    activeKeys.merge(fullKey, 1, Integer::sum);
  }

  /** A writer of {@code fullKey} has committed or given up. */
  void writerDone(String fullKey) {
    activeKeys.computeIfPresent(fullKey, (k, n) -> n == 1 ? null : n - 1);
  }

  /**
   * A CreateMultipartUpload of {@code fullKey} failed without an answer from the store (a dropped
   * connection, a timeout): the store may have created an upload whose id never reached us.
   */
  void suspectOrphan(String fullKey) {
    suspectKeys.add(fullKey);
  }

  /**
   * For each key whose CreateMultipartUpload went unanswered and that no writer of this sink is
   * writing now, lists the key's multipart uploads and aborts them: none can be a live upload of
   * this sink, and an upload started by a lost request would otherwise stay until a lifecycle rule
   * removes it. (A second archiver writing the same keys at the same moment, which the store lease
   * exists to prevent, would see its upload fail and be retried.) Never throws: a key whose listing
   * or abort fails is tried again later.
   */
  void abortOrphans() {
    for (String key : suspectKeys) {
      if (activeKeys.containsKey(key)) {
        continue;
      }
      try {
        ListMultipartUploadsResponse r = client.listMultipartUploads(b -> b.bucket(bucket).prefix(key));
        for (MultipartUpload u : r.uploads()) {
          if (key.equals(u.key())) {
            abortMultipart(key, u.uploadId());
            log.info("aborted multipart upload {} of s3://{}/{}: the answer to its CreateMultipartUpload was lost",
                u.uploadId(), bucket, key);
          }
        }
        suspectKeys.remove(key);
      } catch (IOException | SdkException | ArchiveException e) {
        return; // the store is unreachable again: the next upload or commit tries again
      }
    }
  }

  /**
   * Sends one {@code AbortMultipartUpload}; an upload that is already gone counts as aborted.
   *
   * @throws IOException (an {@link ArchiveException}) if the store refuses or cannot be reached
   */
  void abortMultipart(String fullKey, String uploadId) throws IOException {
    try {
      client.abortMultipartUpload(r -> r.bucket(bucket).key(fullKey).uploadId(uploadId));
    } catch (SdkException e) {
      ArchiveException t = S3Errors.translate(e, "abort multipart upload", bucket, fullKey);
      if (t instanceof NotFoundException || S3Errors.isNoSuchUpload(e)) {
        return; // already gone
      }
      throw t;
    }
  }

  /** Remembers an upload whose abort failed, to abort it again before the next upload. */
  void abortLater(String fullKey, String uploadId, Exception why) {
    if (!remember(fullKey, uploadId)) {
      log.warn("could not abort multipart upload {} of s3://{}/{}, and {} others wait for an abort already; a lifecycle"
          + " rule for incomplete uploads will remove it: {}", uploadId, bucket, fullKey, MAX_UNABORTED, why.getMessage());
      return;
    }
    log.warn("could not abort multipart upload {} of s3://{}/{}; it is aborted again before the next upload: {}",
        uploadId, bucket, fullKey, why.getMessage());
  }

  /**
   * Remembers an upload that was aborted while some of its parts were still on their way, to abort
   * it again before the next upload: a part that lands after an abort may keep storage alive.
   */
  void abortAgain(String fullKey, String uploadId) {
    if (!remember(fullKey, uploadId)) {
      log.warn("multipart upload {} of s3://{}/{} was aborted with parts still on their way, and {} others wait for an"
          + " abort already; a lifecycle rule for incomplete uploads will remove what is left", uploadId, bucket,
          fullKey, MAX_UNABORTED);
    }
  }

  /** @return false if {@link #MAX_UNABORTED} uploads are remembered already (nothing is added) */
  private boolean remember(String fullKey, String uploadId) {
    if (unabortedCount.incrementAndGet() > MAX_UNABORTED) {
      unabortedCount.decrementAndGet();
      return false;
    }
    unaborted.add(new String[] {fullKey, uploadId});
    return true;
  }

  /**
   * Tries each remembered abort once; keeps those that fail again. Never throws. Called before
   * each upload and after each commit: right after an outage the first call may meet a pooled
   * connection the restarted store has dropped, and the commit that follows proves the store is
   * back, so the last file of a run still retries what is left.
   */
  void abortUnaborted() {
    for (int n = unabortedCount.get(); n > 0; n--) {
      String[] u = unaborted.poll();
      if (u == null) {
        return;
      }
      try {
        abortMultipart(u[0], u[1]);
        unabortedCount.decrementAndGet();
        log.info("aborted multipart upload {} of s3://{}/{}, left behind by an earlier failure", u[1], bucket, u[0]);
      } catch (IOException | RuntimeException e) {
        unaborted.add(u);
        return; // the store is still unreachable: the next upload tries again
      }
    }
  }

  /** Both kinds of clean-up, as before an upload or after a commit. */
  void run() {
    abortUnaborted();
    abortOrphans();
  }

  /** @return how many multipart uploads wait to be aborted again */
  int unabortedUploads() {
    return unabortedCount.get();
  }

  /** Tries once more, then names in a warning each upload that may still be left. */
  void close() {
    run();
    for (String key : suspectKeys) {
      log.warn("s3://{}/{} may hold a multipart upload whose CreateMultipartUpload answer was lost; a lifecycle rule"
          + " for incomplete uploads will remove it", bucket, key);
    }
    for (String[] u : unaborted) {
      log.warn("multipart upload {} of s3://{}/{} could not be aborted; a lifecycle rule for incomplete uploads will"
          + " remove it", u[1], bucket, u[0]);
    }
  }
}
