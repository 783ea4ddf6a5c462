package io.binlogarchive.s3;

import static io.binlogarchive.testing.StoreTests.decode;
import static io.binlogarchive.testing.StoreTests.encode;
import static io.binlogarchive.testing.StoreTests.payload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.crypto.DataKey;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.StoreException;
import io.binlogarchive.codec.Transform;
import java.util.Base64;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * {@link AwsKmsKeyProvider} against {@link KmsTestServer}, a local HTTP server that speaks the KMS
 * JSON protocol for GenerateDataKey, Decrypt and Encrypt. No AWS KMS can run on the build machines,
 * so these tests prove the requests the provider sends, its handling of the responses and errors,
 * and a full encrypt/decrypt round trip through {@code Transform.aesGcm} against that stand-in, not
 * against the real service.
 */
@DisplayName("AwsKmsKeyProvider against a local KMS JSON-protocol server")
class AwsKmsKeyProviderTest {
  static final String ARN = "arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-aaaa-bbbb-cccc-000000000001";
  static final String OTHER_ARN = "arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-aaaa-bbbb-cccc-000000000002";
  static final String ALIAS = "alias/binlog-archive";

  static KmsTestServer kms;
  static KmsClient client;

  @BeforeAll
  static void start() throws Exception {
    kms = new KmsTestServer();
    kms.createKey(ARN, ALIAS);
    kms.createKey(OTHER_ARN, null);
    client = kms.client();
  }

  @AfterAll
  static void stop() {
    client.close();
    kms.close();
  }

  static AwsKmsKeyProvider provider(String keyId, Map<String, String> context) {
    return AwsKmsKeyProvider.builder().client(client).keyId(keyId).encryptionContext(context).build();
  }

  @Test
  @DisplayName("asks KMS for an AES_256 data key under the configured key and records the key ARN KMS reports")
  void newDataKeyUsesGenerateDataKey() {
    int before = kms.calls().size();
    try (DataKey k = provider(ALIAS, Map.of("app", "binlog-archive")).newDataKey()) {
      assertThat(k.keyId()).isEqualTo(ARN);
      assertThat(k.wrappedKey()).isNotEmpty();
    }
    KmsTestServer.Call call = kms.calls().get(before);
    assertThat(call.operation()).isEqualTo("GenerateDataKey");
    assertThat(call.body().path("KeyId").asText()).isEqualTo(ALIAS);
    assertThat(call.body().path("KeySpec").asText()).isEqualTo("AES_256");
    assertThat(call.body().path("EncryptionContext").path("app").asText()).isEqualTo("binlog-archive");
  }

  @Test
  @DisplayName("unwraps a stored blob with Decrypt, naming the recorded key, to the same key bytes")
  void unwrapUsesDecryptWithKeyId() throws Exception {
    AwsKmsKeyProvider keys = provider(ALIAS, Map.of());
    byte[] data = payload(3 << 20, 1);
    byte[] sealed = encode(Transform.aesGcm(keys), data);
    int before = kms.calls().size();
    assertThat(decode(Transform.aesGcm(keys), sealed)).isEqualTo(data);
    KmsTestServer.Call call = kms.calls().get(before);
    assertThat(call.operation()).isEqualTo("Decrypt");
    assertThat(call.body().path("KeyId").asText()).isEqualTo(ARN);
  }

  @Test
  @DisplayName("wraps existing key bytes with Encrypt, and the result unwraps to the same bytes")
  void wrapUsesEncrypt() throws Exception {
    AwsKmsKeyProvider keys = provider(ARN, Map.of());
    byte[] plain = new byte[DataKey.LENGTH];
    new Random(1).nextBytes(plain);
    byte[] data = payload(10_000, 2);
    try (DataKey wrapped = keys.wrap(plain)) {
      assertThat(kms.calls().get(kms.calls().size() - 1).operation()).isEqualTo("Encrypt");
      assertThat(wrapped.keyId()).isEqualTo(ARN);
      try (DataKey unwrapped = keys.unwrap(wrapped.keyId(), wrapped.wrappedKey())) {
        assertThat(unwrapped.keyId()).isEqualTo(ARN);
      }
      // the data key's bytes are reachable only through the cipher: compare what KMS decrypted
      KmsTestServer.Call decrypted = kms.calls().get(kms.calls().size() - 1);
      assertThat(decrypted.operation()).isEqualTo("Decrypt");
      assertThat(decrypted.response().path("Plaintext").asText()).isEqualTo(Base64.getEncoder().encodeToString(plain));
    }
    assertThat(decode(Transform.aesGcm(keys), encode(Transform.aesGcm(keys), data))).isEqualTo(data);
  }

  @Test
  @DisplayName("fails with IntegrityException when the blob is read under another encryption context")
  void otherContextIsIntegrityFailure() throws Exception {
    byte[] sealed = encode(Transform.aesGcm(provider(ARN, Map.of("app", "a"))), payload(1000, 3));
    assertThatThrownBy(() -> decode(Transform.aesGcm(provider(ARN, Map.of("app", "b"))), sealed))
        .isInstanceOf(IntegrityException.class)
        .hasMessageContaining("InvalidCiphertextException")
        .hasMessageContaining(ARN);
  }

  @Test
  @DisplayName("fails with IntegrityException when KMS says the blob belongs to another key")
  void otherKeyIsIntegrityFailure() {
    AwsKmsKeyProvider keys = AwsKmsKeyProvider.builder().client(client).keyId(ARN).unwrapKeyId(OTHER_ARN).build();
    byte[] blob;
    try (DataKey k = keys.newDataKey()) {
      blob = k.wrappedKey();
    }
    assertThatThrownBy(() -> keys.unwrap(OTHER_ARN, blob))
        .isInstanceOf(IntegrityException.class)
        .hasMessageContaining("IncorrectKeyException");
  }

  /** @return the requests since {@code from} that name {@code keyId} anywhere in their body */
  static java.util.List<KmsTestServer.Call> requestsNaming(int from, String keyId) {
    java.util.List<KmsTestServer.Call> all = kms.calls();
    return all.subList(from, all.size()).stream().filter(c -> c.body().toString().contains(keyId)).toList();
  }

  @Test
  @DisplayName("refuses an artifact that names a key it was not given, before any KMS request")
  void foreignKeyRefusedWithoutKms() throws Exception {
    // whoever can write to the bucket wraps a data key under a key of their own choosing
    byte[] data = payload(10_000, 4);
    byte[] foreign = encode(Transform.aesGcm(provider(OTHER_ARN, Map.of())), data);
    AwsKmsKeyProvider reader = provider(ARN, Map.of());
    int before = kms.calls().size();
    assertThatThrownBy(() -> decode(Transform.aesGcm(reader), foreign))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining(OTHER_ARN)
        .hasMessageContaining("unwrapKeyId");
    assertThat(kms.calls()).as("no KMS request at all").hasSize(before);
  }

  @Test
  @DisplayName("configured with an alias, a fresh reader reads the alias's artifacts and refuses another key's, never asking KMS about it")
  void aliasReaderRefusesForeignKey() throws Exception {
    byte[] data = payload(10_000, 5);
    byte[] own = encode(Transform.aesGcm(provider(ALIAS, Map.of())), data);
    byte[] foreign = encode(Transform.aesGcm(provider(OTHER_ARN, Map.of())), data);
    AwsKmsKeyProvider reader = provider(ALIAS, Map.of());
    int before = kms.calls().size();
    assertThatThrownBy(() -> decode(Transform.aesGcm(reader), foreign))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining(OTHER_ARN)
        .hasMessageContaining(ALIAS);
    assertThat(requestsNaming(before, OTHER_ARN)).isEmpty();
    assertThat(kms.calls().subList(before, kms.calls().size())).extracting(KmsTestServer.Call::operation)
        .containsExactly("DescribeKey");
    assertThat(decode(Transform.aesGcm(reader), own)).isEqualTo(data);
    assertThat(requestsNaming(before, OTHER_ARN)).isEmpty();
  }

  @Test
  @DisplayName("reads artifacts of an older key given with unwrapKeyId, and still wraps under the primary")
  void unwrapKeyIdAllowsOlderKey() throws Exception {
    byte[] data = payload(10_000, 6);
    byte[] old = encode(Transform.aesGcm(provider(OTHER_ARN, Map.of())), data);
    AwsKmsKeyProvider rotated = AwsKmsKeyProvider.builder().client(client).keyId(ALIAS).unwrapKeyId(OTHER_ARN).build();
    assertThat(decode(Transform.aesGcm(rotated), old)).isEqualTo(data);
    try (DataKey k = rotated.newDataKey()) {
      assertThat(k.keyId()).isEqualTo(ARN);
    }
    assertThat(rotated.keyIds()).containsExactly(ALIAS, OTHER_ARN);
    assertThatThrownBy(() -> AwsKmsKeyProvider.builder().client(client).keyId(ARN).unwrapKeyId(ARN).build())
        .hasMessageContaining("given more than once");
  }

  @Test
  @DisplayName("reports an unknown key as NotFoundException naming the key")
  void unknownKey() {
    assertThatThrownBy(() -> provider("alias/missing", Map.of()).newDataKey())
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("alias/missing");
  }

  @Test
  @DisplayName("reports access denied as a non-retryable error that names the permissions, and KMS internal errors as retryable")
  void errorTaxonomy() {
    AwsKmsKeyProvider keys = provider(ARN, Map.of());
    kms.failNext("AccessDeniedException");
    assertThatThrownBy(keys::newDataKey)
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isFalse())
        .hasMessageContaining("kms:GenerateDataKey");
    kms.failNext("KMSInternalException");
    assertThatThrownBy(keys::newDataKey)
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isRetryable()).isTrue());
  }

  @Test
  @DisplayName("never shows key bytes: neither the provider, nor its data keys, nor its errors")
  void noKeyBytesInText() {
    AwsKmsKeyProvider keys = provider(ARN, Map.of("app", "x"));
    DataKey k = keys.newDataKey();
    KmsTestServer.Call generated = kms.calls().get(kms.calls().size() - 1);
    String plaintext64 = generated.response().path("Plaintext").asText();
    assertThat(plaintext64).isNotEmpty();
    assertThat(k.toString()).contains(ARN).doesNotContain(plaintext64);
    assertThat(keys.toString()).isEqualTo("AwsKmsKeyProvider[keyId=" + ARN + ", context=[app]]");
    byte[] blob = k.wrappedKey();
    k.close();
    assertThatThrownBy(() -> provider(ARN, Map.of("app", "y")).unwrap(ARN, blob))
        .isInstanceOf(IntegrityException.class)
        .satisfies(e -> assertThat(e.getMessage())
            .doesNotContain(plaintext64)
            .doesNotContain(Base64.getEncoder().encodeToString(blob)));
  }

  @Test
  @DisplayName("reports every missing setting at build time")
  void builderValidation() {
    assertThatThrownBy(() -> AwsKmsKeyProvider.builder().build())
        .hasMessageContaining("client is required")
        .hasMessageContaining("keyId is required");
    assertThatThrownBy(() -> AwsKmsKeyProvider.builder().keyId(" ")).isInstanceOf(IllegalArgumentException.class);
  }
}
