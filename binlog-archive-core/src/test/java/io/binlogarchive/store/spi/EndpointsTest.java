package io.binlogarchive.store.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@DisplayName("The endpoint transport rule")
class EndpointsTest {
  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "127.255.0.9", "[::1]", "[0:0:0:0:0:0:0:1]", "localhost", "LocalHost"})
  @DisplayName("counts 127.0.0.0/8, ::1 and localhost as loopback")
  void loopback(String host) {
    assertThat(Endpoints.isLoopback(host)).isTrue();
    assertThatCode(() -> Endpoints.checkTransport(URI.create("http://" + host + ":9000"), "a test", false))
        .doesNotThrowAnyException();
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.1.2.3", "128.0.0.1", "127.0.0.256", "[::2]", "localhost.example.com",
      "127.0.0.1.nip.io", "s3.example.com"})
  @DisplayName("counts every other address and every other name as remote, without resolving names")
  void remote(String host) {
    assertThat(Endpoints.isLoopback(host)).isFalse();
  }

  @Test
  @DisplayName("refuses plain http to a remote address, naming the endpoint and both opt-ins")
  void refusesRemoteHttp() {
    assertThatThrownBy(() -> Endpoints.checkTransport(URI.create("http://10.1.2.3:9000"), "the S3 client", false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http://10.1.2.3:9000")
        .hasMessageContaining("the S3 client")
        .hasMessageContaining("allowInsecureEndpoint(true)")
        .hasMessageContaining("--allow-insecure-endpoint");
  }

  @Test
  @DisplayName("accepts https anywhere, no endpoint at all, and remote http when explicitly allowed")
  void accepts() {
    assertThat(Endpoints.transportProblem(URI.create("https://10.1.2.3:9000"), "x", false)).isNull();
    assertThat(Endpoints.transportProblem(null, "x", false)).isNull();
    assertThat(Endpoints.transportProblem(URI.create("http://10.1.2.3:9000"), "x", true)).isNull();
  }
}
