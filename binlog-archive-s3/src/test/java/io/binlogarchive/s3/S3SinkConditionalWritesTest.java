package io.binlogarchive.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.store.spi.ConditionalCalls;
import io.binlogarchive.store.spi.PreconditionFailedException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.StoreException;
import io.binlogarchive.testing.StoreTests;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.s3.FaultProxy.Fault;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * S3 specifics of conditional writes (the shared behaviour is in the kit's "conditional writes"
 * group, run by {@link S3SinkCompatibilityTest}): ETags as versions, one request per replace,
 * refusals never retried, lost answers, and what s3proxy does with {@code If-Match} on a delete.
 */
@DisplayName("S3Sink conditional writes")
class S3SinkConditionalWritesTest {
  @RegisterExtension static final S3ProxyServer s3 = new S3ProxyServer();

  private FaultProxy proxy;
  private S3Client client;

  @BeforeEach
  void start() throws IOException {
    proxy = new FaultProxy(s3.endpoint(), 50, 5_000);
    client = S3ProxyServer.client(proxy.endpoint(), Duration.ofSeconds(30));
  }

  @AfterEach
  void stop() throws IOException {
    client.close();
    proxy.close();
  }

  S3Sink.Builder sink() {
    return S3Sink.builder().client(client).bucket(s3.newBucket()).prefix("p").retryPolicy(StoreTests.noSleepRetries(5));
  }

  static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static StoredObject put(S3Sink sink, String key, byte[] data) throws IOException {
    try (SinkWriter w = sink.create(key, Map.of("owner", "test"))) {
      w.write(data);
      return w.commit();
    }
  }

  static String read(S3Sink sink, String key) throws IOException {
    try (InputStream in = sink.open(key)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  long putObjects() {
    return proxy.count(FaultProxy.Request::isPutObject);
  }

  @Test
  @DisplayName("reports the ETag without its quotes as the version, alike in commit, stat and list")
  void etagIsTheVersion() throws IOException {
    S3Sink sink = sink().build();
    StoredObject v1 = put(sink, "doc", text("one"));
    String etag = s3.admin().headObject(r -> r.bucket(sink.bucket()).key("p/doc")).eTag();
    assertThat(etag).startsWith("\"");
    assertThat(v1.version()).isEqualTo(Sha256.unquote(etag)).doesNotContain("\"");
    assertThat(sink.stat("doc").orElseThrow().version()).isEqualTo(v1.version());
    assertThat(sink.list("")).singleElement().extracting(StoredObject::version).isEqualTo(v1.version());
  }

  @Test
  @DisplayName("replaces with one PutObject carrying If-Match, and returns the new ETag")
  void replaceIsOnePut() throws IOException {
    S3Sink sink = sink().build();
    StoredObject v1 = put(sink, "doc", text("one"));
    long before = putObjects();
    StoredObject v2 = sink.replace("doc", v1.version(), text("two"));
    assertThat(putObjects() - before).isEqualTo(1);
    assertThat(v2.version()).isNotEqualTo(v1.version()).isEqualTo(sink.stat("doc").orElseThrow().version());
    assertThat(v2.checksums()).containsKey("sha256");
    assertThat(sink.stat("doc").orElseThrow().metadata()).doesNotContainKey(ConditionalCalls.WRITE_ID);
    assertThat(s3.admin().headObject(r -> r.bucket(sink.bucket()).key("p/doc")).metadata())
        .containsKey(ConditionalCalls.WRITE_ID);
    assertThat(sink.replace("doc", "\"" + v2.version() + "\"", text("three")).version())
        .as("a quoted expected version is accepted too").isNotEqualTo(v2.version());
  }

  @Test
  @DisplayName("never retries a refused precondition, even under a policy that retries every error")
  void refusalIsNotRetried() throws IOException {
    RetryPolicy retryAll = RetryPolicy.builder().maxAttempts(10).initialBackoff(Duration.ofMillis(1))
        .maxBackoff(Duration.ofMillis(2)).sleeper(d -> {}).retryOn(t -> true).build();
    S3Sink sink = sink().retryPolicy(retryAll).build();
    StoredObject v1 = put(sink, "doc", text("one"));
    sink.replace("doc", v1.version(), text("two"));
    long puts = putObjects();
    assertThatThrownBy(() -> sink.replace("doc", v1.version(), text("three")))
        .isInstanceOfSatisfying(PreconditionFailedException.class, e -> assertThat(e.isRetryable()).isFalse())
        .hasMessageContaining("s3://" + sink.bucket() + "/p/doc")
        .hasMessageContaining("412");
    assertThat(putObjects() - puts).isEqualTo(1);
    long deletes = proxy.count(r -> r.method().equals("DELETE"));
    assertThatThrownBy(() -> sink.delete("doc", v1.version()))
        .isInstanceOf(PreconditionFailedException.class)
        .hasMessageContaining("s3://" + sink.bucket() + "/p/doc")
        .hasMessageContaining("expected ETag " + v1.version());
    assertThat(proxy.count(r -> r.method().equals("DELETE")) - deletes).as("refused before any DeleteObject").isZero();
    assertThat(read(sink, "doc")).isEqualTo("two");
  }

  @Test
  @DisplayName("succeeds when the answer to a replace is lost and the re-sent PUT is refused, because the write id is its own")
  void lostReplaceAnswer() throws IOException {
    S3Sink sink = sink().build();
    StoredObject v1 = put(sink, "doc", text("one"));
    AtomicBoolean once = new AtomicBoolean();
    proxy.plan(r -> r.isPutObject() && once.compareAndSet(false, true) ? Fault.RESET_AFTER : Fault.NONE);
    long before = putObjects();
    StoredObject v2 = sink.replace("doc", v1.version(), text("two"));
    assertThat(proxy.injected(Fault.RESET_AFTER)).isEqualTo(1);
    assertThat(putObjects() - before).isEqualTo(2);
    assertThat(v2.version()).isNotEqualTo(v1.version()).isEqualTo(sink.stat("doc").orElseThrow().version());
    assertThat(read(sink, "doc")).isEqualTo("two");
  }

  @Test
  @DisplayName("translates 412 and 404 into PreconditionFailedException and 409 ConditionalRequestConflict into a retryable error")
  void conditionalErrors() {
    ArchiveException refused = S3Errors.translateConditional(error(412, "PreconditionFailed"), "replace", "b", "k", "e1");
    assertThat(refused).isInstanceOf(PreconditionFailedException.class).hasMessageContaining("s3://b/k")
        .hasMessageContaining("e1");
    assertThat(S3Errors.translateConditional(error(404, "NoSuchKey"), "delete", "b", "k", "e1"))
        .isInstanceOf(PreconditionFailedException.class).hasMessageContaining("no object exists");
    assertThat(S3Errors.translateConditional(error(409, "ConditionalRequestConflict"), "replace", "b", "k", "e1"))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isTrue())
        .isNotInstanceOf(PreconditionFailedException.class)
        .hasMessageContaining("s3://b/k");
    assertThat(S3Errors.translateConditional(error(404, "NoSuchBucket"), "replace", "b", "k", "e1"))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isFalse())
        .isNotInstanceOf(PreconditionFailedException.class)
        .hasMessageContaining("bucket b does not exist");
  }

  static S3Exception error(int status, String code) {
    return (S3Exception) S3Exception.builder().statusCode(status)
        .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(code).build()).build();
  }

  @Test
  @DisplayName("s3proxy honours If-Match on DeleteObject, and answers one for a missing key with 204 (why delete asks first)")
  void s3proxyConditionalDelete() {
    S3Client admin = s3.admin();
    String bucket = s3.newBucket();
    admin.putObject(r -> r.bucket(bucket).key("k"), software.amazon.awssdk.core.sync.RequestBody.fromString("x"));
    String etag = admin.headObject(r -> r.bucket(bucket).key("k")).eTag();
    assertThatThrownBy(() -> admin.deleteObject(r -> r.bucket(bucket).key("k").ifMatch("\"0123456789abcdef\"")))
        .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(412));
    assertThat(admin.listObjectsV2(r -> r.bucket(bucket)).contents()).hasSize(1);
    admin.deleteObject(r -> r.bucket(bucket).key("k").ifMatch(etag));
    assertThat(admin.listObjectsV2(r -> r.bucket(bucket)).contents()).isEmpty();
    admin.deleteObject(r -> r.bucket(bucket).key("k").ifMatch(etag)); // no error although nothing was there
  }

  @Test
  @DisplayName("counts part size x (parts in flight + 1) per upload for the memory budget")
  void bufferedBytes() {
    S3Sink sink = sink().partSize(S3Sink.MIN_PART_SIZE).maxPartsInFlight(3).build();
    assertThat(sink.bufferedBytesPerUpload()).isEqualTo(4L * S3Sink.MIN_PART_SIZE);
  }

  @Test
  @DisplayName("rejects a blank expected version before sending anything")
  void rejectsBlankVersion() throws IOException {
    S3Sink sink = sink().build();
    put(sink, "doc", text("one"));
    int before = proxy.exchanges().size();
    for (String bad : new String[] {"", "  ", "\"\""}) {
      assertThatThrownBy(() -> sink.replace("doc", bad, text("x"))).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/p/doc");
      assertThatThrownBy(() -> sink.delete("doc", bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(proxy.exchanges()).hasSize(before);
  }
}
