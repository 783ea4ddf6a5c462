package io.binlogarchive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class S3SinkSettingsTest {
  @Test
  @DisplayName("the KMS encryption context is base64 of a JSON object that reads back as the same pairs, keys in order")
  void encryptionContextRoundTrips() throws Exception {
    Map<String, String> context = Map.of("zone", "eu \"west\"", "app", "back\\slash\nand\u0001control", "é", "ü");

    String encoded = S3SinkSettings.encodeContext(context);

    String json = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
    assertThat(new ObjectMapper().readValue(json, new TypeReference<Map<String, String>>() {})).isEqualTo(context);
    assertThat(json.indexOf("\"app\"")).isLessThan(json.indexOf("\"zone\"")).isLessThan(json.indexOf("\"é\""));
    assertThat(S3SinkSettings.encodeContext(Map.of("app", "x", "zone", "y")))
        .isEqualTo(S3SinkSettings.encodeContext(new java.util.TreeMap<>(Map.of("zone", "y", "app", "x"))));
  }
}
