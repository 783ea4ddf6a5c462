package io.binlogarchive.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The builders refuse a plain-http endpoint on the network when they are built, before any
 * request: the clients below point at an address nothing listens on, and are never called.
 */
@DisplayName("S3Sink and AwsKmsKeyProvider builders and plain http endpoints")
class S3EndpointTransportTest {
  static final URI REMOTE = URI.create("http://10.1.2.3:9000");
  static final URI LOOPBACK = URI.create("http://127.0.0.1:9000");
  static final StaticCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));

  static S3Client s3(URI endpoint) {
    return S3Client.builder().region(Region.US_EAST_1).credentialsProvider(CREDENTIALS).endpointOverride(endpoint)
        .forcePathStyle(true).build();
  }

  static KmsClient kms(URI endpoint) {
    return KmsClient.builder().region(Region.US_EAST_1).credentialsProvider(CREDENTIALS).endpointOverride(endpoint)
        .build();
  }

  @Test
  @DisplayName("S3Sink refuses a remote http endpoint, accepts a loopback one, and a remote one when allowed")
  void s3Sink() {
    try (S3Client remote = s3(REMOTE); S3Client local = s3(LOOPBACK)) {
      assertThatThrownBy(() -> S3Sink.builder().client(remote).bucket("b").build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("refusing the plain http endpoint " + REMOTE)
          .hasMessageContaining("allowInsecureEndpoint(true)");
      assertThat(S3Sink.builder().client(local).bucket("b").build().bucket()).isEqualTo("b");
      assertThat(S3Sink.builder().client(remote).bucket("b").allowInsecureEndpoint(true).build().bucket())
          .isEqualTo("b");
    }
  }

  @Test
  @DisplayName("AwsKmsKeyProvider refuses a remote http endpoint, accepts a loopback one, and a remote one when allowed")
  void awsKms() {
    try (KmsClient remote = kms(REMOTE); KmsClient local = kms(LOOPBACK)) {
      assertThatThrownBy(() -> AwsKmsKeyProvider.builder().client(remote).keyId("alias/k").build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("refusing the plain http endpoint " + REMOTE)
          .hasMessageContaining("the KMS client");
      assertThat(AwsKmsKeyProvider.builder().client(local).keyId("alias/k").build().primaryKeyId())
          .isEqualTo("alias/k");
      assertThat(AwsKmsKeyProvider.builder().client(remote).keyId("alias/k").allowInsecureEndpoint(true).build()
          .primaryKeyId()).isEqualTo("alias/k");
    }
  }
}
