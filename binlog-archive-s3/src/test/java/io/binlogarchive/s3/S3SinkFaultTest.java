package io.binlogarchive.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.StoreException;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.testing.StoreTests;
import io.binlogarchive.s3.FaultProxy.Fault;
import io.binlogarchive.s3.FaultProxy.Plan;
import io.binlogarchive.s3.FaultProxy.Request;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

@DisplayName("S3Sink under injected store faults")
class S3SinkFaultTest {
  // unauthenticated, so a body corrupted in transit meets the store's checksum check (see S3ProxyServer)
  @RegisterExtension static final S3ProxyServer s3 = new S3ProxyServer(false);

  private static final int PART = S3Sink.MIN_PART_SIZE;
  private static final int ATTEMPTS = 8;
  private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(2);

  private FaultProxy proxy;
  private S3Client client;
  private ExecutorService parts;
  private String bucket;
  private S3Sink sink;

  @BeforeEach
  void setUp(org.junit.jupiter.api.TestInfo info) throws IOException {
    proxy = new FaultProxy(s3.endpoint(), 50, (int) ATTEMPT_TIMEOUT.toMillis() + 1000);
    client = S3ProxyServer.client(proxy.endpoint(), ATTEMPT_TIMEOUT);
    parts = Executors.newFixedThreadPool(4);
    bucket = s3.newBucket("faults-" + info.getTestMethod().orElseThrow().getName().toLowerCase());
    sink = sink(bucket);
  }

  private S3Sink sink(String bucket) {
    return S3Sink.builder()
        .client(client)
        .bucket(bucket)
        .prefix("p")
        .executor(parts)
        .partSize(PART)
        .maxPartsInFlight(3)
        .listPageSize(3)
        .retryPolicy(fastRetries())
        .build();
  }

  /** Backoff is computed but never slept. */
  static RetryPolicy fastRetries() {
    return StoreTests.noSleepRetries(ATTEMPTS);
  }

  @AfterEach
  void tearDown() throws IOException {
    client.close();
    parts.shutdownNow();
    proxy.close();
  }

  static byte[] payload(int size, long seed) {
    return StoreTests.payload(size, seed);
  }

  static String sha256(byte[] b) {
    return StoreTests.sha256(b);
  }

  private StoredObject put(String key, byte[] data) throws IOException {
    try (SinkWriter w = sink.create(key, Map.of())) {
      for (int off = 0; off < data.length; off += 1_000_000) {
        w.write(data, off, Math.min(1_000_000, data.length - off));
      }
      return w.commit();
    }
  }

  /** Reads through the store directly, not through the proxy. */
  private byte[] stored(String key) {
    return s3.admin().getObject(r -> r.bucket(bucket).key("p/" + key), ResponseTransformer.toBytes()).asByteArray();
  }

  private boolean exists(String key) {
    try {
      s3.admin().headObject(r -> r.bucket(bucket).key("p/" + key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    }
  }

  @Test
  @DisplayName("completes multi-part uploads with no loss while 503s, 500s, resets and slow responses are injected, and leaves no upload behind")
  void survivesTransientFaults() throws Exception {
    Plan transientFaults =
        Plan.seeded(20261122L, 0.25, r -> !r.isCreateMultipart(),
            Fault.SLOW_DOWN, Fault.INTERNAL_ERROR, Fault.RESET_BEFORE, Fault.RESET_AFTER, Fault.DELAY);
    // RESET_AFTER on a CreateMultipartUpload starts an upload whose id never reaches the sink:
    // the sink finds it by listing the key's uploads and aborts it.
    Plan createFaults =
        Plan.seeded(7L, 0.25, Request::isCreateMultipart, Fault.SLOW_DOWN, Fault.RESET_BEFORE, Fault.RESET_AFTER);
    proxy.plan(
        r -> {
          if (r.isUploadPart() && r.target().contains("/big-1?") && r.target().contains("partNumber=3&") && r.attempt() == 1) {
            return Fault.STALL; // one response slower than the client's attempt timeout
          }
          Fault f = createFaults.choose(r);
          return f != Fault.NONE ? f : transientFaults.choose(r);
        });

    List<String> keys = new ArrayList<>();
    List<byte[]> datas = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      keys.add("big-" + i);
      datas.add(payload(2 * PART + 1 + i * 123_457, i));
    }
    for (int i = 0; i < 8; i++) {
      keys.add("small-" + i);
      datas.add(payload(10_000 + i, 100 + i));
    }
    ExecutorService writers = Executors.newFixedThreadPool(2);
    try {
      List<Future<StoredObject>> results = new ArrayList<>();
      for (int i = 0; i < keys.size(); i++) {
        String key = keys.get(i);
        byte[] data = datas.get(i);
        results.add(writers.submit(() -> put(key, data)));
      }
      for (int i = 0; i < keys.size(); i++) {
        assertThat(results.get(i).get(5, TimeUnit.MINUTES).size()).isEqualTo(datas.get(i).length);
      }
    } finally {
      writers.shutdownNow();
    }

    for (int i = 0; i < keys.size(); i++) {
      assertThat(sha256(stored(keys.get(i)))).as(keys.get(i)).isEqualTo(sha256(datas.get(i)));
      try (InputStream in = sink.open(keys.get(i), 0)) {
        assertThat(sha256(in.readAllBytes())).as("read through faults: " + keys.get(i)).isEqualTo(sha256(datas.get(i)));
      }
    }
    assertThat(sink.list("")).extracting(StoredObject::key).containsExactlyInAnyOrderElementsOf(keys);
    assertThat(s3.uploads(bucket)).isEmpty();
    System.out.println("requests " + proxy.exchanges().size() + ", faults injected: "
        + java.util.Arrays.stream(Fault.values()).map(f -> f + "=" + proxy.injected(f)).toList());
    for (Fault f : List.of(Fault.SLOW_DOWN, Fault.INTERNAL_ERROR, Fault.RESET_BEFORE, Fault.RESET_AFTER, Fault.DELAY, Fault.STALL)) {
      assertThat(proxy.injected(f)).as("injected " + f).isPositive();
    }
  }

  @Test
  @DisplayName("recognises its own commit when the CompleteMultipartUpload response was lost")
  void lostCompleteResponse() throws IOException {
    proxy.plan(r -> r.isCompleteMultipart() && r.attempt() == 1 ? Fault.RESET_AFTER : Fault.NONE);
    byte[] data = payload(2 * PART + 17, 1);
    StoredObject o = put("obj", data);
    assertThat(o.size()).isEqualTo(data.length);
    assertThat(sha256(stored("obj"))).isEqualTo(sha256(data));
    assertThat(proxy.count(Request::isCompleteMultipart)).isEqualTo(2);
    assertThat(s3.uploads(bucket)).isEmpty();
  }

  @Test
  @DisplayName("recognises its own commit when the PutObject response was lost")
  void lostPutResponse() throws IOException {
    proxy.plan(r -> r.isPutObject() && r.attempt() == 1 ? Fault.RESET_AFTER : Fault.NONE);
    byte[] data = payload(1000, 2);
    StoredObject o = put("obj", data);
    assertThat(o.checksums()).containsEntry("sha256", sha256(data));
    assertThat(stored("obj")).isEqualTo(data);
    assertThat(proxy.count(Request::isPutObject)).isEqualTo(2);
  }

  @Test
  @DisplayName("aborts after a non-retryable fault mid-upload: no object, no upload, the failed call not retried")
  void fatalMidUpload() {
    proxy.plan(r -> r.isUploadPart() && r.target().contains("partNumber=3&") ? Fault.ACCESS_DENIED : Fault.NONE);
    Throwable t = catchThrowable(() -> put("obj", payload(4 * PART, 3)));
    assertThat(t).isNotNull();
    StoreException cause = rootStoreException(t);
    assertThat(cause.isRetryable()).isFalse();
    assertThat(cause).hasMessageContaining("access denied").hasMessageContaining(bucket).hasMessageContaining("p/obj");
    assertThat(proxy.count(r -> r.isUploadPart() && r.target().contains("partNumber=3&"))).isEqualTo(1);
    assertThat(proxy.count(Request::isAbortMultipart)).isPositive();
    assertThat(proxy.count(Request::isCompleteMultipart)).isZero();
    assertThat(exists("obj")).isFalse();
    assertThat(s3.uploads(bucket)).isEmpty();
  }

  @Test
  @DisplayName("aborts an upload again before its next upload when the first abort could not reach the store")
  void failedAbortIsRetried() throws IOException {
    java.util.concurrent.atomic.AtomicBoolean storeDown = new java.util.concurrent.atomic.AtomicBoolean();
    proxy.plan(r -> r.isAbortMultipart() && storeDown.get() ? Fault.RESET_BEFORE : Fault.NONE);
    byte[] data = payload(2 * PART, 5);
    try (SinkWriter w = sink.create("left", Map.of())) {
      w.write(data, 0, data.length); // the first part goes out, so the multipart upload exists
      storeDown.set(true);
      w.abort();
    }
    assertThat(proxy.count(Request::isAbortMultipart)).as("abort attempts").isEqualTo(ATTEMPTS);
    assertThat(s3.uploads(bucket)).extracting(u -> u.key()).containsExactly("p/left");
    assertThat(sink.unabortedUploads()).isEqualTo(1);

    storeDown.set(false);
    put("next", payload(10, 6));

    assertThat(s3.uploads(bucket)).isEmpty();
    assertThat(sink.unabortedUploads()).isZero();
    assertThat(exists("left")).isFalse();
    assertThat(stored("next")).isEqualTo(payload(10, 6));
  }

  @Test
  @DisplayName("an upload started by a CreateMultipartUpload whose answer was lost is found and aborted once the object is committed")
  void lostCreateAnswerIsAborted() throws IOException {
    proxy.plan(r -> r.isCreateMultipart() && r.attempt() == 1 ? Fault.RESET_AFTER : Fault.NONE);
    byte[] data = payload(2 * PART + 10, 7);
    put("obj", data);
    assertThat(proxy.count(Request::isCreateMultipart)).as("the lost create and the one that answered").isEqualTo(2);
    assertThat(s3.uploads(bucket)).as("uploads left in the store").isEmpty();
    assertThat(stored("obj")).isEqualTo(data);
  }

  @Test
  @DisplayName("a remembered abort that fails again before the next upload is retried after that upload's commit")
  void failedAbortIsRetriedAfterCommit() throws IOException {
    java.util.concurrent.atomic.AtomicInteger abortsToFail = new java.util.concurrent.atomic.AtomicInteger(ATTEMPTS);
    proxy.plan(r -> r.isAbortMultipart() && abortsToFail.getAndDecrement() > 0 ? Fault.RESET_BEFORE : Fault.NONE);
    byte[] data = payload(2 * PART, 5);
    try (SinkWriter w = sink.create("left", Map.of())) {
      w.write(data, 0, data.length);
      w.abort(); // every attempt of the policy fails
    }
    assertThat(sink.unabortedUploads()).isEqualTo(1);
    abortsToFail.set(1); // the store is back, but the first request after it fails (a dropped pooled connection)

    put("next", payload(10, 6));

    assertThat(proxy.count(Request::isAbortMultipart)).as("abort attempts").isEqualTo(ATTEMPTS + 2);
    assertThat(s3.uploads(bucket)).isEmpty();
    assertThat(sink.unabortedUploads()).isZero();
    assertThat(stored("next")).isEqualTo(payload(10, 6));
  }

  @Test
  @DisplayName("gives up on a persistent 503 after the policy's attempts, each one a real request")
  void persistentThrottling() {
    proxy.plan(r -> r.isPutObject() ? Fault.SLOW_DOWN : Fault.NONE);
    assertThatThrownBy(() -> put("obj", payload(100, 4)))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isTrue())
        .hasMessageContaining("SlowDown")
        .satisfies(e -> assertThat(e.getSuppressed()).hasSize(ATTEMPTS - 1));
    assertThat(proxy.count(Request::isPutObject)).isEqualTo(ATTEMPTS);
    assertThat(exists("obj")).isFalse();
  }

  @Test
  @DisplayName("fails at once on a part the store rejects as corrupt (BadDigest), and aborts")
  void corruptPart() {
    proxy.plan(r -> r.isUploadPart() && r.target().contains("partNumber=2&") ? Fault.CORRUPT : Fault.NONE);
    Throwable t = catchThrowable(() -> put("obj", payload(3 * PART, 5)));
    assertThat(rootCause(t, IntegrityException.class)).hasMessageContaining("p/obj").hasMessageContaining("checksum");
    assertThat(proxy.count(r -> r.isUploadPart() && r.target().contains("partNumber=2&"))).isEqualTo(1);
    assertThat(exists("obj")).isFalse();
    assertThat(s3.uploads(bucket)).isEmpty();
  }

  @Test
  @DisplayName("fails at once on a single PUT the store rejects as corrupt")
  void corruptPut() {
    proxy.plan(r -> r.isPutObject() ? Fault.CORRUPT : Fault.NONE);
    assertThatThrownBy(() -> put("obj", payload(5000, 6)))
        .isInstanceOf(IntegrityException.class)
        .hasMessageContaining(bucket + "/p/obj");
    assertThat(proxy.count(Request::isPutObject)).isEqualTo(1);
    assertThat(exists("obj")).isFalse();
  }

  @Test
  @DisplayName("reports a missing bucket as a non-retryable error naming the bucket, without retrying")
  void missingBucket() {
    S3Sink missing = sink("no-such-bucket");
    assertThatThrownBy(() -> missing.list(""))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isFalse())
        .hasMessageContaining("bucket no-such-bucket does not exist");
    assertThatThrownBy(
            () -> {
              try (SinkWriter w = missing.create("obj", Map.of())) {
                w.write(new byte[10]);
                w.commit();
              }
            })
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isFalse())
        .hasMessageContaining("bucket no-such-bucket does not exist");
    Throwable multipart =
        catchThrowable(
            () -> {
              try (SinkWriter w = missing.create("obj", Map.of())) {
                w.write(new byte[3 * PART]);
                w.commit();
              }
            });
    assertThat(multipart).isInstanceOf(IOException.class);
    assertThat(rootStoreException(multipart)).hasMessageContaining("bucket no-such-bucket does not exist");
    assertThat(proxy.exchanges()).hasSize(3); // list, put, create: one request each
  }

  static StoreException rootStoreException(Throwable t) {
    return rootCause(t, StoreException.class);
  }

  static <T extends Throwable> T rootCause(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in the causes of " + t, t);
  }
}
