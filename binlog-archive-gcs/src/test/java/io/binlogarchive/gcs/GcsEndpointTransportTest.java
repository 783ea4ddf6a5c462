package io.binlogarchive.gcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.cloud.NoCredentials;
import com.google.cloud.storage.Storage;
import java.net.URI;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The builders refuse a plain-http endpoint on the network when they are built, before any
 * request: the endpoints below are an address nothing listens on, and nothing is ever called.
 */
@DisplayName("GcsSink and GcpKmsKeyProvider builders and plain http endpoints")
class GcsEndpointTransportTest {
  static final String REMOTE = "http://10.1.2.3:9000";
  static final String KEY = "projects/p/locations/l/keyRings/r/cryptoKeys/k";

  static GcpKmsKeyProvider.Builder kms(String endpoint) {
    return GcpKmsKeyProvider.builder().keyName(KEY).credentials(NoCredentials.getInstance())
        .endpoint(URI.create(endpoint));
  }

  @Test
  @DisplayName("GcsSink refuses a client with a remote http host, accepts a loopback one, and a remote one when allowed")
  void gcsSink() throws Exception {
    try (Storage remote = GcsTestClients.storage(REMOTE, 1);
        Storage local = GcsTestClients.storage("http://localhost:9000", 1)) {
      assertThatThrownBy(() -> GcsSink.builder().storage(remote).bucket("b").build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("refusing the plain http endpoint " + REMOTE)
          .hasMessageContaining("allowInsecureEndpoint(true)");
      assertThat(GcsSink.builder().storage(local).bucket("b").build().describe()).isEqualTo("gs://b/");
      assertThat(GcsSink.builder().storage(remote).bucket("b").allowInsecureEndpoint(true).build().describe())
          .isEqualTo("gs://b/");
    }
  }

  @Test
  @DisplayName("GcpKmsKeyProvider refuses a remote http endpoint, accepts a loopback one, and a remote one when allowed")
  void gcpKms() {
    assertThatThrownBy(() -> kms(REMOTE).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refusing the plain http endpoint " + REMOTE)
        .hasMessageContaining("Cloud KMS");
    assertThat(kms("http://[::1]:9000").build().primaryKeyId()).isEqualTo(KEY);
    assertThat(kms(REMOTE).allowInsecureEndpoint(true).build().primaryKeyId()).isEqualTo(KEY);
  }
}
