package io.binlogarchive.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.store.Cursor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link RecordJson} writes the very bytes {@link Json#MAPPER} writes for sidecars and cursors, and
 * reads back what either wrote, as leniently as the mapper (it replaced the mapper on the paths a
 * one-shot command takes, for start-up time).
 */
class RecordJsonTest {
  private static final Instant T1 = Instant.parse("2026-11-22T03:53:27Z");
  private static final Instant T2 = Instant.parse("2026-11-22T03:53:27.123456789Z");

  static List<Sidecar> sidecars() {
    Map<String, Object> zstd = new LinkedHashMap<>();
    zstd.put("id", "zstd");
    zstd.put("level", 3);
    Map<String, Object> aes = new LinkedHashMap<>();
    aes.put("id", "aes-256-gcm");
    aes.put("format_version", 1);
    aes.put("key_id", "k1");
    aes.put("segment_size", 1L << 40);
    aes.put("ratio", 2.5);
    aes.put("nested", new LinkedHashMap<>(Map.of("a", List.of(1, "two", true))));
    aes.put("none", null);
    Map<String, String> checksums = new LinkedHashMap<>();
    checksums.put("crc32c", "AAAAAA==");
    checksums.put("md5", "x\"y\\z\u00e9");
    BinlogInfo full = new BinlogInfo("mariadb", "10.11.6-MariaDB", 4, "CRC32", false, true, T1, T2, T1, T2,
        "0-1-5", "0-1:6-90", List.of(1L, 7L, 4294967295L), 1234, 56, 2, 0, 0, 2311839, 0);
    BinlogInfo sparse = new BinlogInfo("mysql", null, 4, null, true, false, null, null, null, null, null, "", null,
        0, 0, 0, 0, 0, 0, 0);
    Sidecar.Artifact rich = new Sidecar.Artifact("binlogs/default/t0001/mysql-bin.000001.zst.aes", 763520,
        "ab".repeat(32), "zstd", 3, "aes-256-gcm", "k1", List.of(zstd, aes), checksums);
    Sidecar.Artifact plain = new Sidecar.Artifact("binlogs/default/t0001/mysql-bin.000002", 10, "cd".repeat(32),
        "none", null, null, null, null, null);
    return List.of(
        new Sidecar(1, "mysql-bin.000001", 1, "default", "t0001", 2311839, "ef".repeat(32), rich, full, T2, "0.1.0"),
        new Sidecar(1, "mysql-bin.000002", 2, "db1", "t0002", 10, "01".repeat(32), plain, sparse, T1, null),
        new Sidecar(1, "mysql-bin.000003", 3, "db1", "t0002", 100, "02".repeat(32), plain, full, T1, "0.1.0",
            new Sidecar.Segment(4096, 4196, "0-1:7-9", T1, T2)),
        new Sidecar(1, "mysql-bin.000004", 4, "db1", "t0002", 100, "03".repeat(32), plain, null, null, null,
            new Sidecar.Segment(0, 100, "", null, null)),
        new Sidecar(0, null, 0, null, null, 0, null, null, null, null, null));
  }

  static List<Cursor> cursors() {
    return List.of(new Cursor("mysql-bin.000004", 4, "aa".repeat(32), T1, "t0001", T2),
        new Cursor("mysql-bin.000009", 9, "bb".repeat(32), null, "t0003", null));
  }

  @Test
  @DisplayName("sidecars and cursors are written byte for byte as the ObjectMapper writes them")
  void writesWhatTheMapperWrites() throws IOException {
    for (Sidecar s : sidecars()) {
      assertThat(new String(RecordJson.write(s), StandardCharsets.UTF_8))
          .isEqualTo(new String(Json.MAPPER.writeValueAsBytes(s), StandardCharsets.UTF_8));
    }
    for (Cursor c : cursors()) {
      assertThat(new String(RecordJson.write(c), StandardCharsets.UTF_8))
          .isEqualTo(new String(Json.MAPPER.writeValueAsBytes(c), StandardCharsets.UTF_8));
    }
  }

  @Test
  @DisplayName("what it writes reads back equal, and so does what the mapper reads")
  void readsBack() throws IOException {
    for (Sidecar s : sidecars()) {
      byte[] json = RecordJson.write(s);
      assertThat(RecordJson.readSidecar(json)).isEqualTo(s).isEqualTo(Json.MAPPER.readValue(json, Sidecar.class));
    }
    for (Cursor c : cursors()) {
      byte[] json = RecordJson.write(c);
      assertThat(RecordJson.readCursor(json)).isEqualTo(c).isEqualTo(Json.MAPPER.readValue(json, Cursor.class));
    }
  }

  @Test
  @DisplayName("transform settings keep the types the mapper gives them: Integer, Long, Double, maps, lists")
  void untypedValues() throws IOException {
    String json = "{\"file\":\"f\",\"sha256\":\"s\",\"artifact\":{\"key\":\"k\",\"transforms\":[{\"i\":3,"
        + "\"l\":1099511627776,\"b\":123456789012345678901234567890,\"d\":2.5,\"t\":true,\"n\":null,"
        + "\"m\":{\"x\":[1,{\"y\":\"z\"}]}}]}}";
    Sidecar ours = RecordJson.readSidecar(json.getBytes(StandardCharsets.UTF_8));
    Sidecar theirs = Json.MAPPER.readValue(json, Sidecar.class);
    assertThat(ours).isEqualTo(theirs);
    Map<String, Object> t = ours.artifact().transforms().get(0);
    assertThat(t.get("i")).isInstanceOf(Integer.class);
    assertThat(t.get("l")).isInstanceOf(Long.class);
    assertThat(t.get("d")).isInstanceOf(Double.class);
  }

  @ParameterizedTest(name = "[{0}]")
  @ValueSource(strings = {
      "{\"last_synced_file\":\"mysql-bin.000003\",\"sequence\":\"3\",\"sha256_checksum\":\"aa\",\"timeline\":\"t0001\","
          + "\"unknown\":{\"deep\":[1,2,{\"x\":null}]},\"last_timestamp\":1764000000,\"committed_at\":\"\"}",
      "{\"last_synced_file\":\"mysql-bin.000003\",\"sequence\":3.0,\"sha256_checksum\":\"aa\",\"timeline\":\"t0001\","
          + "\"last_timestamp\":1764000000.5,\"committed_at\":null}",
      "{\"sequence\":null,\"last_synced_file\":\"f\",\"sha256_checksum\":\"aa\",\"timeline\":\"t\","
          + "\"last_timestamp\":\"2026-11-22T03:53:27+02:00\"}",
      "{\"last_synced_file\":\"f\",\"sha256_checksum\":\"aa\",\"timeline\":\"t\"} trailing"})
  @DisplayName("a cursor is read as leniently as the mapper reads it: unknown fields, numbers as text, epoch seconds")
  void lenientLikeTheMapper(String json) throws IOException {
    assertThat(RecordJson.readCursor(json.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(Json.MAPPER.readValue(json, Cursor.class));
  }

  @ParameterizedTest(name = "[{0}]")
  @ValueSource(strings = {"", "[]", "\"x\"", "{}", "{\"last_synced_file\":\"f\"}", "\u0000\u0001binary",
      "{\"last_synced_file\": \"mysql-bin.0000",
      "{\"last_synced_file\":{},\"sequence\":1,\"sha256_checksum\":\"a\",\"timeline\":\"t\"}",
      "{\"last_synced_file\":\"f\",\"sequence\":\"x\",\"sha256_checksum\":\"a\",\"timeline\":\"t\"}",
      "{\"last_synced_file\":\"f\",\"sequence\":[1],\"sha256_checksum\":\"a\",\"timeline\":\"t\"}",
      "{\"last_synced_file\":\"f\",\"sha256_checksum\":\"a\",\"timeline\":\"t\",\"committed_at\":\"yesterday\"}"})
  @DisplayName("a cursor the mapper refuses is refused too")
  void refusedLikeTheMapper(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> Json.MAPPER.readValue(bytes, Cursor.class)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> RecordJson.readCursor(bytes)).isInstanceOf(IOException.class);
  }

  @Test
  @DisplayName("a field of the wrong type is named in the error, with its line")
  void namesTheField() {
    byte[] json = "{\n\"file\": \"f\",\n\"artifact\": {\"key\": \"k\", \"size\": {\"no\": 1}}}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> RecordJson.readSidecar(json)).isInstanceOf(IOException.class)
        .hasMessageContaining("\"size\"").hasMessageContaining("a number").hasMessageContaining("line 3");
    assertThatThrownBy(() -> Sidecar.parse(json, "binlogs/x.json")).isInstanceOf(IntegrityException.class)
        .hasMessageContaining("sidecar binlogs/x.json is not valid JSON").hasMessageContaining("\"size\"");
  }

  @Test
  @DisplayName("the JSON null document reads as null, as with the mapper")
  void nullDocument() throws IOException {
    assertThat(RecordJson.readCursor("null".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(RecordJson.readSidecar(" null ".getBytes(StandardCharsets.UTF_8))).isNull();
  }

  @Test
  @DisplayName("sidecars the mapper wrote, cut anywhere, are refused by both or read equal by both")
  void truncatedDocuments() throws IOException {
    List<String> disagreements = new ArrayList<>();
    for (Sidecar s : sidecars()) {
      byte[] json = Json.MAPPER.writeValueAsBytes(s);
      for (int cut = 0; cut < json.length; cut += 7) {
        byte[] part = Arrays.copyOf(json, cut);
        Object theirs = outcome(() -> Json.MAPPER.readValue(part, Sidecar.class));
        Object ours = outcome(() -> RecordJson.readSidecar(part));
        if (!String.valueOf(theirs).equals(String.valueOf(ours))) {
          disagreements.add(cut + ": " + theirs + " / " + ours);
        }
      }
    }
    assertThat(disagreements).isEmpty();
  }

  private interface Read {
    Object get() throws IOException;
  }

  private static Object outcome(Read r) {
    try {
      return r.get();
    } catch (IOException e) {
      return "refused";
    }
  }
}
