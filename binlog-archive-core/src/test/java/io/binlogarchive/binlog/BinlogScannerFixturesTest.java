package io.binlogarchive.binlog;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.shyiko.mysql.binlog.BinaryLogFileReader;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.FormatDescriptionEventData;
import com.github.shyiko.mysql.binlog.event.GtidEventData;
import com.github.shyiko.mysql.binlog.event.MariadbGtidEventData;
import com.github.shyiko.mysql.binlog.event.MariadbGtidListEventData;
import com.github.shyiko.mysql.binlog.event.PreviousGtidSetEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.ChecksumType;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.GtidEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.NullEventDataDeserializer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@DisplayName("BinlogScanner on the real fixtures")
class BinlogScannerFixturesTest {

  static Stream<Arguments> stated() {
    // file, server version, checksum algorithm, in use, closed, GTIDs added (facts stated in fixtures/README.md
    // or read from the file by hand)
    return Stream.of(
        Arguments.of("binlog-invisible-columns.000001", "8.0.26", "crc32", false, true, "97c7af02-4c50-11ec-acd8-681842034964:1-5"),
        Arguments.of("json-opaque.binlog", "9.0.1", "crc32", true, false, ""),
        Arguments.of("mariadb-bin.000001", "10.5.15-MariaDB-1:10.5.15+maria~focal-log", "crc32", true, false, "0-1:1-2"),
        Arguments.of("minimal_row_metadata.000001", "8.0.40", "crc32", false, true, ""),
        Arguments.of("mysql-enum-string-set.000001", "8.0.28", "crc32", true, false, "93e95066-a2f4-11ec-9b69-9657f0ae95e2:1-5"),
        Arguments.of("mysql_type_bit.000001", "8.0.26", "crc32", true, false, "fbda2ad0-7c46-11ec-ae30-4ef7efc81a2a:1-3"),
        Arguments.of("mysql-bin.checksum-crc32", "5.7.21-log", "crc32", false, true, ""),
        Arguments.of("mysql-bin.checksum-none", "5.7.20-log", "none", false, true, ""),
        Arguments.of("mysql-bin.compressed", "8.0.28", "crc32", false, true, ""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stated")
  @DisplayName("reads version, checksum algorithm, in-use flag, closedness and GTIDs of each single-file fixture")
  void statedFacts(String name, String version, String alg, boolean inUse, boolean closed, String gtids) throws IOException {
    BinlogInfo info = BinlogScanner.scan(BinlogFixtures.dir().resolve("mysql").resolve(name));
    assertThat(info.serverVersion()).isEqualTo(version);
    assertThat(info.binlogVersion()).isEqualTo(4);
    assertThat(info.checksumAlgorithm()).isEqualTo(alg);
    assertThat(info.inUse()).isEqualTo(inUse);
    assertThat(info.closed()).isEqualTo(closed);
    assertThat(info.gtids()).isEqualTo(gtids);
    assertThat(info.flavor()).isEqualTo(version.contains("MariaDB") ? "mariadb" : "mysql");
    assertThat(info.checksumFailures()).isZero();
    assertThat(info.unknownEventCount()).isZero();
  }

  @Test
  @DisplayName("counts the compressed transaction of the MySQL 8.0.28 TRANSACTION_PAYLOAD fixture")
  void compressed() throws IOException {
    BinlogInfo info = BinlogScanner.scan(BinlogFixtures.dir().resolve("mysql/mysql-bin.compressed"));
    assertThat(info.compressedTransactionCount()).isEqualTo(1);
    assertThat(info.transactionCount()).isEqualTo(1);
    assertThat(info.eventCount()).isEqualTo(5);
  }

  static List<Path> allFixtures() {
    List<Path> all = new ArrayList<>(BinlogFixtures.singles());
    all.addAll(BinlogFixtures.chain());
    return all;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("allFixtures")
  @DisplayName("agrees with mysql-binlog-connector-java, an independent reader, on every fixture")
  void agreesWithConnector(Path file) throws IOException {
    byte[] data = BinlogFixtures.read(file);
    Expected want = readWithConnector(data);
    BinlogInfo info = BinlogScanner.scan(file);

    assertThat(info.eventCount()).as("events").isEqualTo(want.events);
    assertThat(info.endPosition()).as("end position").isEqualTo(want.endPosition).isEqualTo(data.length);
    assertThat(info.serverVersion()).isEqualTo(want.serverVersion);
    assertThat(info.checksumAlgorithm()).isEqualTo(want.checksum == ChecksumType.CRC32 ? "crc32" : "none");
    assertThat(info.inUse()).as("in use").isEqualTo(want.inUse);
    assertThat(info.closed()).as("closed").isEqualTo(!want.inUse && (want.lastType == EventType.ROTATE || want.lastType == EventType.STOP));
    assertThat(info.serverIds()).isEqualTo(new ArrayList<>(want.serverIds));
    assertThat(info.firstEventTime()).isEqualTo(want.firstEventTime);
    assertThat(info.lastEventTime()).isEqualTo(want.lastEventTime);
    assertThat(info.transactionCount()).as("transactions").isEqualTo(want.transactions);
    assertThat(info.compressedTransactionCount()).isEqualTo(want.payloads);
    assertThat(GtidSet.parse(info.gtids())).as("GTIDs added").isEqualTo(GtidSet.parse(String.join(",", want.gtids)));
    assertThat(GtidSet.parse(info.previousGtids())).as("previous GTIDs").isEqualTo(GtidSet.parse(want.previous));
    if (want.lastImmediateCommit != null) {
      assertThat(info.firstCommitTime()).isEqualTo(want.firstImmediateCommit);
      assertThat(info.lastCommitTime()).isEqualTo(want.lastImmediateCommit);
    }
  }

  /** What the connector reports, gathered without the scanner's code. */
  static final class Expected {
    long events;
    long endPosition;
    String serverVersion;
    ChecksumType checksum = ChecksumType.NONE;
    boolean inUse;
    EventType lastType;
    Set<Long> serverIds = new TreeSet<>();
    Instant firstEventTime;
    Instant lastEventTime;
    long transactions;
    long payloads;
    List<String> gtids = new ArrayList<>();
    String previous = "";
    Instant firstImmediateCommit;
    Instant lastImmediateCommit;
  }

  static Expected readWithConnector(byte[] data) throws IOException {
    EventDeserializer d = new EventDeserializer();
    for (EventType t : EventType.values()) {
      if (t.name().contains("ROWS") || t == EventType.TABLE_MAP || t == EventType.QUERY
          || t == EventType.ANNOTATE_ROWS) {
        d.setEventDataDeserializer(t, new NullEventDataDeserializer());
      }
    }
    // the connector leaves anonymous GTID events undecoded by default; they share the GTID layout
    d.setEventDataDeserializer(EventType.ANONYMOUS_GTID, new GtidEventDataDeserializer());
    // the in-use flag: byte 21 of the file, the low byte of the first event's flags
    Expected e = new Expected();
    e.inUse = (data[21] & 1) != 0;
    try (BinaryLogFileReader reader = new BinaryLogFileReader(new ByteArrayInputStream(data), d)) {
      Event ev;
      while ((ev = reader.readEvent()) != null) {
        EventHeaderV4 h = ev.getHeader();
        e.events++;
        e.endPosition = h.getNextPosition();
        e.lastType = h.getEventType();
        e.serverIds.add(h.getServerId());
        if (h.getTimestamp() != 0) {
          Instant t = Instant.ofEpochMilli(h.getTimestamp());
          if (e.firstEventTime == null) {
            e.firstEventTime = t;
          }
          e.lastEventTime = t;
        }
        switch (h.getEventType()) {
          case FORMAT_DESCRIPTION -> {
            FormatDescriptionEventData f = ev.getData();
            e.serverVersion = f.getServerVersion();
            e.checksum = f.getChecksumType();
            d.setChecksumType(f.getChecksumType());
          }
          case GTID, ANONYMOUS_GTID -> {
            e.transactions++;
            GtidEventData g = ev.getData();
            if (h.getEventType() == EventType.GTID) {
              e.gtids.add(g.getGtid());
            }
            if (g.getImmediateCommitTimestamp() > 0) {
              Instant t = Instant.EPOCH.plus(g.getImmediateCommitTimestamp(), ChronoUnit.MICROS);
              if (e.firstImmediateCommit == null) {
                e.firstImmediateCommit = t;
              }
              e.lastImmediateCommit = t;
            }
          }
          case MARIADB_GTID -> {
            e.transactions++;
            MariadbGtidEventData g = ev.getData();
            e.gtids.add(g.getDomainId() + "-" + h.getServerId() + "-" + g.getSequence());
          }
          case PREVIOUS_GTIDS -> e.previous = ((PreviousGtidSetEventData) ev.getData()).getGtidSet();
          case MARIADB_GTID_LIST -> e.previous = ((MariadbGtidListEventData) ev.getData()).getMariaGTIDSet().toString();
          case TRANSACTION_PAYLOAD -> e.payloads++;
          default -> { }
        }
      }
    }
    return e;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("allFixtures")
  @DisplayName("gives the same result whatever the chunk sizes the file is fed in")
  void chunkSizes(Path file) {
    byte[] data = BinlogFixtures.read(file);
    String name = file.getFileName().toString();
    BinlogInfo whole = BinlogFixtures.scan(name, data, data.length, true);
    for (int chunk : new int[] {1, 7, 19, 23, 4096, 1 << 20}) {
      if (chunk == 1 && data.length > 300_000) {
        continue; // byte-at-a-time over megabytes proves nothing more and costs seconds
      }
      assertThat(BinlogFixtures.scan(name, data, chunk, true)).as("chunk %d", chunk).isEqualTo(whole);
    }
  }

  @Test
  @DisplayName("reads the chain's first and last files: schema file with eight GTIDs, and the STOP-closed last file")
  void chainEnds() throws IOException {
    List<Path> chain = BinlogFixtures.chain();
    BinlogInfo first = BinlogScanner.scan(chain.get(0));
    assertThat(first.previousGtids()).isEmpty();
    assertThat(first.gtids()).isEqualTo("0-3:1-8");
    assertThat(first.serverIds()).containsExactly(3L);
    BinlogInfo last = BinlogScanner.scan(chain.get(12));
    assertThat(last.closed()).isTrue();
    assertThat(last.previousGtids()).isEqualTo("0-3-3416");
    // final_checksums.txt records 0-3-3476 as the last GTID of the chain
    assertThat(GtidSet.parse(last.gtids()).contains("0-3-3476")).isTrue();
    assertThat(GtidSet.parse(last.gtids()).contains("0-3-3477")).isFalse();
  }
}
