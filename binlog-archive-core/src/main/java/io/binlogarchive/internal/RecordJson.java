package io.binlogarchive.internal;

import static io.binlogarchive.internal.JsonFields.*;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.store.Cursor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Sidecars and cursors as JSON, read and written with Jackson's streaming parser and generator.
 * A one-shot command reads nothing else, and {@link Json#MAPPER} costs a command's start-up more
 * than the reading: building an ObjectMapper sets up its date formats (a {@code Calendar}, the
 * JDK's locale data) and the Java-time module, and its first read of a record type introspects it
 * reflectively (BENCHMARKS.md, issue 16).
 *
 * <p>The documents are the ones {@link Json#MAPPER} writes and reads for the annotated records,
 * byte for byte: the same field names and order, Jackson's default pretty printer, instants in
 * ISO-8601, and the sidecar's sections without their null fields. Reading is as lenient as the
 * mapper's defaults: unknown fields are skipped, a missing or null number is 0, numbers may be
 * given as strings, an instant also as epoch seconds. Anything else is an {@link IOException}
 * naming the field. The field-level reading and writing is in {@link JsonFields}.
 */
public final class RecordJson {
  private static final JsonFactory JSON = new JsonFactory();

  private RecordJson() {}

  /** @return the sidecar's document */
  public static byte[] write(Sidecar s) {
    return write(g -> {
      g.writeStartObject();
      g.writeNumberField("format_version", s.formatVersion());
      string(g, "file", s.file());
      g.writeNumberField("sequence", s.sequence());
      string(g, "server_id", s.serverId());
      string(g, "timeline", s.timeline());
      g.writeNumberField("size", s.size());
      string(g, "sha256", s.sha256());
      if (s.artifact() != null) {
        g.writeFieldName("artifact");
        artifact(g, s.artifact());
      }
      if (s.binlog() != null) {
        g.writeFieldName("binlog");
        binlog(g, s.binlog());
      }
      instant(g, "archived_at", s.archivedAt(), false);
      string(g, "archiver", s.archiver());
      if (s.segment() != null) {
        Sidecar.Segment seg = s.segment();
        g.writeFieldName("segment");
        g.writeStartObject();
        g.writeNumberField("start", seg.start());
        g.writeNumberField("end", seg.end());
        string(g, "gtids", seg.gtids());
        instant(g, "first_commit_time", seg.firstCommitTime(), false);
        instant(g, "last_commit_time", seg.lastCommitTime(), false);
        g.writeEndObject();
      }
      g.writeEndObject();
    });
  }

  /** @return the cursor's document (its null fields written as null) */
  public static byte[] write(Cursor c) {
    return write(g -> {
      g.writeStartObject();
      g.writeStringField("last_synced_file", c.lastSyncedFile());
      g.writeNumberField("sequence", c.sequence());
      g.writeStringField("sha256_checksum", c.sha256Checksum());
      instant(g, "last_timestamp", c.lastTimestamp(), true);
      g.writeStringField("timeline", c.timeline());
      instant(g, "committed_at", c.committedAt(), true);
      g.writeEndObject();
    });
  }

  /**
   * @return the sidecar, or null for a document that is {@code null}
   * @throws IOException if the document is not JSON, not an object, or a field has the wrong type
   */
  public static Sidecar readSidecar(byte[] json) throws IOException {
    return read(json, RecordJson::sidecar);
  }

  /**
   * @return the cursor, or null for a document that is {@code null}
   * @throws IOException if the document is not JSON, not an object, or a field has the wrong type
   *     or a required field is missing
   */
  public static Cursor readCursor(byte[] json) throws IOException {
    return read(json, p -> {
      String file = null;
      long sequence = 0;
      String sha256 = null;
      Instant lastTimestamp = null;
      String timeline = null;
      Instant committedAt = null;
      while (nextField(p)) {
        String f = p.currentName();
        switch (f) {
          case "last_synced_file" -> file = string(p, f);
          case "sequence" -> sequence = number(p, f);
          case "sha256_checksum" -> sha256 = string(p, f);
          case "last_timestamp" -> lastTimestamp = instant(p, f);
          case "timeline" -> timeline = string(p, f);
          case "committed_at" -> committedAt = instant(p, f);
          default -> p.skipChildren();
        }
      }
      try {
        return new Cursor(file, sequence, sha256, lastTimestamp, timeline, committedAt);
      } catch (NullPointerException e) {
        throw new IOException("field \"" + e.getMessage() + "\" is missing");
      }
    });
  }

  private interface Writing {
    void to(JsonGenerator g) throws IOException;
  }

  private interface Reading<T> {
    T from(JsonParser p) throws IOException;
  }

  private static byte[] write(Writing w) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.useDefaultPrettyPrinter();
      w.to(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to memory
    }
    return out.toByteArray();
  }

  private static <T> T read(byte[] json, Reading<T> reading) throws IOException {
    try (JsonParser p = JSON.createParser(json)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw new IOException("no content: the document is empty");
      }
      if (t == JsonToken.VALUE_NULL) {
        return null;
      }
      if (t != JsonToken.START_OBJECT) {
        throw new IOException("expected a JSON object, got " + t.asString());
      }
      return reading.from(p);
    }
  }

  private static Sidecar sidecar(JsonParser p) throws IOException {
    int formatVersion = 0;
    String file = null;
    long sequence = 0;
    String serverId = null;
    String timeline = null;
    long size = 0;
    String sha256 = null;
    Sidecar.Artifact artifact = null;
    BinlogInfo binlog = null;
    Instant archivedAt = null;
    String archiver = null;
    Sidecar.Segment segment = null;
    while (nextField(p)) {
      String f = p.currentName();
      switch (f) {
        case "format_version" -> formatVersion = (int) number(p, f);
        case "file" -> file = string(p, f);
        case "sequence" -> sequence = number(p, f);
        case "server_id" -> serverId = string(p, f);
        case "timeline" -> timeline = string(p, f);
        case "size" -> size = number(p, f);
        case "sha256" -> sha256 = string(p, f);
        case "artifact" -> artifact = object(p, f) ? artifact(p) : null;
        case "binlog" -> binlog = object(p, f) ? binlog(p) : null;
        case "archived_at" -> archivedAt = instant(p, f);
        case "archiver" -> archiver = string(p, f);
        case "segment" -> segment = object(p, f) ? segment(p) : null;
        default -> p.skipChildren();
      }
    }
    return new Sidecar(formatVersion, file, sequence, serverId, timeline, size, sha256, artifact, binlog, archivedAt,
        archiver, segment);
  }

  private static Sidecar.Segment segment(JsonParser p) throws IOException {
    long start = 0;
    long end = 0;
    String gtids = null;
    Instant first = null;
    Instant last = null;
    while (nextField(p)) {
      String f = p.currentName();
      switch (f) {
        case "start" -> start = number(p, f);
        case "end" -> end = number(p, f);
        case "gtids" -> gtids = string(p, f);
        case "first_commit_time" -> first = instant(p, f);
        case "last_commit_time" -> last = instant(p, f);
        default -> p.skipChildren();
      }
    }
    return new Sidecar.Segment(start, end, gtids, first, last);
  }

  private static void artifact(JsonGenerator g, Sidecar.Artifact a) throws IOException {
    g.writeStartObject();
    string(g, "key", a.key());
    g.writeNumberField("size", a.size());
    string(g, "sha256", a.sha256());
    string(g, "codec", a.codec());
    if (a.codecLevel() != null) {
      g.writeNumberField("codec_level", a.codecLevel());
    }
    string(g, "cipher", a.cipher());
    string(g, "key_id", a.keyId());
    if (a.transforms() != null) {
      g.writeFieldName("transforms");
      value(g, a.transforms());
    }
    if (a.storeChecksums() != null) {
      g.writeFieldName("store_checksums");
      value(g, a.storeChecksums());
    }
    g.writeEndObject();
  }

  private static Sidecar.Artifact artifact(JsonParser p) throws IOException {
    String key = null;
    long size = 0;
    String sha256 = null;
    String codec = null;
    Integer codecLevel = null;
    String cipher = null;
    String keyId = null;
    List<Map<String, Object>> transforms = null;
    Map<String, String> storeChecksums = null;
    while (nextField(p)) {
      String f = p.currentName();
      switch (f) {
        case "key" -> key = string(p, f);
        case "size" -> size = number(p, f);
        case "sha256" -> sha256 = string(p, f);
        case "codec" -> codec = string(p, f);
        case "codec_level" -> codecLevel = p.currentToken() == JsonToken.VALUE_NULL ? null : (int) number(p, f);
        case "cipher" -> cipher = string(p, f);
        case "key_id" -> keyId = string(p, f);
        case "transforms" -> transforms = transforms(p, f);
        case "store_checksums" -> storeChecksums = stringMap(p, f);
        default -> p.skipChildren();
      }
    }
    return new Sidecar.Artifact(key, size, sha256, codec, codecLevel, cipher, keyId, transforms, storeChecksums);
  }

  private static void binlog(JsonGenerator g, BinlogInfo b) throws IOException {
    g.writeStartObject();
    string(g, "flavor", b.flavor());
    string(g, "server_version", b.serverVersion());
    g.writeNumberField("binlog_version", b.binlogVersion());
    string(g, "checksum_algorithm", b.checksumAlgorithm());
    g.writeBooleanField("in_use", b.inUse());
    g.writeBooleanField("closed", b.closed());
    instant(g, "first_event_time", b.firstEventTime(), false);
    instant(g, "last_event_time", b.lastEventTime(), false);
    instant(g, "first_commit_time", b.firstCommitTime(), false);
    instant(g, "last_commit_time", b.lastCommitTime(), false);
    string(g, "previous_gtids", b.previousGtids());
    string(g, "gtids", b.gtids());
    if (b.serverIds() != null) {
      g.writeFieldName("server_ids");
      value(g, b.serverIds());
    }
    g.writeNumberField("event_count", b.eventCount());
    g.writeNumberField("transaction_count", b.transactionCount());
    g.writeNumberField("compressed_transaction_count", b.compressedTransactionCount());
    g.writeNumberField("unknown_event_count", b.unknownEventCount());
    g.writeNumberField("checksum_failures", b.checksumFailures());
    g.writeNumberField("end_position", b.endPosition());
    g.writeNumberField("unparsed_gtid_event_count", b.unparsedGtidEventCount());
    g.writeEndObject();
  }

  private static BinlogInfo binlog(JsonParser p) throws IOException {
    String flavor = null;
    String serverVersion = null;
    int binlogVersion = 0;
    String checksumAlgorithm = null;
    boolean inUse = false;
    boolean closed = false;
    Instant firstEvent = null;
    Instant lastEvent = null;
    Instant firstCommit = null;
    Instant lastCommit = null;
    String previousGtids = null;
    String gtids = null;
    List<Long> serverIds = null;
    long events = 0;
    long transactions = 0;
    long compressed = 0;
    long unknown = 0;
    long checksumFailures = 0;
    long endPosition = 0;
    long unparsedGtids = 0;
    while (nextField(p)) {
      String f = p.currentName();
      switch (f) {
        case "flavor" -> flavor = string(p, f);
        case "server_version" -> serverVersion = string(p, f);
        case "binlog_version" -> binlogVersion = (int) number(p, f);
        case "checksum_algorithm" -> checksumAlgorithm = string(p, f);
        case "in_use" -> inUse = bool(p, f);
        case "closed" -> closed = bool(p, f);
        case "first_event_time" -> firstEvent = instant(p, f);
        case "last_event_time" -> lastEvent = instant(p, f);
        case "first_commit_time" -> firstCommit = instant(p, f);
        case "last_commit_time" -> lastCommit = instant(p, f);
        case "previous_gtids" -> previousGtids = string(p, f);
        case "gtids" -> gtids = string(p, f);
        case "server_ids" -> serverIds = longs(p, f);
        case "event_count" -> events = number(p, f);
        case "transaction_count" -> transactions = number(p, f);
        case "compressed_transaction_count" -> compressed = number(p, f);
        case "unknown_event_count" -> unknown = number(p, f);
        case "checksum_failures" -> checksumFailures = number(p, f);
        case "end_position" -> endPosition = number(p, f);
        case "unparsed_gtid_event_count" -> unparsedGtids = number(p, f);
        default -> p.skipChildren();
      }
    }
    return new BinlogInfo(flavor, serverVersion, binlogVersion, checksumAlgorithm, inUse, closed, firstEvent, lastEvent,
        firstCommit, lastCommit, previousGtids, gtids, serverIds, events, transactions, compressed, unknown,
        checksumFailures, endPosition, unparsedGtids);
  }
}
