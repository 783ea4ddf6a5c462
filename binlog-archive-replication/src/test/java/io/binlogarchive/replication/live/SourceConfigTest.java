package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Source settings")
class SourceConfigTest {
  @Test
  @DisplayName("build() reports every bad setting at once")
  void everyProblem() {
    assertThatThrownBy(() -> SourceConfig.builder(" ", 70000, "").replicaServerId(0).heartbeat(Duration.ZERO)
        .tls(TlsMode.REQUIRED).caFile(Path.of("ca.pem")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContainingAll("host is empty", "port 70000", "user is empty", "replica server id 0", "heartbeat",
            "CA file");
  }

  @Test
  @DisplayName("the password is asked from its supplier, and never shown by toString")
  void password() {
    SourceConfig c = SourceConfig.builder("db", 3306, "repl").password(() -> "hunter2-Secret".toCharArray()).build();
    assertThat(new String(c.password())).isEqualTo("hunter2-Secret");
    assertThat(c.toString()).doesNotContain("hunter2").contains("repl@db:3306");
  }

  @Test
  @DisplayName("TLS modes read in the command line's spelling; an unknown one names the accepted values")
  void tlsModes() {
    assertThat(TlsMode.parse("verify-identity")).isEqualTo(TlsMode.VERIFY_IDENTITY);
    assertThat(TlsMode.parse("Verify_CA")).isEqualTo(TlsMode.VERIFY_CA);
    assertThat(TlsMode.parse("disabled")).isEqualTo(TlsMode.DISABLED);
    assertThatThrownBy(() -> TlsMode.parse("on")).hasMessageContaining("verify-identity");
  }
}
