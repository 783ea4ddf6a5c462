package io.binlogarchive.binlog;

import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.internal.binlog.TaggedGtidCodec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tagged GTIDs (MySQL 8.3+) on real bytes: a MySQL 9.6.0 binlog (src/test/resources/binlogs,
 * provenance in its README) and a Percona Server 8.4.11 GTID_TAGGED_LOG_EVENT body.
 */
@DisplayName("BinlogScanner on tagged GTIDs")
class BinlogScannerTaggedGtidTest {
  static final String UUID = "55778904-0299-11f1-b1b8-4ef0c4956feb";
  /** Offsets in the 9.6.0 fixture. */
  static final int PREVIOUS = 127;
  static final int TAGGED = 245;
  static final int TAGGED_BODY = TAGGED + 19;
  static final int TAGGED_BODY_LEN = 60;

  /**
   * The body (checksum stripped) of a GTID_TAGGED_LOG_EVENT written by Percona Server 8.4.11-11 for
   * {@code 77d1902c-01da-11f1-9a41-908d6e5f6e8d:test_tag:1}, {@code transaction_length} 337. From
   * github.com/abychko/binlog-streamer, storage/tests/cBinlogTailScannerTest.cpp
   * (REAL_TAGGED_GTID_BODY), commit 4dfb5e4a100512dbde1aea643744b79d7713d962; test data only.
   */
  static final byte[] PERCONA_84_BODY = HexFormat.of().parseHex(
      "027c00000202ee450341025802690322c50369028241023502dcbedc3502"
          + "04040610746573745f74616708000a040c7f003e8900fa5b0610450512dbd009");

  static byte[] fixture() {
    try (InputStream in = BinlogScannerTaggedGtidTest.class.getResourceAsStream("/binlogs/binlog_transaction_with_GTID_TAG.000001")) {
      if (in == null) {
        throw new IllegalStateException("fixture binlogs/binlog_transaction_with_GTID_TAG.000001 not on the test class path");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static BinlogInfo scan(byte[] data) {
    return BinlogFixtures.scan("f.000001", data, 1000, true);
  }

  /** The fixture with one event's bytes changed and its CRC32 recomputed. */
  static byte[] patched(int event, Consumer<byte[]> change) {
    byte[] d = fixture();
    change.accept(d);
    BinlogScannerMalformedInputTest.fixCrc(d, event);
    return d;
  }

  static AbstractThrowableAssert<?, ? extends Throwable> rejects(byte[] d, int offset) {
    return assertThatThrownBy(() -> scan(d))
        .isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("f.000001")
        .hasMessageContaining("offset " + offset);
  }

  @Test
  @DisplayName("reads the tagged PREVIOUS_GTIDS set and the tagged GTID of a MySQL 9.6.0 binlog")
  void realFile() {
    BinlogInfo info = scan(fixture());
    assertThat(info.serverVersion()).isEqualTo("9.6.0");
    assertThat(info.checksumFailures()).isZero();
    assertThat(info.previousGtids()).isEqualTo(UUID + ":1-13:mytag:1-2");
    assertThat(info.gtids()).isEqualTo(UUID + ":mytag:3");
    assertThat(info.unparsedGtidEventCount()).isZero();
    assertThat(info.unknownEventCount()).isZero();
    assertThat(info.transactionCount()).isEqualTo(1);
    assertThat(info.closed()).isTrue();
  }

  @Test
  @DisplayName("times the transaction by the tagged event's immediate_commit_timestamp, to the microsecond")
  void commitTime() {
    BinlogInfo info = scan(fixture());
    Instant t = Instant.ofEpochSecond(1770368687L, 207196000L);
    assertThat(info.firstCommitTime()).isEqualTo(t);
    assertThat(info.lastCommitTime()).isEqualTo(t);
  }

  @ParameterizedTest(name = "chunks of {0} bytes")
  @ValueSource(ints = {1, 2, 3, 7, 64, 4096})
  @DisplayName("gives the same result whatever the chunk sizes the file is fed in")
  void chunkSizes(int chunk) {
    assertThat(BinlogFixtures.scan("f.000001", fixture(), chunk, true)).isEqualTo(scan(fixture()));
  }

  @Test
  @DisplayName("vouches for continuity into a file whose PREVIOUS_GTIDS adds the tagged GTID")
  void continuity() {
    BinlogInfo first = scan(fixture());
    BinlogInfo next = withPrevious(first, UUID + ":1-13:mytag:1-3");
    assertThat(BinlogInfo.continuityProblem(first, next)).isEmpty();
    BinlogInfo gap = withPrevious(first, UUID + ":1-13:mytag:1-4");
    assertThat(BinlogInfo.continuityProblem(first, gap)).isPresent();
    BinlogInfo untagged = withPrevious(first, UUID + ":1-14:mytag:1-2");
    assertThat(BinlogInfo.continuityProblem(first, untagged)).isPresent();
  }

  static BinlogInfo withPrevious(BinlogInfo i, String previous) {
    return new BinlogInfo(i.flavor(), i.serverVersion(), i.binlogVersion(), i.checksumAlgorithm(), i.inUse(), i.closed(),
        i.firstEventTime(), i.lastEventTime(), i.firstCommitTime(), i.lastCommitTime(), previous, "", i.serverIds(),
        i.eventCount(), i.transactionCount(), i.compressedTransactionCount(), i.unknownEventCount(), i.checksumFailures(),
        i.endPosition(), i.unparsedGtidEventCount());
  }

  @Test
  @DisplayName("decodes a GTID_TAGGED_LOG_EVENT body written by Percona Server 8.4.11")
  void percona84() {
    TaggedGtidCodec.TaggedGtid g = TaggedGtidCodec.decodeEvent(PERCONA_84_BODY, PERCONA_84_BODY.length);
    assertThat(HexFormat.of().formatHex(g.uuid())).isEqualTo("77d1902c01da11f19a41908d6e5f6e8d");
    assertThat(g.tag()).isEqualTo("test_tag");
    assertThat(g.gno()).isEqualTo(1);
    assertThat(g.immediateCommitMicros()).isEqualTo(0x065bfa00893e00L);
  }

  @Nested
  @DisplayName("an encoding newer than MySQL 9.x writes")
  class Newer {
    @Test
    @DisplayName("counts a GTID_TAGGED_LOG_EVENT of serialization version 2 as a transaction it did not decode")
    void version() {
      BinlogInfo info = scan(patched(TAGGED, d -> d[TAGGED_BODY] = 0x04));
      assertThat(info.unparsedGtidEventCount()).isEqualTo(1);
      assertThat(info.transactionCount()).isEqualTo(1);
      assertThat(info.gtids()).isEmpty();
      assertThat(BinlogInfo.continuityProblem(info, info)).hasValueSatisfying(p -> assertThat(p).contains("cannot verify"));
    }

    @Test
    @DisplayName("counts a GTID_TAGGED_LOG_EVENT declaring a non-ignorable field it does not know as not decoded")
    void unknownField() {
      BinlogInfo info = scan(patched(TAGGED, d -> d[TAGGED_BODY + 2] = 13 << 1));
      assertThat(info.unparsedGtidEventCount()).isEqualTo(1);
      assertThat(info.gtids()).isEmpty();
    }

    @Test
    @DisplayName("counts a PREVIOUS_GTIDS event of format 2 as not decoded")
    void previousFormat() {
      BinlogInfo info = scan(patched(PREVIOUS, d -> d[PREVIOUS + 19 + 7] = 2));
      assertThat(info.unparsedGtidEventCount()).isEqualTo(1);
      assertThat(info.previousGtids()).isNull();
      assertThat(info.gtids()).isEqualTo(UUID + ":mytag:3");
    }
  }

  @Nested
  @DisplayName("a malformed GTID_TAGGED_LOG_EVENT")
  class MalformedTagged {
    @Test
    @DisplayName("is rejected when its message size disagrees with the event's body")
    void messageSize() {
      rejects(patched(TAGGED, d -> d[TAGGED_BODY + 1] = (byte) (61 << 1)), TAGGED)
          .hasMessageContaining("GTID_TAGGED_LOG_EVENT")
          .hasMessageContaining("declares 61 bytes, but the event body holds 60");
    }

    @Test
    @DisplayName("is rejected when its tag declares more than 32 bytes")
    void tagTooLong() {
      int tagLength = indexOf(fixture(), "mytag", TAGGED_BODY) - 1;
      rejects(patched(TAGGED, d -> d[tagLength] = (byte) (40 << 1)), TAGGED).hasMessageContaining("at most 32");
    }

    @Test
    @DisplayName("is rejected when its tag runs past the end of the body")
    void tagPastEnd() {
      int tagLength = indexOf(fixture(), "mytag", TAGGED_BODY) - 1;
      rejects(patched(TAGGED, d -> d[tagLength] = (byte) (30 << 1)), TAGGED).hasMessageContaining("only 25 remain");
    }

    @Test
    @DisplayName("is rejected when its tag is not a valid tag")
    void tagCharacters() {
      int tag = indexOf(fixture(), "mytag", TAGGED_BODY);
      rejects(patched(TAGGED, d -> d[tag + 2] = '-'), TAGGED).hasMessageContaining("not a valid tag");
    }

    @Test
    @DisplayName("is rejected when its last integer's length runs past the end of the body")
    void integerPastEnd() {
      rejects(patched(TAGGED, d -> d[TAGGED_BODY + TAGGED_BODY_LEN - 3] = (byte) 0xff), TAGGED)
          .hasMessageContaining("takes 9 bytes, but only 3 remain");
    }

    @Test
    @DisplayName("is rejected when a UUID byte holds a value above 255")
    void uuidByte() {
      // body offset 8-9 is the two-byte form of the UUID's third byte, 0x89
      rejects(patched(TAGGED, d -> d[TAGGED_BODY + 9] = (byte) 0xff), TAGGED).hasMessageContaining("maximum 255");
    }

    @Test
    @DisplayName("is rejected when its transaction number is 0")
    void gnoZero() {
      int tagLength = indexOf(fixture(), "mytag", TAGGED_BODY) - 1;
      // the gno value sits two bytes before the tag's field id
      rejects(patched(TAGGED, d -> d[tagLength - 2] = 0), TAGGED).hasMessageContaining("transaction number 0");
    }

    @Test
    @DisplayName("is rejected, not buffered, when it declares a body of megabytes")
    void absurdSize() {
      byte[] d = fixture();
      BinlogScannerMalformedInputTest.putU32(d, TAGGED + 9, 5 << 20);
      BinlogScannerMalformedInputTest.putU32(d, TAGGED + 13, 0);
      rejects(d, TAGGED).hasMessageContaining("more than the scanner's limit of " + BinlogScanner.MAX_TAGGED_GTID_BODY);
    }

    @Test
    @DisplayName("cut short at any byte, fails with InvalidBinlogException or still yields its GTID, never anything else")
    void truncatedBodies() {
      byte[] d = fixture();
      for (int n = 0; n < TAGGED_BODY_LEN; n++) {
        byte[] cut = Arrays.copyOf(d, TAGGED_BODY + n + 4);
        cut[TAGGED_BODY + 1] = (byte) (n << 1); // the message size follows the cut
        System.arraycopy(new byte[4], 0, cut, TAGGED_BODY + n, 4);
        BinlogScannerMalformedInputTest.putU32(cut, TAGGED + 9, 19 + n + 4);
        BinlogScannerMalformedInputTest.putU32(cut, TAGGED + 13, TAGGED + 19 + n + 4);
        fixCrc(cut, TAGGED, 19 + n + 4);
        int length = n;
        try {
          BinlogInfo info = scan(cut);
          // a cut between fields leaves optional ones out; without its tag field a GTID is untagged
          assertThat(info.gtids()).as("cut at %d", length).isIn(UUID + ":3", UUID + ":mytag:3");
        } catch (InvalidBinlogException e) {
          assertThat(e.getMessage()).contains("f.000001", "offset " + TAGGED);
        }
      }
      byte[] insideTag = Arrays.copyOf(d, TAGGED_BODY + 36 + 4);
      insideTag[TAGGED_BODY + 1] = (byte) (36 << 1);
      BinlogScannerMalformedInputTest.putU32(insideTag, TAGGED + 9, 19 + 36 + 4);
      BinlogScannerMalformedInputTest.putU32(insideTag, TAGGED + 13, 0);
      fixCrc(insideTag, TAGGED, 19 + 36 + 4);
      rejects(insideTag, TAGGED).hasMessageContaining("field 3 (tag)").hasMessageContaining("remain");
    }

    @Test
    @DisplayName("with any one byte of its body changed, fails with InvalidBinlogException or decodes, never anything else")
    void everyByte() {
      byte[] d = fixture();
      for (int i = 0; i < TAGGED_BODY_LEN; i++) {
        for (int v = 0; v < 256; v++) {
          byte[] m = d.clone();
          m[TAGGED_BODY + i] = (byte) v;
          BinlogScannerMalformedInputTest.fixCrc(m, TAGGED);
          try {
            scan(m);
          } catch (InvalidBinlogException e) {
            assertThat(e.getMessage()).contains("f.000001", "offset " + TAGGED);
          }
        }
      }
    }
  }

  @Nested
  @DisplayName("a malformed tagged PREVIOUS_GTIDS event")
  class MalformedPrevious {
    @Test
    @DisplayName("is rejected when a tag declares more than 32 bytes")
    void tagTooLong() {
      int tagLength = indexOf(fixture(), "mytag", PREVIOUS) - 1;
      rejects(patched(PREVIOUS, d -> d[tagLength] = (byte) (63 << 1)), PREVIOUS)
          .hasMessageContaining("PREVIOUS_GTIDS_LOG_EVENT")
          .hasMessageContaining("the tag of UUID number 2")
          .hasMessageContaining("at most 32");
    }

    @Test
    @DisplayName("is rejected when a tag runs past the end of the event")
    void tagPastEnd() {
      int tagLength = indexOf(fixture(), "mytag", PREVIOUS) - 1;
      rejects(patched(PREVIOUS, d -> d[tagLength] = (byte) (31 << 1)), PREVIOUS).hasMessageContaining("remain");
    }

    @Test
    @DisplayName("is rejected when it lists more sources than the scanner's limit")
    void manySources() {
      rejects(patched(PREVIOUS, d -> {
            d[PREVIOUS + 19 + 1] = 0;
            d[PREVIOUS + 19 + 4] = 1; // 2^24 sources in bits 8..55
          }), PREVIOUS)
          .hasMessageContaining("more than the limit of " + BinlogScanner.MAX_GTID_SOURCES);
    }

    @Test
    @DisplayName("is rejected when it ends inside a source's entry")
    void moreSourcesThanBytes() {
      rejects(patched(PREVIOUS, d -> d[PREVIOUS + 19 + 1] = 3), PREVIOUS).hasMessageContaining("ends inside the entry of UUID number 3");
    }
  }

  static int indexOf(byte[] d, String ascii, int from) {
    byte[] needle = ascii.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    outer:
    for (int i = from; i <= d.length - needle.length; i++) {
      for (int k = 0; k < needle.length; k++) {
        if (d[i + k] != needle[k]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalArgumentException(ascii + " not found after " + from);
  }

  static void fixCrc(byte[] b, int off, int size) {
    CRC32 c = new CRC32();
    c.update(b, off, size - 4);
    BinlogScannerMalformedInputTest.putU32(b, off + size - 4, c.getValue());
  }
}
