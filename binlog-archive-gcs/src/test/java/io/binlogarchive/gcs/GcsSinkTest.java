package io.binlogarchive.gcs;

import static io.binlogarchive.testing.StoreTests.payload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.cloud.WriteChannel;
import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageClass;
import com.google.cloud.storage.StorageException;
import io.binlogarchive.store.spi.ConditionalCalls;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.store.spi.PreconditionFailedException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.StoreException;
import io.binlogarchive.testing.StoreTests;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

@DisplayName("GcsSink")
class GcsSinkTest {
  private static final int CHUNK = GcsSink.MIN_CHUNK_SIZE;
  private static final String BUCKET = "archive-bucket";

  private GcsJsonApiTestServer server;
  private final List<Storage> clients = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = GcsJsonApiTestServer.start();
    server.createBucket(BUCKET);
  }

  @AfterEach
  void stop() throws Exception {
    for (Storage s : clients) {
      s.close();
    }
    server.close();
  }

  Storage client(int attempts) {
    Storage s = GcsTestClients.storage(server.endpoint(), attempts);
    clients.add(s);
    return s;
  }

  GcsSink.Builder sinkOn(Storage storage) {
    return GcsSink.builder()
        .storage(storage)
        .bucket(BUCKET)
        .prefix("p")
        .chunkSize(CHUNK)
        .retryPolicy(StoreTests.noSleepRetries(30));
  }

  static StoredObject put(GcsSink sink, String key, byte[] data) throws IOException {
    try (SinkWriter w = sink.create(key, Map.of("source", "test"))) {
      for (int off = 0; off < data.length; off += 65_536) {
        w.write(data, off, Math.min(65_536, data.length - off));
      }
      return w.commit();
    }
  }

  /** What the archive pipeline does: restart the whole upload from its source on a retryable failure. */
  static void putWithRestarts(GcsSink sink, String key, byte[] data, RetryPolicy policy) throws IOException {
    policy.call(
        "upload " + key,
        () -> {
          try {
            return put(sink, key, data);
          } catch (ObjectExistsException e) {
            // an earlier attempt may have landed although its answer was lost: same bytes is success
            StoredObject there = sink.stat(key).orElseThrow(() -> e);
            if (there.checksums().get("crc32c").equals(crc32cHex(data))) {
              return there;
            }
            throw e;
          }
        });
  }

  static byte[] read(GcsSink sink, String key) throws IOException {
    try (InputStream in = sink.open(key)) {
      return in.readAllBytes();
    }
  }

  static String crc32cHex(byte[] data) {
    CRC32C c = new CRC32C();
    c.update(data);
    return String.format("%08x", c.getValue());
  }

  @Nested
  @DisplayName("google-cloud-storage 2.75.0's WriteChannel (the behaviour the sink relies on)")
  class ClientBehaviour {
    @Test
    @DisplayName("sends full chunks as non-final requests and creates no object while not closed")
    void abandonedChannelLeavesNoObject() throws IOException {
      Storage storage = client(1);
      WriteChannel ch = storage.writer(BlobInfo.newBuilder(BUCKET, "raw/abandoned").build(), Storage.BlobWriteOption.doesNotExist());
      ch.setChunkSize(CHUNK);
      ch.write(ByteBuffer.wrap(payload(3 * CHUNK + 10, 1)));
      // abandoned: never closed
      assertThat(server.chunkPuts()).isEqualTo(3);
      assertThat(server.finalisingPuts()).isZero();
      assertThat(server.unfinishedSessionSizes(BUCKET)).containsExactly(3L * CHUNK);
      assertThat(storage.get(BlobId.of(BUCKET, "raw/abandoned"))).isNull();
    }

    @Test
    @DisplayName("finalises the object when closed, whatever was written so far")
    void closeFinalises() throws IOException {
      Storage storage = client(1);
      WriteChannel ch = storage.writer(BlobInfo.newBuilder(BUCKET, "raw/closed").build());
      ch.setChunkSize(CHUNK);
      ch.write(ByteBuffer.wrap(payload(CHUNK + 5, 2)));
      ch.close();
      Blob blob = storage.get(BlobId.of(BUCKET, "raw/closed"));
      assertThat(blob.getSize()).isEqualTo(CHUNK + 5);
    }

    @Test
    @DisplayName("sends the cumulative CRC32C with the final request, and GCS refuses a corrupted upload")
    void finalRequestCarriesCrc32c() throws IOException {
      Storage storage = client(1);
      server.corruptNextUpload(false);
      WriteChannel ch = storage.writer(BlobInfo.newBuilder(BUCKET, "raw/corrupt").build());
      ch.write(ByteBuffer.wrap(payload(1000, 3)));
      assertThatThrownBy(ch::close)
          .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.getCode()).isEqualTo(400))
          .hasMessageContaining("x-goog-hash: crc32c=");
      assertThat(server.objectNames(BUCKET)).isEmpty();
    }

    @Test
    @DisplayName("uploads small objects with a multipart request (test server check)")
    void multipartCreate() {
      Storage storage = client(1);
      byte[] data = payload(777, 4);
      storage.create(BlobInfo.newBuilder(BUCKET, "raw/multipart").build(), data, Storage.BlobTargetOption.doesNotExist());
      assertThat(storage.readAllBytes(BlobId.of(BUCKET, "raw/multipart"))).isEqualTo(data);
      assertThatThrownBy(() -> storage.create(BlobInfo.newBuilder(BUCKET, "raw/multipart").build(), data, Storage.BlobTargetOption.doesNotExist()))
          .isInstanceOf(StorageException.class)
          .satisfies(e -> assertThat(((StorageException) e).getCode()).isEqualTo(412));
    }

    @Test
    @DisplayName("replaces and deletes under generation preconditions as Google documents them (test server check)")
    void generationPreconditions() {
      Storage storage = client(1);
      BlobInfo info = BlobInfo.newBuilder(BUCKET, "raw/cas").build();
      long g1 = storage.create(info, new byte[] {1}, Storage.BlobTargetOption.doesNotExist()).getGeneration();
      assertThat(code(() -> storage.create(info, new byte[] {2}, Storage.BlobTargetOption.generationMatch(g1 + 1))))
          .as("insert at another generation").isEqualTo(412);
      assertThat(code(() -> storage.create(BlobInfo.newBuilder(BUCKET, "raw/none").build(), new byte[] {2},
          Storage.BlobTargetOption.generationMatch(g1)))).as("insert over a missing object at a generation").isEqualTo(412);
      assertThat(code(() -> storage.create(info, new byte[] {2}, Storage.BlobTargetOption.generationNotMatch(g1))))
          .as("ifGenerationNotMatch the live generation").isEqualTo(412);
      long g2 = storage.create(info, new byte[] {2}, Storage.BlobTargetOption.generationMatch(g1)).getGeneration();
      assertThat(g2).isGreaterThan(g1);
      assertThat(storage.delete(BlobId.of(BUCKET, "raw/cas", g1), Storage.BlobSourceOption.generationMatch()))
          .as("a generation that is no longer live does not exist: 404, which the client answers with false").isFalse();
      assertThat(code(() -> storage.delete(BlobId.of(BUCKET, "raw/cas"), Storage.BlobSourceOption.generationMatch(g1))))
          .as("delete of the live object at another generation").isEqualTo(412);
      assertThat(storage.readAllBytes(BlobId.of(BUCKET, "raw/cas"))).containsExactly(2);
      assertThat(storage.delete(BlobId.of(BUCKET, "raw/cas", g2), Storage.BlobSourceOption.generationMatch())).isTrue();
      assertThat(server.objectNames(BUCKET)).isEmpty();
    }

    int code(Runnable call) {
      try {
        call.run();
      } catch (StorageException e) {
        return e.getCode();
      }
      throw new AssertionError("the call succeeded");
    }
  }

  @Nested
  @DisplayName("conditional writes")
  class Conditional {
    byte[] text(String s) {
      return s.getBytes(StandardCharsets.UTF_8);
    }

    int singleRequestUploads() {
      return server.uploads("media") + server.uploads("multipart");
    }

    @Test
    @DisplayName("report the generation as the version, and replace in one upload request with ifGenerationMatch")
    void generationIsTheVersion() throws IOException {
      Storage storage = client(1);
      GcsSink sink = sinkOn(storage).build();
      StoredObject v1 = put(sink, "lease.json", text("one"));
      assertThat(v1.version()).isEqualTo(Long.toString(storage.get(BlobId.of(BUCKET, "p/lease.json")).getGeneration()));
      int single = singleRequestUploads();
      int resumable = server.uploads("resumable");
      StoredObject v2 = sink.replace("lease.json", v1.version(), text("two"));
      assertThat(singleRequestUploads() - single).isEqualTo(1);
      assertThat(server.uploads("resumable")).isEqualTo(resumable);
      Blob blob = storage.get(BlobId.of(BUCKET, "p/lease.json"));
      assertThat(v2.version()).isEqualTo(Long.toString(blob.getGeneration()));
      assertThat(blob.getMetadata()).containsKey(ConditionalCalls.WRITE_ID);
      assertThat(v2.metadata()).doesNotContainKey(ConditionalCalls.WRITE_ID);
      assertThat(sink.stat("lease.json").orElseThrow().metadata()).doesNotContainKey(ConditionalCalls.WRITE_ID);
      assertThat(sink.list("")).singleElement().extracting(StoredObject::version).isEqualTo(v2.version());
    }

    @Test
    @DisplayName("never retry a refused precondition, even under a policy that retries every error")
    void refusalIsNotRetried() throws IOException {
      RetryPolicy retryAll = RetryPolicy.builder().maxAttempts(10).initialBackoff(Duration.ofMillis(1))
          .maxBackoff(Duration.ofMillis(2)).sleeper(d -> {}).retryOn(t -> true).build();
      GcsSink sink = sinkOn(client(3)).retryPolicy(retryAll).build();
      StoredObject v1 = put(sink, "doc", text("one"));
      sink.replace("doc", v1.version(), text("two"));
      int single = singleRequestUploads();
      assertThatThrownBy(() -> sink.replace("doc", v1.version(), text("three")))
          .isInstanceOfSatisfying(PreconditionFailedException.class, e -> assertThat(e.isRetryable()).isFalse())
          .hasMessageContaining("gs://archive-bucket/p/doc")
          .hasMessageContaining("412");
      assertThat(singleRequestUploads() - single).isEqualTo(1);
      int before = server.requests();
      assertThatThrownBy(() -> sink.delete("doc", v1.version()))
          .isInstanceOf(PreconditionFailedException.class)
          .hasMessageContaining("gs://archive-bucket/p/doc")
          .hasMessageContaining("generation " + v1.version());
      assertThat(server.requests() - before).isEqualTo(1);
      assertThat(new String(read(sink, "doc"), StandardCharsets.UTF_8)).isEqualTo("two");
    }

    @Test
    @DisplayName("succeed when the answer to a replace is lost and the re-sent request is refused, because the write id is its own")
    void lostReplaceAnswer() throws IOException {
      GcsSink sink = sinkOn(client(1)).build();
      StoredObject v1 = put(sink, "doc", text("one"));
      server.loseFinalizeResponses(1);
      StoredObject v2 = sink.replace("doc", v1.version(), text("two"));
      assertThat(server.droppedConnections()).isEqualTo(1);
      assertThat(v2.version()).isNotEqualTo(v1.version()).isEqualTo(sink.stat("doc").orElseThrow().version());
      assertThat(new String(read(sink, "doc"), StandardCharsets.UTF_8)).isEqualTo("two");
    }

    @Test
    @DisplayName("replace with the sink's customer-supplied key, CMEK key and storage class")
    void replaceKeepsEncryptionSettings() throws IOException {
      Storage storage = client(1);
      GcsSink csek = sinkOn(storage).customerSuppliedKey(payload(32, 21)).build();
      StoredObject c1 = put(csek, "csek", text("one"));
      csek.replace("csek", c1.version(), text("two"));
      assertThat(read(csek, "csek")).isEqualTo(text("two"));
      try (InputStream in = sinkOn(storage).build().open("csek")) {
        assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class).hasMessageContaining("400");
      }
      String kms = "projects/p/locations/us/keyRings/r/cryptoKeys/k";
      GcsSink cmek = sinkOn(storage).kmsKeyName(kms).storageClass(StorageClass.NEARLINE).build();
      StoredObject k1 = put(cmek, "cmek", text("one"));
      cmek.replace("cmek", k1.version(), text("two"));
      Blob blob = storage.get(BlobId.of(BUCKET, "p/cmek"));
      assertThat(blob.getKmsKeyName()).startsWith(kms + "/cryptoKeyVersions/");
      assertThat(blob.getStorageClass()).isEqualTo(StorageClass.NEARLINE);
    }

    @Test
    @DisplayName("reject a version that is not a generation before sending anything")
    void rejectsForeignVersions() throws IOException {
      GcsSink sink = sinkOn(client(1)).build();
      put(sink, "doc", text("one"));
      int before = server.requests();
      for (String bad : new String[] {"abc", "0", "-3", "\"ETAG\""}) {
        assertThatThrownBy(() -> sink.replace("doc", bad, text("x"))).as(bad)
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gs://archive-bucket/p/doc");
        assertThatThrownBy(() -> sink.delete("doc", bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
      }
      assertThat(server.requests()).isEqualTo(before);
    }

    @Test
    @DisplayName("count one upload chunk per upload in progress for the memory budget")
    void bufferedBytes() {
      assertThat(sinkOn(client(1)).chunkSize(4 * CHUNK).build().bufferedBytesPerUpload()).isEqualTo(4L * CHUNK);
    }
  }

  @Nested
  @DisplayName("a writer")
  class Writer {
    @Test
    @DisplayName("that is aborted after several chunks were sent leaves its session unfinished and no object")
    void abortAfterChunks() throws IOException {
      GcsSink sink = sinkOn(client(1)).build();
      try (SinkWriter w = sink.create("a/b", Map.of())) {
        w.write(payload(5 * CHUNK + 1, 5));
        w.abort();
        assertThatThrownBy(() -> w.write(1)).isInstanceOf(IOException.class);
      }
      assertThat(server.chunkPuts()).isEqualTo(5);
      assertThat(server.finalisingPuts()).isZero();
      assertThat(server.unfinishedSessionSizes(BUCKET)).containsExactly(5L * CHUNK);
      assertThat(server.objectNames(BUCKET)).isEmpty();
    }

    @Test
    @DisplayName("commits an object whose CRC32C and MD5 match what was written, with its metadata")
    void commitProves() throws Exception {
      GcsSink sink = sinkOn(client(1)).build();
      byte[] data = payload(3 * CHUNK + 17, 6);
      StoredObject o = put(sink, "x/y", data);
      assertThat(o.key()).isEqualTo("x/y");
      assertThat(o.size()).isEqualTo(data.length);
      assertThat(o.checksums())
          .containsEntry("crc32c", crc32cHex(data))
          .containsEntry("md5", HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data)));
      assertThat(o.metadata()).containsEntry("source", "test");
      assertThat(o.lastModified()).isNotNull();
      assertThat(server.objectNames(BUCKET)).containsExactly("p/x/y");
    }

    @Test
    @DisplayName("fails with IntegrityException and leaves no object when GCS rejects the checksum")
    void serverRejectsCorruption() throws IOException {
      GcsSink sink = sinkOn(client(1)).build();
      server.corruptNextUpload(false);
      assertThatThrownBy(() -> put(sink, "c/1", payload(2 * CHUNK + 3, 7)))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("gs://archive-bucket/p/c/1")
          .hasMessageContaining("Provided CRC32C");
      assertThat(server.objectNames(BUCKET)).isEmpty();
    }

    @Test
    @DisplayName("fails with IntegrityException and deletes the object when the store holds other bytes")
    void proofCatchesSilentCorruption() throws IOException {
      GcsSink sink = sinkOn(client(1)).build();
      server.corruptNextUpload(true);
      assertThatThrownBy(() -> put(sink, "c/2", payload(2 * CHUNK + 3, 8)))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("does not hold what was written");
      assertThat(server.objectNames(BUCKET)).isEmpty();
    }

    @Test
    @DisplayName("succeeds when the answer to its final request is lost but the object landed")
    void lostFinaliseAnswer() throws IOException {
      GcsSink sink = sinkOn(client(1)).build();
      byte[] data = payload(CHUNK + 9, 9);
      server.loseFinalizeResponses(1);
      StoredObject o = put(sink, "lost/answer", data);
      assertThat(o.size()).isEqualTo(data.length);
      assertThat(server.droppedConnections()).isEqualTo(1);
      assertThat(read(sink, "lost/answer")).isEqualTo(data);
    }

    @Test
    @DisplayName("sets the CMEK key and storage class on the object")
    void cmekAndStorageClass() throws IOException {
      Storage storage = client(1);
      String kms = "projects/p/locations/us/keyRings/r/cryptoKeys/k";
      GcsSink sink = sinkOn(storage).kmsKeyName(kms).storageClass(StorageClass.NEARLINE).build();
      put(sink, "k/1", payload(100, 10));
      Blob blob = storage.get(BlobId.of(BUCKET, "p/k/1"));
      assertThat(blob.getKmsKeyName()).startsWith(kms + "/cryptoKeyVersions/");
      assertThat(blob.getStorageClass()).isEqualTo(StorageClass.NEARLINE);
    }

    @Test
    @DisplayName("encrypts with a customer-supplied key that reads need, and never shows the key")
    void customerSuppliedKey() throws IOException {
      Storage storage = client(1);
      byte[] key = payload(32, 11);
      GcsSink sink = sinkOn(storage).customerSuppliedKey(key).build();
      byte[] data = payload(CHUNK + 1, 12);
      put(sink, "csek/1", data);
      assertThat(read(sink, "csek/1")).isEqualTo(data);
      try (InputStream in = sinkOn(storage).build().open("csek/1")) {
        assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class).hasMessageContaining("400");
      }
      String b64 = java.util.Base64.getEncoder().encodeToString(key);
      assertThat(sink.toString()).doesNotContain(b64).contains("customer-supplied key");
      server.corruptNextUpload(false);
      assertThatThrownBy(() -> put(sink, "csek/2", data))
          .isInstanceOf(IntegrityException.class)
          .satisfies(e -> assertThat(e.toString() + e.getCause()).doesNotContain(b64));
    }
  }

  @Nested
  @DisplayName("under injected faults")
  class Faults {
    @Test
    @DisplayName("the client resumes uploads whose connection dropped mid-chunk, losing nothing")
    void clientResumesDroppedChunks() throws IOException {
      GcsSink sink = sinkOn(client(5)).build();
      byte[] data = payload(8 * CHUNK + 123, 13);
      server.dropChunkPuts(3);
      put(sink, "drop/1", data);
      assertThat(server.droppedConnections()).isEqualTo(3);
      assertThat(server.statusQueries()).isGreaterThanOrEqualTo(3);
      assertThat(read(sink, "drop/1")).isEqualTo(data);
    }

    @Test
    @DisplayName("with client retries off, a dropped chunk fails the upload retryably, leaves no object, and a restart succeeds")
    void restartAfterDroppedChunk() throws IOException {
      GcsSink sink = sinkOn(client(1)).build();
      byte[] data = payload(4 * CHUNK + 5, 14);
      server.dropChunkPuts(1);
      IOException failure = null;
      try {
        put(sink, "drop/2", data);
      } catch (IOException e) {
        failure = e;
      }
      assertThat(failure).isNotNull();
      assertThat(RetryPolicy.isRetryableByDefault(failure)).isTrue();
      assertThat(sink.stat("drop/2")).isEmpty();
      putWithRestarts(sink, "drop/2", data, StoreTests.noSleepRetries(5));
      assertThat(read(sink, "drop/2")).isEqualTo(data);
    }

    @Test
    @DisplayName("a seeded share of 503s and dropped chunks: every artifact completes byte for byte, aborted ones leave nothing")
    void manyFaults() throws IOException {
      for (int clientAttempts : new int[] {1, 4}) {
        GcsSink sink = sinkOn(client(clientAttempts)).prefix("faults-" + clientAttempts).build();
        server.failShare(0.07, 42 + clientAttempts);
        server.dropChunkPuts(4);
        RetryPolicy restarts = StoreTests.noSleepRetries(40);
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
          byte[] data = payload(3 * CHUNK + 1000 * i, 100 + i);
          sent.add(data);
          putWithRestarts(sink, "a/" + i, data, restarts);
          try (SinkWriter w = sink.create("aborted/" + i, Map.of())) {
            w.write(data);
            w.abort();
          } catch (IOException | StoreException e) {
            // a fault while writing an upload that is abandoned anyway
          }
        }
        assertThat(server.injected503()).isPositive();
        server.failShare(0, 0);
        for (int i = 0; i < sent.size(); i++) {
          assertThat(read(sink, "a/" + i)).as("artifact %d", i).isEqualTo(sent.get(i));
        }
        assertThat(sink.list("")).extracting(StoredObject::key).allMatch(k -> k.startsWith("a/")).hasSize(12);
      }
      assertThat(server.droppedConnections()).isPositive();
    }
  }

  @Nested
  @DisplayName("fatal errors")
  class Fatal {
    @Test
    @DisplayName("a missing bucket fails at once with a non-retryable error naming it")
    void missingBucket() {
      GcsSink sink = sinkOn(client(3)).bucket("no-such-bucket").build();
      int before = server.requests();
      assertThatThrownBy(() -> sink.create("k", Map.of()))
          .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isFalse())
          .hasMessageContaining("no-such-bucket")
          .hasMessageContaining("does not exist");
      assertThat(server.requests() - before).isEqualTo(1);
      assertThatThrownBy(() -> sink.list("x/"))
          .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isFalse())
          .hasMessageContaining("no-such-bucket");
    }

    @Test
    @DisplayName("403 fails at once with a non-retryable error naming bucket and object")
    void accessDenied() {
      GcsSink sink = sinkOn(client(3)).build();
      server.denyAll(true);
      int before = server.requests();
      assertThatThrownBy(() -> sink.create("k/1", Map.of()))
          .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isFalse())
          .hasMessageContaining("gs://archive-bucket/p/k/1")
          .hasMessageContaining("access denied")
          .hasMessageContaining("storage.objects.create");
      assertThatThrownBy(() -> sink.stat("k/1"))
          .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isFalse());
      assertThat(server.requests() - before).isEqualTo(2);
    }

    @Test
    @DisplayName("5xx errors are retryable and retried by the policy")
    void transientIsRetried() throws IOException {
      GcsSink sink = sinkOn(client(1)).retryPolicy(StoreTests.noSleepRetries(200)).build();
      put(sink, "t/1", payload(10, 1));
      server.failShare(0.5, 7);
      for (int i = 0; i < 20; i++) {
        assertThat(sink.stat("t/1")).isPresent();
      }
      assertThat(server.injected503()).isPositive();
    }
  }

  @Nested
  @DisplayName("the builder")
  class Building {
    @Test
    @DisplayName("names every missing or conflicting setting in one error")
    void reportsAll() {
      assertThatThrownBy(
              () -> GcsSink.builder().kmsKeyName("projects/p/locations/l/keyRings/r/cryptoKeys/k").customerSuppliedKey(new byte[32]).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("storage")
          .hasMessageContaining("bucket is required")
          .hasMessageContaining("cannot both be set");
    }

    @Test
    @DisplayName("rejects bad values at once")
    void rejectsBadValues() {
      GcsSink.Builder b = GcsSink.builder();
      assertThatThrownBy(() -> b.chunkSize(1000)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.chunkSize(GcsSink.MAX_CHUNK_SIZE + GcsSink.CHUNK_UNIT)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.bucket("gs://x")).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.pageSize(0)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.kmsKeyName("my-key")).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.customerSuppliedKey(new byte[16])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("describes the sink as a gs:// URL")
    void describes() {
      assertThat(sinkOn(client(1)).prefix("/a/b").build().describe()).isEqualTo("gs://archive-bucket/a/b/");
      assertThat(sinkOn(client(1)).prefix("").build().describe()).isEqualTo("gs://archive-bucket/");
    }
  }

  @Test
  @DisplayName("reads from an offset inside a later chunk of the read channel")
  void rangedReadAcrossChunks() throws IOException {
    GcsSink sink = sinkOn(client(1)).build();
    byte[] data = payload(3 * CHUNK + 77, 15);
    put(sink, "r/1", data);
    try (InputStream in = sink.open("r/1", 2L * CHUNK + 5)) {
      assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(data, 2 * CHUNK + 5, data.length));
    }
    try (InputStream in = Channels.newInputStream(client(1).reader(BlobId.of(BUCKET, "p/r/1")))) {
      assertThat(in.readAllBytes()).isEqualTo(data);
    }
  }
}
