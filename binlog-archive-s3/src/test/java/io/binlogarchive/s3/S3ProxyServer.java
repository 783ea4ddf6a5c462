package io.binlogarchive.s3;

import io.binlogarchive.RetryPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.blobstore.S3Exceptions;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/**
 * An embedded s3proxy with an in-memory blob store on a free loopback port, as a JUnit 5
 * extension ({@code @RegisterExtension static S3ProxyServer s3 = new S3ProxyServer();}). Requests
 * are signed (SigV4 is checked); unknown headers are ignored as S3 would. Also usable outside JUnit
 * with {@link #start()} and {@link #close()}.
 *
 * <p>s3proxy 4.1.0 checks {@code If-Match} on {@code PutObject} in its request handler, before and
 * apart from the write (with its in-memory store, 27 of 150 four-way races of conditional replaces
 * had several winners). S3 evaluates the condition atomically with the write, so this server
 * wraps the store to check {@code If-Match} again under a per-key lock that every single-request
 * write of the key takes. {@code If-Match} on {@code DeleteObject} is honoured by s3proxy, but
 * checked the same non-atomic way, and the store never sees that condition: a delete racing a
 * replace is not modelled.
 *
 * <p>{@link #onDisk(Path)} gives a server whose objects (and multipart uploads in progress) live in
 * a directory, so that it can be {@link #stop() stopped} abruptly, as in a store outage, and {@link
 * #restart() restarted} on the same port with everything it had stored.
 */
public final class S3ProxyServer implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
  /** The access key id the server accepts. */
  public static final String ACCESS_KEY = "binlog-archive";
  /** The secret key the server accepts. */
  public static final String SECRET_KEY = "binlog-archive-secret";
  private static final AtomicInteger BUCKETS = new AtomicInteger();

  private final boolean authenticate;
  /** Where an on-disk server keeps its objects; null for the in-memory store. */
  private final Path root;
  private BlobStore store;
  private S3Proxy proxy;
  private S3Client admin;
  private URI endpoint;
  private String owner;

  /** A server that checks request signatures (SigV4), as S3 does. */
  public S3ProxyServer() {
    this(true);
  }

  /**
   * @param authenticate whether signatures are checked. Over plain HTTP the SDK signs the payload
   *     hash, so a body corrupted in transit fails the signature (403) before the store looks at
   *     {@code x-amz-checksum-sha256}; a server that does not authenticate shows what S3 does over
   *     HTTPS (unsigned payload, checksum checked: 400 BadDigest).
   */
  public S3ProxyServer(boolean authenticate) {
    this(authenticate, null);
  }

  private S3ProxyServer(boolean authenticate, Path root) {
    this.authenticate = authenticate;
    this.root = root;
  }

  /**
   * A server that checks signatures and keeps its objects in a directory (s3proxy's {@code
   * FilesystemNio2BlobStore}), so that {@link #stop()} and {@link #restart()} keep them. It stops
   * abruptly (no grace period for requests in flight), as a crashed or unreachable store would.
   *
   * @param root the directory objects are kept in; created if missing
   */
  public static S3ProxyServer onDisk(Path root) {
    return new S3ProxyServer(true, root);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    // @Nested classes inherit the extension: only the outermost class starts and stops the server
    if (owner == null) {
      owner = context.getUniqueId();
      start();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (context.getUniqueId().equals(owner)) {
      owner = null;
      close();
    }
  }

  /** Starts the server (blocks until it listens). */
  public void start() throws Exception {
    if (root != null) {
      Files.createDirectories(root);
    }
    listen(URI.create("http://127.0.0.1:0"));
    endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    admin = client(endpoint, Duration.ofSeconds(60));
  }

  private void listen(URI at) throws Exception {
    store = root == null ? new TransientNio2BlobStore() : new FilesystemNio2BlobStore(root.toString());
    S3Proxy.Builder b =
        S3Proxy.builder()
            .blobStore(new AtomicIfMatchBlobStore(store))
            .endpoint(at)
            .awsAuthentication(authenticate ? AuthenticationType.AWS_V2_OR_V4 : AuthenticationType.NONE, ACCESS_KEY, SECRET_KEY)
            .ignoreUnknownHeaders(true);
    if (root != null) {
      b.stopTimeout(0); // an outage: connections in flight are cut, not drained
    }
    proxy = b.build();
    proxy.start();
  }

  /**
   * Stops an {@link #onDisk(Path) on-disk} server's HTTP side at once: requests in flight lose
   * their connection, new ones are refused. What the store holds stays in its directory.
   */
  public void stop() throws Exception {
    requireOnDisk("stop");
    if (proxy != null) {
      proxy.stop();
      proxy = null;
    }
  }

  /**
   * Starts a {@link #stop() stopped} on-disk server again on the same port, with a new store
   * instance that reads everything back from the directory (objects, multipart uploads and their
   * parts). Clients of the old server may hold pooled connections that died with it: their first
   * request can fail once ({@code NoHttpResponseException}), as against a real restarted store.
   */
  public void restart() throws Exception {
    requireOnDisk("restart");
    if (proxy != null) {
      throw new IllegalStateException("the server is running");
    }
    listen(endpoint);
    // a new admin client: the old one's pooled connections died with the server (and it has no
    // retries to get past a stale one)
    admin.close();
    admin = client(endpoint, Duration.ofSeconds(60));
  }

  private void requireOnDisk(String what) {
    if (root == null) {
      throw new IllegalStateException("cannot " + what + " an in-memory server and keep its objects; use onDisk(Path)");
    }
  }

  /**
   * Reads an object from the blob store itself, not over HTTP, so it also works while the server
   * is stopped (for checks made at the moment something happens).
   *
   * @return the object's bytes, or null if the store holds no such object
   */
  public byte[] storedBytes(String bucket, String key) {
    if (store.blobMetadataIfPresent(bucket, key) == null) {
      return null;
    }
    try (ResponseInputStream<GetObjectResponse> in = store.getBlob(bucket, key)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts the server unless it runs (for use outside JUnit); @return its endpoint */
  public URI ensureStarted() throws Exception {
    if (proxy == null) {
      start();
    }
    return endpoint;
  }

  /** @return the server's endpoint, {@code http://127.0.0.1:<port>} */
  public URI endpoint() {
    return endpoint;
  }

  /** @return a client of the server itself, for checks that must not go through a fault proxy */
  public S3Client admin() {
    return admin;
  }

  /** @return a new, empty bucket's name */
  public String newBucket() {
    String name = "test-" + BUCKETS.incrementAndGet() + "-" + Long.toHexString(System.nanoTime());
    admin.createBucket(r -> r.bucket(name));
    return name;
  }

  /** @return a new, empty bucket with a chosen name (unique within one server) */
  public String newBucket(String name) {
    admin.createBucket(r -> r.bucket(name));
    return name;
  }

  /** @return the multipart uploads in progress in the bucket */
  public List<MultipartUpload> uploads(String bucket) {
    return admin.listMultipartUploads(r -> r.bucket(bucket)).uploads();
  }

  /**
   * A client as the library recommends configuring one: path-style addressing for a local
   * endpoint, the SDK's own retries off (the sink's RetryPolicy retries), a per-attempt timeout.
   *
   * @param endpoint the server, or a proxy in front of it
   * @param attemptTimeout how long one HTTP attempt may take
   */
  public static S3Client client(URI endpoint, Duration attemptTimeout) {
    return client(endpoint, attemptTimeout, new ExecutionInterceptor[0]);
  }

  /**
   * The same client, with SDK interceptors that see every request (e.g. to act at the moment a
   * given request is about to be sent).
   */
  public static S3Client client(URI endpoint, Duration attemptTimeout, ExecutionInterceptor... interceptors) {
    S3ClientBuilder b =
        S3Client.builder()
            .endpointOverride(endpoint)
            .region(Region.US_EAST_1)
            .forcePathStyle(true)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
    return b.overrideConfiguration(o -> {
          o.retryStrategy(AwsRetryStrategy.doNotRetry()).apiCallAttemptTimeout(attemptTimeout);
          for (ExecutionInterceptor i : interceptors) {
            o.addExecutionInterceptor(i);
          }
        })
        .build();
  }

  @Override
  public void close() throws Exception {
    if (admin != null) {
      admin.close();
    }
    if (proxy != null) {
      proxy.stop();
    }
  }

  /**
   * Evaluates {@code If-Match} of a single-request upload atomically with the write, as S3 does: a
   * per-key lock around the check and the write; 404 if the object is missing, 412 if its ETag
   * differs. (s3proxy's handler passes the condition on to the store, which ignores it.)
   */
  private static final class AtomicIfMatchBlobStore extends ForwardingBlobStore {
    private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();

    AtomicIfMatchBlobStore(BlobStore delegate) {
      super(delegate);
    }

    @Override
    public PutObjectResponse putBlob(PutObjectRequest request, InputStream content) {
      Object lock = locks.computeIfAbsent(request.bucket() + "/" + request.key(), k -> new Object());
      synchronized (lock) {
        String ifMatch = request.ifMatch();
        if (ifMatch != null && !ifMatch.equals("*")) {
          HeadObjectResponse current = delegate().blobMetadataIfPresent(request.bucket(), request.key());
          if (current == null) {
            throw S3Exceptions.fromStatusCode(404);
          }
          if (!Sha256.unquote(ifMatch).equals(Sha256.unquote(current.eTag()))) {
            throw S3Exceptions.fromStatusCode(412);
          }
        }
        return super.putBlob(request, content);
      }
    }
  }
}
