package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Expected bytes written out by hand from the layout in MySQL's rpl_gtid_set.cc (encode, encode_nsids_format). */
@DisplayName("GTID sets for COM_BINLOG_DUMP_GTID")
class MySqlGtidSetEncodingTest {
  static final String UUID_HEX = "3e11fa4771ca11e19e33c80aa9429562";

  @Test
  @DisplayName("an untagged set: entry count, UUID, interval count, [start, end+1) pairs")
  void untagged() {
    String expected = "0100000000000000" + UUID_HEX + "0200000000000000"
        + "0100000000000000" + "0600000000000000" + "0700000000000000" + "0800000000000000";
    assertThat(HexFormat.of().formatHex(MySqlGtidSetEncoding.encode("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7")))
        .isEqualTo(expected);
  }

  @Test
  @DisplayName("the empty set is eight zero bytes")
  void empty() {
    assertThat(MySqlGtidSetEncoding.encode("")).containsExactly(new byte[8]);
  }

  @Test
  @DisplayName("a tagged set switches to the tagged format: format byte at both ends of the count, a tag per entry")
  void tagged() {
    String expected = "0102000000000001"
        + UUID_HEX + "00" + "0100000000000000" + "0100000000000000" + "0600000000000000"
        + UUID_HEX + "0a" + HexFormat.of().formatHex("tag_a".getBytes()) + "0100000000000000"
        + "0100000000000000" + "0400000000000000";
    assertThat(HexFormat.of().formatHex(
        MySqlGtidSetEncoding.encode("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:tag_a:1-3"))).isEqualTo(expected);
  }
}
