package io.binlogarchive.gcs;

import io.binlogarchive.RetryPolicy;
import static io.binlogarchive.testing.StoreTests.decode;
import static io.binlogarchive.testing.StoreTests.encode;
import static io.binlogarchive.testing.StoreTests.payload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.cloud.NoCredentials;
import io.binlogarchive.internal.CryptoAccess;
import io.binlogarchive.crypto.DataKey;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.StoreException;
import io.binlogarchive.testing.StoreTests;
import io.binlogarchive.codec.Transform;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * {@link GcpKmsKeyProvider} over HTTP against {@link GcpKmsTestServer}, a local test double of the
 * Cloud KMS {@code encrypt} and {@code decrypt} REST methods. No Cloud KMS can run on a build
 * machine, so these tests show that the provider speaks the documented protocol and handles its
 * answers and failures; they do not prove behaviour against Google's service.
 */
@DisplayName("GcpKmsKeyProvider against the Cloud KMS test server")
class GcpKmsKeyProviderTest {
  static final String KEY = "projects/p/locations/europe-west1/keyRings/backups/cryptoKeys/binlogs";
  static final String OTHER_KEY = "projects/p/locations/europe-west1/keyRings/backups/cryptoKeys/binlogs-2026";
  static final String MISSING_KEY = "projects/p/locations/europe-west1/keyRings/backups/cryptoKeys/nope";
  static GcpKmsTestServer kms;

  @BeforeAll
  static void start() throws IOException {
    kms = GcpKmsTestServer.start();
    kms.createKey(KEY);
    kms.createKey(OTHER_KEY);
  }

  @AfterAll
  static void stop() {
    kms.close();
  }

  static GcpKmsKeyProvider.Builder provider(String key) {
    return GcpKmsKeyProvider.builder()
        .keyName(key)
        .credentials(GcpKmsTestServer.credentials())
        .endpoint(kms.endpoint())
        .retryPolicy(StoreTests.noSleepRetries(4));
  }

  @Nested
  @DisplayName("envelope encryption")
  class Envelope {
    @Test
    @DisplayName("an artifact encrypted under a KMS-wrapped data key decrypts to the same bytes")
    void roundTrip() throws IOException {
      GcpKmsKeyProvider keys = provider(KEY).build();
      byte[] plaintext = payload(300_000, 1);
      int encryptsBefore = kms.encrypts();
      int decryptsBefore = kms.decrypts();

      byte[] artifact = encode(Transform.aesGcm(keys).segmentSize(4096), plaintext);

      assertThat(decode(Transform.aesGcm(keys), artifact)).isEqualTo(plaintext);
      assertThat(kms.encrypts() - encryptsBefore).as("one Encrypt per artifact").isEqualTo(1);
      assertThat(kms.decrypts() - decryptsBefore).as("one Decrypt per read").isEqualTo(1);
    }

    @Test
    @DisplayName("the key id of a data key is the CryptoKey's resource name, and the wrapped form is KMS ciphertext")
    void keyIdIsResourceName() {
      GcpKmsKeyProvider keys = provider(KEY).build();
      try (DataKey k = keys.newDataKey()) {
        assertThat(k.keyId()).isEqualTo(KEY);
        assertThat(keys.primaryKeyId()).isEqualTo(KEY);
        assertThat(k.wrappedKey()).hasSizeGreaterThan(DataKey.LENGTH);
      }
      assertThat(Transform.aesGcm(keys).describe()).containsEntry("key_id", KEY);
    }

    @Test
    @DisplayName("every data key is fresh: two keys never share a plaintext")
    void freshKeys() {
      GcpKmsKeyProvider keys = provider(KEY).build();
      int before = kms.plaintexts().size();
      keys.newDataKey().close();
      keys.newDataKey().close();
      List<byte[]> seen = kms.plaintexts();
      assertThat(seen).hasSize(before + 2);
      assertThat(seen.get(before)).hasSize(DataKey.LENGTH).isNotEqualTo(seen.get(before + 1));
    }

    @Test
    @DisplayName("artifacts written before a KMS key-version rotation still decrypt, new ones use the new version")
    void rotation() throws IOException {
      String key = "projects/p/locations/global/keyRings/r/cryptoKeys/rotating";
      kms.createKey(key);
      GcpKmsKeyProvider keys = provider(key).build();
      byte[] plaintext = payload(10_000, 2);
      byte[] before = encode(Transform.aesGcm(keys), plaintext);

      kms.rotate(key);
      byte[] after = encode(Transform.aesGcm(keys), plaintext);

      assertThat(decode(Transform.aesGcm(keys), before)).isEqualTo(plaintext);
      assertThat(decode(Transform.aesGcm(keys), after)).isEqualTo(plaintext);
    }

    @Test
    @DisplayName("after moving to a new CryptoKey, artifacts under the old one decrypt when it is listed with unwrapKeyName")
    void movedPrimary() throws IOException {
      byte[] plaintext = payload(5_000, 3);
      byte[] old = encode(Transform.aesGcm(provider(KEY).build()), plaintext);

      GcpKmsKeyProvider moved = provider(OTHER_KEY).unwrapKeyName(KEY).build();

      assertThat(moved.keyNames()).containsExactly(OTHER_KEY, KEY);
      assertThat(decode(Transform.aesGcm(moved), old)).isEqualTo(plaintext);
      try (DataKey k = moved.newDataKey()) {
        assertThat(k.keyId()).isEqualTo(OTHER_KEY);
      }
    }

    @Test
    @DisplayName("wrap() re-encrypts existing key bytes: a static-key artifact rewrapped under KMS decrypts with KMS alone")
    void rewrapFromStaticKey() throws IOException {
      StaticKeyProvider local = StaticKeyProvider.builder().key("local", payload(32, 4)).build();
      byte[] plaintext = payload(20_000, 5);
      byte[] artifact = encode(Transform.aesGcm(local), plaintext);
      GcpKmsKeyProvider keys = provider(KEY).build();
      ByteArrayOutputStream rewrapped = new ByteArrayOutputStream();

      String keyId = CryptoAccess.rewrap(new ByteArrayInputStream(artifact), rewrapped, local, keys, null, null, null);

      assertThat(keyId).isEqualTo(KEY);
      assertThat(decode(Transform.aesGcm(keys), rewrapped.toByteArray())).isEqualTo(plaintext);
    }
  }

  @Nested
  @DisplayName("refusals")
  class Refusals {
    @Test
    @DisplayName("a key id the provider was not given is NotFoundException, and KMS is not asked")
    void unknownKeyId() {
      GcpKmsKeyProvider keys = provider(KEY).build();
      byte[] wrapped;
      try (DataKey k = provider(OTHER_KEY).build().newDataKey()) {
        wrapped = k.wrappedKey();
      }
      int before = kms.decrypts();

      assertThatThrownBy(() -> keys.unwrap(OTHER_KEY, wrapped))
          .isInstanceOf(NotFoundException.class)
          .hasMessageContaining(OTHER_KEY)
          .hasMessageContaining("unwrapKeyName");
      assertThat(kms.decrypts()).isEqualTo(before);
    }

    @Test
    @DisplayName("a corrupted wrapped key is an IntegrityException")
    void corruptWrappedKey() {
      GcpKmsKeyProvider keys = provider(KEY).build();
      byte[] wrapped;
      try (DataKey k = keys.newDataKey()) {
        wrapped = k.wrappedKey();
      }
      wrapped[wrapped.length - 3] ^= 0x10;

      assertThatThrownBy(() -> keys.unwrap(KEY, wrapped))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(KEY)
          .hasMessageContaining("INVALID_ARGUMENT");
    }

    @Test
    @DisplayName("a key wrapped under one CryptoKey does not unwrap under another: IntegrityException")
    void otherKeysCiphertext() {
      GcpKmsKeyProvider keys = provider(KEY).unwrapKeyName(OTHER_KEY).build();
      byte[] wrapped;
      try (DataKey k = keys.newDataKey()) {
        wrapped = k.wrappedKey();
      }
      assertThatThrownBy(() -> keys.unwrap(OTHER_KEY, wrapped)).isInstanceOf(IntegrityException.class);
    }

    @Test
    @DisplayName("a key KMS does not have is NotFoundException")
    void missingKey() {
      GcpKmsKeyProvider keys = provider(MISSING_KEY).build();
      assertThatThrownBy(keys::newDataKey)
          .isInstanceOf(NotFoundException.class)
          .hasMessageContaining(MISSING_KEY)
          .hasMessageContaining("404");
    }

    @Test
    @DisplayName("access denied fails at once, not retryable, naming the IAM role the caller needs")
    void accessDenied() {
      GcpKmsKeyProvider keys = provider(KEY).build();
      int before = kms.encrypts();
      kms.denyAll(true);
      try {
        StoreException e = (StoreException) catchThrowable(keys::newDataKey);
        assertThat(e.isRetryable()).isFalse();
        assertThat(e).hasMessageContaining("403").hasMessageContaining("roles/cloudkms.cryptoKeyEncrypterDecrypter")
            .hasMessageContaining(KEY);
        assertThat(e.getSuppressed()).as("no retries").isEmpty();
      } finally {
        kms.denyAll(false);
      }
      assertThat(kms.encrypts()).isEqualTo(before);
    }

    @Test
    @DisplayName("requests without credentials are refused (401) and not retried")
    void noCredentials() {
      GcpKmsKeyProvider keys = provider(KEY).credentials(NoCredentials.getInstance()).build();
      StoreException e = (StoreException) catchThrowable(keys::newDataKey);
      assertThat(e.isRetryable()).isFalse();
      assertThat(e).hasMessageContaining("401").hasMessageContaining("UNAUTHENTICATED");
    }

    @Test
    @DisplayName("a disabled key fails at once with KMS's FAILED_PRECONDITION")
    void disabledKey() {
      String key = "projects/p/locations/global/keyRings/r/cryptoKeys/disabled";
      kms.createKey(key);
      kms.disable(key);
      StoreException e = (StoreException) catchThrowable(provider(key).build()::newDataKey);
      assertThat(e.isRetryable()).isFalse();
      assertThat(e).hasMessageContaining("FAILED_PRECONDITION");
    }
  }

  @Nested
  @DisplayName("transient faults")
  class Faults {
    @Test
    @DisplayName("503 and 429 answers are retried under the provider's RetryPolicy")
    void retriesUnavailable() throws IOException {
      GcpKmsKeyProvider keys = provider(KEY).build();
      byte[] plaintext = payload(1000, 6);
      kms.failNext(503, 429);
      byte[] artifact = encode(Transform.aesGcm(keys), plaintext);
      kms.failNext(503);
      assertThat(decode(Transform.aesGcm(keys), artifact)).isEqualTo(plaintext);
    }

    @Test
    @DisplayName("dropped connections are retried")
    void retriesDroppedConnections() throws IOException {
      GcpKmsKeyProvider keys = provider(KEY).build();
      byte[] plaintext = payload(1000, 7);
      kms.dropNext(1);
      byte[] artifact = encode(Transform.aesGcm(keys), plaintext);
      kms.dropNext(1);
      assertThat(decode(Transform.aesGcm(keys), artifact)).isEqualTo(plaintext);
    }

    @Test
    @DisplayName("answers whose ciphertext or plaintext fails its CRC32C are discarded and the call retried")
    void crcMismatchIsRetried() throws IOException {
      GcpKmsKeyProvider keys = provider(KEY).build();
      byte[] plaintext = payload(1000, 8);
      int faults = kms.faults();
      kms.corruptNext(1);
      byte[] artifact = encode(Transform.aesGcm(keys), plaintext);
      kms.corruptNext(1);
      assertThat(decode(Transform.aesGcm(keys), artifact)).isEqualTo(plaintext);
      assertThat(kms.faults() - faults).isEqualTo(2);
    }

    @Test
    @DisplayName("when the attempts run out the error is retryable and carries the earlier ones")
    void givesUp() {
      GcpKmsKeyProvider keys = provider(KEY).build();
      kms.failNext(503, 503, 503, 503);
      StoreException e = (StoreException) catchThrowable(keys::newDataKey);
      assertThat(e.isRetryable()).isTrue();
      assertThat(e).hasMessageContaining("503").hasMessageContaining(KEY);
      assertThat(e.getSuppressed()).hasSize(3);
    }
  }

  @Nested
  @DisplayName("settings")
  class Settings {
    @Test
    @DisplayName("build() reports a missing key name and missing credentials together")
    void missingSettings() {
      assertThatThrownBy(() -> GcpKmsKeyProvider.builder().build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("keyName is required")
          .hasMessageContaining("credentials are required");
    }

    @Test
    @DisplayName("a CryptoKeyVersion name or another string is not accepted as a key name")
    void badNames() {
      assertThatThrownBy(() -> GcpKmsKeyProvider.builder().keyName(KEY + "/cryptoKeyVersions/3"))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CryptoKey");
      assertThatThrownBy(() -> GcpKmsKeyProvider.builder().keyName("binlogs"))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> GcpKmsKeyProvider.builder().unwrapKeyName("projects/p/keyRings/r/cryptoKeys/k"))
          .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("the same key given twice is reported")
    void duplicateKey() {
      assertThatThrownBy(() -> provider(KEY).unwrapKeyName(KEY).build())
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than once");
    }

    @Test
    @DisplayName("the endpoint must be an absolute http(s) URI")
    void badEndpoint() {
      assertThatThrownBy(() -> GcpKmsKeyProvider.builder().endpoint(java.net.URI.create("cloudkms.googleapis.com")))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  @DisplayName("no key bytes reach toString() or the message and stack trace of any failure")
  void noKeyMaterialLeaks() throws IOException {
    GcpKmsKeyProvider keys = provider(KEY).unwrapKeyName(OTHER_KEY).build();
    int first = kms.plaintexts().size();
    StringBuilder text = new StringBuilder().append(keys).append(Transform.aesGcm(keys));
    byte[] artifact = encode(Transform.aesGcm(keys), payload(2000, 9));
    byte[] wrapped;
    try (DataKey k = keys.newDataKey()) {
      text.append(k);
      wrapped = k.wrappedKey();
    }
    List<Throwable> failures = new ArrayList<>();
    byte[] corrupt = wrapped.clone();
    corrupt[corrupt.length - 1] ^= 1;
    failures.add(catchThrowable(() -> keys.unwrap(KEY, corrupt)));
    failures.add(catchThrowable(() -> keys.unwrap(OTHER_KEY, wrapped)));
    kms.corruptNext(4);
    failures.add(catchThrowable(() -> keys.unwrap(KEY, wrapped)));
    kms.corruptNext(0);
    kms.denyAll(true);
    try {
      failures.add(catchThrowable(() -> decode(Transform.aesGcm(keys), artifact)));
    } finally {
      kms.denyAll(false);
    }
    for (Throwable t : failures) {
      assertThat(t).isNotNull();
      StringWriter w = new StringWriter();
      t.printStackTrace(new PrintWriter(w));
      text.append(w);
    }
    List<byte[]> secrets = kms.plaintexts().subList(first, kms.plaintexts().size());
    assertThat(secrets).hasSizeGreaterThanOrEqualTo(2);
    String haystack = text.toString();
    for (byte[] s : secrets) {
      assertThat(haystack.toLowerCase(Locale.ROOT)).doesNotContain(HexFormat.of().formatHex(s).substring(0, 16));
      assertThat(haystack)
          .doesNotContain(Base64.getEncoder().encodeToString(s).substring(0, 16))
          .doesNotContain(Base64.getUrlEncoder().encodeToString(s).substring(0, 16));
    }
  }
}
