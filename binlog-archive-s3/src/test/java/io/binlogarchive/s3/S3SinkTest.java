package io.binlogarchive.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.s3.FaultProxy.Exchange;
import io.binlogarchive.s3.FaultProxy.Request;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.StorageClass;

@DisplayName("S3Sink")
class S3SinkTest {
  @RegisterExtension static final S3ProxyServer s3 = new S3ProxyServer();

  private static final int PART = S3Sink.MIN_PART_SIZE;

  private FaultProxy proxy;
  private S3Client client;
  private ExecutorService parts;
  private String bucket;

  @BeforeEach
  void setUp(TestInfo info) throws IOException {
    proxy = new FaultProxy(s3.endpoint(), 1, 1);
    client = S3ProxyServer.client(proxy.endpoint(), Duration.ofSeconds(60));
    parts = Executors.newFixedThreadPool(4);
    bucket = s3.newBucket();
  }

  @AfterEach
  void tearDown() throws IOException {
    client.close();
    parts.shutdownNow();
    proxy.close();
  }

  private S3Sink.Builder sinkBuilder() {
    return S3Sink.builder()
        .client(client)
        .bucket(bucket)
        .prefix("archive/")
        .executor(parts)
        .partSize(PART)
        .retryPolicy(RetryPolicy.none());
  }

  private static StoredObject put(S3Sink sink, String key, byte[] data) throws IOException {
    try (SinkWriter w = sink.create(key, Map.of())) {
      w.write(data);
      return w.commit();
    }
  }

  private List<Exchange> requests(Predicate<Request> which) {
    return proxy.exchanges().stream().filter(e -> which.test(e.request())).toList();
  }

  private boolean exists(String fullKey) {
    try {
      s3.admin().headObject(r -> r.bucket(bucket).key(fullKey));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    }
  }

  @Nested
  @DisplayName("proves what it committed")
  class Proof {
    @Test
    @DisplayName("a single PUT carries the SHA-256 header and If-None-Match, and reports the whole-object sha256")
    void singlePut() throws IOException {
      S3Sink sink = sinkBuilder().build();
      byte[] data = S3SinkFaultTest.payload(12_345, 1);
      StoredObject o;
      try (SinkWriter w = sink.create("a/b", Map.of("codec", "zstd"))) {
        w.write(data);
        o = w.commit();
      }
      String hex = S3SinkFaultTest.sha256(data);
      assertThat(o.checksums()).containsExactlyEntriesOf(Map.of("sha256", hex));
      assertThat(o.metadata()).containsExactlyEntriesOf(Map.of("codec", "zstd"));
      assertThat(sink.stat("a/b")).get().satisfies(st -> {
        assertThat(st.checksums()).containsEntry("sha256", hex);
        assertThat(st.metadata()).containsExactlyEntriesOf(Map.of("codec", "zstd"));
      });

      Map<String, String> h = requests(Request::isPutObject).get(0).headers();
      assertThat(h)
          .containsEntry("if-none-match", "*")
          .containsEntry("x-amz-checksum-sha256", Base64.getEncoder().encodeToString(Sha256.of(data, 0, data.length)))
          .containsEntry("x-amz-meta-sha256", hex)
          .doesNotContainKey("x-amz-trailer");
    }

    @Test
    @DisplayName("a multipart upload carries each part's SHA-256 and reports the composite checksum the store computed")
    void multipart() throws IOException {
      S3Sink sink = sinkBuilder().build();
      byte[] data = S3SinkFaultTest.payload(2 * PART + 99, 2);
      StoredObject o = put(sink, "m", data);

      List<byte[]> digests = List.of(
          Sha256.of(data, 0, PART), Sha256.of(data, PART, PART), Sha256.of(data, 2 * PART, 99));
      assertThat(o.size()).isEqualTo(data.length);
      assertThat(o.checksums()).containsExactlyEntriesOf(Map.of("sha256-composite", Sha256.composite(digests)));
      assertThat(requests(Request::isUploadPart))
          .extracting(e -> e.headers().get("x-amz-checksum-sha256"))
          .containsExactlyInAnyOrderElementsOf(digests.stream().map(Sha256::base64).toList());
      assertThat(requests(Request::isCompleteMultipart)).singleElement()
          .satisfies(e -> assertThat(e.headers()).containsEntry("if-none-match", "*"));
    }

    @Test
    @DisplayName("an object exactly one part long still goes as one PUT; a lower threshold sends it as one part")
    void threshold() throws IOException {
      put(sinkBuilder().build(), "exact", new byte[PART]);
      assertThat(requests(Request::isPutObject)).hasSize(1);
      assertThat(requests(Request::isCreateMultipart)).isEmpty();

      put(sinkBuilder().singlePutThreshold(1000).build(), "over", new byte[1001]);
      assertThat(requests(Request::isPutObject)).hasSize(1);
      assertThat(requests(Request::isUploadPart)).hasSize(1);
      assertThat(s3.admin().headObject(r -> r.bucket(bucket).key("archive/over")).contentLength()).isEqualTo(1001);
    }
  }

  @Nested
  @DisplayName("encryption and storage class")
  class Encryption {
    @Test
    @DisplayName("SSE-KMS with a key id and an encryption context is requested on PutObject and CreateMultipartUpload")
    void sseKms() throws IOException {
      S3Sink sink = sinkBuilder()
          .sseKms("arn:aws:kms:eu-west-1:111122223333:key/test", Map.of("app", "binlog-archive"))
          .storageClass(StorageClass.STANDARD_IA)
          .requireEncryption(true)
          .build();
      put(sink, "small", new byte[10]);
      put(sink, "large", new byte[PART + 1]);
      String context = Base64.getEncoder().encodeToString("{\"app\":\"binlog-archive\"}".getBytes(StandardCharsets.UTF_8));
      for (Exchange e : requests(r -> r.isPutObject() || r.isCreateMultipart())) {
        assertThat(e.headers())
            .as(e.request().toString())
            .containsEntry("x-amz-server-side-encryption", "aws:kms")
            .containsEntry("x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:eu-west-1:111122223333:key/test")
            .containsEntry("x-amz-server-side-encryption-context", context)
            .containsEntry("x-amz-storage-class", "STANDARD_IA");
      }
      assertThat(requests(r -> r.isPutObject() || r.isCreateMultipart())).hasSize(2);
    }

    @Test
    @DisplayName("SSE-S3 is requested as AES256")
    void sseS3() throws IOException {
      put(sinkBuilder().sseS3().build(), "small", new byte[10]);
      assertThat(requests(Request::isPutObject).get(0).headers()).containsEntry("x-amz-server-side-encryption", "AES256");
    }
  }

  @Nested
  @DisplayName("never leaves an upload behind")
  class Cleanup {
    @Test
    @DisplayName("when the caller fails after parts were uploaded")
    void callerFailsMidUpload() {
      S3Sink sink = sinkBuilder().build();
      assertThatThrownBy(
              () -> {
                try (SinkWriter w = sink.create("x", Map.of())) {
                  w.write(new byte[3 * PART]);
                  throw new IllegalStateException("compressor failed");
                }
              })
          .hasMessage("compressor failed");
      // queued parts are cancelled before their first attempt once the writer is aborting
      assertThat(requests(Request::isCreateMultipart)).hasSize(1);
      assertThat(requests(Request::isAbortMultipart)).hasSize(1);
      assertThat(s3.uploads(bucket)).isEmpty();
      assertThat(exists("archive/x")).isFalse();
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a guard only: before the fix the abort waited forever
    @DisplayName("when a part in flight never ends: the abort waits only abortWait, aborts, and aborts again before"
        + " the next upload")
    void abortDoesNotWaitForeverForAPart() throws Exception {
      LinkedBlockingQueue<Runnable> held = new LinkedBlockingQueue<>(); // an executor that runs nothing until told
      S3Sink sink = sinkBuilder().executor(held::add).abortWait(Duration.ofMillis(1)).build();
      SinkWriter w = sink.create("hung", Map.of());
      w.write(new byte[PART + 1]); // one full part is handed over, and stays in flight
      assertThat(held).hasSize(1);

      w.abort();

      assertThat(held).as("the part is still in flight when the abort returns").hasSize(1);
      assertThat(requests(Request::isAbortMultipart)).hasSize(1);
      assertThat(s3.uploads(bucket)).isEmpty();
      assertThat(sink.unabortedUploads()).as("remembered, to abort again in case the part lands").isEqualTo(1);

      held.take().run(); // the part finally runs: the writer gave up, so it sends nothing
      assertThat(requests(Request::isUploadPart)).isEmpty();
      put(sink, "next", new byte[10]);
      assertThat(requests(Request::isAbortMultipart)).hasSize(2);
      assertThat(sink.unabortedUploads()).isZero();
      assertThat(exists("archive/hung")).isFalse();
    }
  }

  @Test
  @DisplayName("blocks a writer while maxPartsInFlight parts are uploading")
  void backPressure() throws Exception {
    LinkedBlockingQueue<Runnable> queued = new LinkedBlockingQueue<>();
    S3Sink sink = sinkBuilder().executor(queued::add).maxPartsInFlight(2).build();
    byte[] data = S3SinkFaultTest.payload(5 * PART + 7, 3);
    FutureTask<StoredObject> writer = new FutureTask<>(() -> put(sink, "bp", data));
    Thread t = new Thread(writer, "writer");
    t.start();

    // the writer parks on the in-flight limit (WAITING) once two parts are handed over
    while (!(t.getState() == Thread.State.WAITING && queued.size() == 2) && !writer.isDone()) {
      Thread.onSpinWait();
    }
    assertThat(writer.isDone()).isFalse();
    assertThat(queued).hasSize(2);

    queued.take().run(); // one part finishes: the writer may hand over exactly one more
    while (!(t.getState() == Thread.State.WAITING && queued.size() == 2) && !writer.isDone()) {
      Thread.onSpinWait();
    }
    assertThat(queued).hasSize(2);

    Thread helper = new Thread(() -> {
      while (!writer.isDone()) {
        Runnable r = queued.poll();
        if (r != null) {
          r.run();
        } else {
          Thread.onSpinWait();
        }
      }
    });
    helper.start();
    assertThat(writer.get(2, TimeUnit.MINUTES).size()).isEqualTo(data.length);
    helper.join();
    assertThat(requests(Request::isUploadPart)).hasSize(6);
  }

  @Test
  @DisplayName("reads from an offset at the end of an object as an empty stream")
  void readAtEnd() throws IOException {
    S3Sink sink = sinkBuilder().build();
    put(sink, "e", new byte[10]);
    try (InputStream in = sink.open("e", 10)) {
      assertThat(in.readAllBytes()).isEmpty();
    }
  }

  @Nested
  @DisplayName("is configured by a builder that")
  class Building {
    @Test
    @DisplayName("reports every missing or conflicting setting in one error")
    void reportsAll() {
      assertThatThrownBy(() -> S3Sink.builder().sseS3().sseKms("k").build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("client is required")
          .hasMessageContaining("bucket is required")
          .hasMessageContaining("both SSE-S3 and SSE-KMS");
      assertThatThrownBy(() -> S3Sink.builder().client(client).bucket("b").requireEncryption(true).build())
          .hasMessageContaining("requireEncryption is set but neither SSE-S3 nor SSE-KMS is configured");
      assertThatThrownBy(() -> S3Sink.builder().client(client).bucket("b").partSize(PART).singlePutThreshold(PART + 1).build())
          .hasMessageContaining("exceeds partSize");
    }

    @Test
    @DisplayName("rejects bad values at once")
    void rejectsAtOnce() {
      assertThatThrownBy(() -> S3Sink.builder().partSize(PART - 1)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> S3Sink.builder().maxPartsInFlight(0)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> S3Sink.builder().listPageSize(1001)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> S3Sink.builder().bucket("a/b")).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> S3Sink.builder().sseKms(" ")).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> S3Sink.builder().abortWait(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("normalises the prefix and describes the sink without credentials")
    void describes() {
      S3Sink sink = S3Sink.builder().client(client).bucket("b").prefix("/prod/binlogs").build();
      assertThat(sink.prefix()).isEqualTo("prod/binlogs/");
      assertThat(sink.describe()).isEqualTo("s3://b/prod/binlogs/");
    }

    @Test
    @DisplayName("leads to writers that refuse metadata S3 cannot carry")
    void metadata() {
      S3Sink sink = S3Sink.builder().client(client).bucket("b").build();
      assertThatThrownBy(() -> sink.create("k", Map.of("Codec", "zstd"))).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> sink.create("k", Map.of("sha256", "x"))).hasMessageContaining("reserved");
      assertThatThrownBy(() -> sink.create("k", Map.of("codec", "zstd\u00e9"))).hasMessageContaining("printable ASCII");
      assertThatThrownBy(() -> sink.create("/k", Map.of())).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
