package io.binlogarchive.binlog;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.InvalidBinlogException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("BinlogScanner on malformed input")
class BinlogScannerMalformedInputTest {
  static byte[] fixture(String name) {
    return BinlogFixtures.read(BinlogFixtures.dir().resolve("mysql").resolve(name));
  }

  static BinlogInfo scan(byte[] data) {
    return BinlogFixtures.scan("f.000001", data, 1000, true);
  }

  static void putU32(byte[] b, int off, long v) {
    for (int i = 0; i < 4; i++) {
      b[off + i] = (byte) (v >>> (8 * i));
    }
  }

  /** Recomputes the CRC32 trailer of the event at {@code off} (for files with checksums). */
  static void fixCrc(byte[] b, int off) {
    int size = (b[off + 9] & 0xff) | (b[off + 10] & 0xff) << 8 | (b[off + 11] & 0xff) << 16;
    CRC32 c = new CRC32();
    c.update(b, off, size - 4);
    putU32(b, off + size - 4, c.getValue());
  }

  @Test
  @DisplayName("rejects a file with the wrong magic bytes")
  void wrongMagic() {
    byte[] d = fixture("mysql_type_bit.000001");
    d[1] = 'x';
    assertThatThrownBy(() -> scan(d)).isInstanceOf(InvalidBinlogException.class).hasMessageContaining("f.000001").hasMessageContaining("magic");
  }

  @Test
  @DisplayName("rejects an empty file, a bare magic, and a file cut inside an event header")
  void truncatedHeader() {
    byte[] d = fixture("mysql_type_bit.000001");
    assertThatThrownBy(() -> scan(new byte[0])).isInstanceOf(InvalidBinlogException.class).hasMessageContaining("4-byte magic");
    assertThatThrownBy(() -> scan(Arrays.copyOf(d, 4))).isInstanceOf(InvalidBinlogException.class).hasMessageContaining("no events");
    int second = BinlogFixtures.eventOffsets(d).get(1);
    assertThatThrownBy(() -> scan(Arrays.copyOf(d, second + 10)))
        .isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("inside the header of the event that starts at offset " + second);
  }

  @Test
  @DisplayName("rejects a file cut inside an event, naming the event and its offset")
  void truncatedEvent() {
    byte[] d = fixture("mysql_type_bit.000001");
    List<Integer> events = BinlogFixtures.eventOffsets(d);
    int last = events.get(events.size() - 1);
    assertThatThrownBy(() -> scan(Arrays.copyOf(d, d.length - 3)))
        .isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("ends at offset " + (d.length - 3))
        .hasMessageContaining("XID_EVENT (type 16) that starts at offset " + last);
  }

  @Test
  @DisplayName("rejects an event whose size is smaller than its header")
  void sizeBelowHeader() {
    byte[] d = fixture("mysql-bin.checksum-none");
    int second = BinlogFixtures.eventOffsets(d).get(1);
    putU32(d, second + 9, 10);
    assertThatThrownBy(() -> scan(d)).isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("offset " + second).hasMessageContaining("smaller than its 19-byte header");
  }

  @Test
  @DisplayName("rejects an event whose size disagrees with its end position")
  void sizeDisagreesWithPosition() {
    byte[] d = fixture("mysql-bin.checksum-none");
    int second = BinlogFixtures.eventOffsets(d).get(1);
    putU32(d, second + 9, 0xfffffff0L);
    assertThatThrownBy(() -> scan(d)).isInstanceOf(InvalidBinlogException.class).hasMessageContaining("says it ends at");
  }

  @Test
  @DisplayName("rejects an event that runs past the end of the file, without allocating its declared size")
  void sizePastEnd() {
    byte[] d = fixture("mysql-bin.checksum-none");
    List<Integer> events = BinlogFixtures.eventOffsets(d);
    int last = events.get(events.size() - 1);
    long huge = 0xfffffff0L - last;
    putU32(d, last + 9, huge);
    putU32(d, last + 13, last + huge);
    assertThatThrownBy(() -> scan(d)).isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("truncated").hasMessageContaining("declares " + huge + " bytes");
  }

  @Test
  @DisplayName("rejects a first event that is not a FORMAT_DESCRIPTION_EVENT")
  void firstEventNotFde() {
    byte[] d = fixture("mysql-bin.checksum-none");
    d[8] = 2;
    assertThatThrownBy(() -> scan(d)).isInstanceOf(InvalidBinlogException.class).hasMessageContaining("not a FORMAT_DESCRIPTION_EVENT");
  }

  @Test
  @DisplayName("rejects garbage after the magic bytes")
  void garbage() {
    byte[] d = new byte[5000];
    new java.util.Random(7).nextBytes(d);
    System.arraycopy(BinlogScanner.MAGIC, 0, d, 0, 4);
    assertThatThrownBy(() -> scan(d)).isInstanceOf(InvalidBinlogException.class).hasMessageContaining("offset 4");
  }

  @Test
  @DisplayName("fails on a CRC32 mismatch with file, offset and event type")
  void checksumMismatch() {
    byte[] d = fixture("mysql-bin.checksum-crc32");
    List<Integer> events = BinlogFixtures.eventOffsets(d);
    int e = events.get(5);
    d[e + 25] ^= 0x10;
    assertThatThrownBy(() -> scan(d)).isInstanceOf(IntegrityException.class)
        .hasMessageContaining("f.000001").hasMessageContaining("offset " + e).hasMessageContaining("(type " + d[e + 4] + ")");
  }

  @Test
  @DisplayName("only counts CRC32 mismatches when configured to warn")
  void checksumWarnOnly() {
    byte[] d = fixture("mysql-bin.checksum-crc32");
    List<Integer> events = BinlogFixtures.eventOffsets(d);
    d[events.get(5) + 25] ^= 0x10;
    d[events.get(9) + 30] ^= 0x01;
    BinlogInfo info = BinlogFixtures.scan("f", d, 333, false);
    assertThat(info.checksumFailures()).isEqualTo(2);
    assertThat(info.eventCount()).isEqualTo(303);
  }

  @Test
  @DisplayName("checks the first event's CRC32 with the in-use flag masked, as the servers compute it")
  void inUseFlagMasked() {
    byte[] d = fixture("mysql-bin.checksum-crc32");
    d[21] |= 0x01;
    BinlogInfo info = scan(d);
    assertThat(info.inUse()).isTrue();
    assertThat(info.closed()).isFalse();
    assertThat(info.checksumFailures()).isZero();
  }

  @Test
  @DisplayName("skips and counts events of unknown types")
  void unknownType() {
    byte[] d = fixture("mysql-bin.checksum-crc32");
    List<Integer> events = BinlogFixtures.eventOffsets(d);
    d[events.get(4) + 4] = (byte) 99;
    fixCrc(d, events.get(4));
    d[events.get(7) + 4] = (byte) 250;
    fixCrc(d, events.get(7));
    BinlogInfo info = scan(d);
    assertThat(info.unknownEventCount()).isEqualTo(2);
    assertThat(info.eventCount()).isEqualTo(303);
  }

  @Test
  @DisplayName("counts a type-42 event whose body is not a known serialization (a 5.7 anonymous GTID body) as an undecoded transaction")
  void taggedGtid() {
    byte[] d = fixture("mysql-bin.checksum-crc32");
    List<Integer> events = BinlogFixtures.eventOffsets(d);
    int anon = events.stream().filter(o -> d[o + 4] == 34).findFirst().orElseThrow();
    d[anon + 4] = 42;
    fixCrc(d, anon);
    BinlogInfo info = scan(d);
    assertThat(info.unparsedGtidEventCount()).isEqualTo(1);
    assertThat(info.transactionCount()).isEqualTo(60);
  }

  @Test
  @DisplayName("rejects encrypted MariaDB binlogs clearly")
  void encrypted() {
    byte[] d = fixture("mariadb-bin.000001");
    int e = BinlogFixtures.eventOffsets(d).get(2);
    d[e + 4] = (byte) 164;
    fixCrc(d, e);
    assertThatThrownBy(() -> scan(d)).isInstanceOf(InvalidBinlogException.class).hasMessageContaining("encrypted");
  }

  @Test
  @DisplayName("refuses further use after a failure or after finish")
  void stateAfterEnd() {
    byte[] d = fixture("mysql_type_bit.000001");
    BinlogScanner s = new BinlogScanner("x", true);
    s.update(d, 0, d.length);
    assertThat(s.headerRead()).isTrue();
    assertThat(s.inUse()).isTrue();
    assertThat(s.position()).isEqualTo(d.length);
    s.finish();
    assertThatThrownBy(s::finish).isInstanceOf(IllegalStateException.class);
    BinlogScanner bad = new BinlogScanner("y", true);
    assertThatThrownBy(() -> bad.update(new byte[] {1, 2, 3, 4}, 0, 4)).isInstanceOf(InvalidBinlogException.class);
    assertThatThrownBy(() -> bad.update(d, 0, 1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("already failed");
  }

  @Test
  @DisplayName("reads a file through scan(Path) exactly as through update()")
  void scanPath() throws Exception {
    Path p = BinlogFixtures.dir().resolve("mysql/mysql-bin.checksum-none");
    assertThat(BinlogScanner.scan(p)).isEqualTo(BinlogFixtures.scan("mysql-bin.checksum-none", BinlogFixtures.read(p), 1 << 20, true));
  }
}
