package io.binlogarchive.examples;

import com.google.auth.Credentials;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.cloud.NoCredentials;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.gcs.GcpKmsKeyProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.function.Function;

/** Key providers from command-line settings. */
final class Keys {
  /** A short-lived OAuth access token (e.g. {@code gcloud auth print-access-token}) for Cloud KMS. */
  static final String ACCESS_TOKEN_ENV = "GOOGLE_OAUTH_ACCESS_TOKEN";

  private Keys() {}

  /**
   * The key provider the KEY options ask for: a key file (with {@code --key-id}) or a Cloud KMS key
   * ({@code --gcp-kms-key}, with {@code --gcp-kms-endpoint}); null for none. {@code --kms-key-id}
   * (AWS KMS) is checked here against the others and built by {@link S3Sinks#kms}.
   *
   * @param fileOption how the command names the key file in messages: {@code --encrypt-key-file}
   *     (archive) or {@code --key-file} (read side)
   */
  static KeyProvider fromOptions(CliOptions.Key k, String fileOption, boolean allowInsecureEndpoint,
      Function<String, String> env) {
    if (k.awsKmsKeyId != null && (k.filePath() != null || k.fileKeyId() != null || k.gcpName() != null)) {
      throw new UsageException("--kms-key-id excludes " + fileOption + ", --key-id and --gcp-kms-key");
    }
    if (k.filePath() != null && k.gcpName() != null) {
      throw new UsageException(fileOption + " and --gcp-kms-key exclude each other");
    }
    if (k.fileKeyId() != null && k.filePath() == null) {
      throw new UsageException("--key-id goes with " + fileOption);
    }
    if (k.gcpEndpoint() != null && k.gcpName() == null) {
      throw new UsageException("--gcp-kms-endpoint goes with --gcp-kms-key");
    }
    if (k.filePath() != null) {
      return fromFile(k.filePath(), k.fileKeyId());
    }
    if (k.gcpName() != null) {
      return gcpKms(k.gcpName(), k.gcpEndpoint(), allowInsecureEndpoint, env);
    }
    return null;
  }

  /**
   * A static key from a file (32 raw bytes or their base64 text). The key id defaults to the file
   * name without its extension, so rotating to a new file gives a new id.
   */
  static KeyProvider fromFile(String file, String keyId) {
    Path p = Path.of(file);
    String id = keyId;
    if (id == null) {
      String name = p.getFileName().toString();
      int dot = name.lastIndexOf('.');
      id = dot > 0 ? name.substring(0, dot) : name;
    }
    return StaticKeyProvider.builder().keyFile(id, p).primary(id).build();
  }

  /**
   * Client-side envelope encryption under a Cloud KMS CryptoKey. Credentials: the access token in
   * {@value #ACCESS_TOKEN_ENV} if set; otherwise none for a plain {@code http://} endpoint (an
   * emulator or test server); otherwise Google Application Default Credentials. A plain {@code
   * http://} endpoint that is not a loopback address needs {@code allowInsecure}.
   */
  static KeyProvider gcpKms(String keyName, String endpoint, boolean allowInsecure, Function<String, String> env) {
    GcpKmsKeyProvider.Builder b = GcpKmsKeyProvider.builder().allowInsecureEndpoint(allowInsecure);
    URI ep = null;
    try {
      b.keyName(keyName);
      if (endpoint != null) {
        ep = URI.create(endpoint);
        b.endpoint(ep);
      }
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    return b.credentials(GcpCredentials.of(ep, env)).build();
  }

  /**
   * Google credentials, in a class of their own: the verifier loads the Google classes a method
   * returns as {@code Credentials}, and {@code Keys} is loaded by every {@code archive}, also for
   * {@code file://} targets that need nothing of the Google SDK.
   */
  private static final class GcpCredentials {
    private GcpCredentials() {}

    static Credentials of(URI endpoint, Function<String, String> env) {
      String token = env.apply(ACCESS_TOKEN_ENV);
      if (token != null && !token.isBlank()) {
        return GoogleCredentials.create(new AccessToken(token.strip(), null));
      }
      if (endpoint != null && "http".equals(endpoint.getScheme())) {
        return NoCredentials.getInstance();
      }
      try {
        return GoogleCredentials.getApplicationDefault();
      } catch (IOException e) {
        throw new IllegalStateException("--gcp-kms-key needs Google credentials: Application Default Credentials"
            + " (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or the metadata server) or "
            + ACCESS_TOKEN_ENV + ": " + Main.oneLine(e), e);
      }
    }
  }
}
