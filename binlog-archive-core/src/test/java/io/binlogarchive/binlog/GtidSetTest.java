package io.binlogarchive.binlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@DisplayName("GtidSet")
class GtidSetTest {
  static final String A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  static final String B = "4e11fa47-71ca-11e1-9e33-c80aa9429562";

  @Nested
  @DisplayName("MySQL form")
  class MySql {
    @Test
    @DisplayName("prints intervals merged, sources sorted and UUIDs in lower case")
    void canonicalForm() {
      GtidSet s = GtidSet.parse(B + ":7, " + A.toUpperCase() + ":1-3:4-10:12\n");
      assertThat(s).hasToString(A + ":1-10:12," + B + ":7");
    }

    @Test
    @DisplayName("round-trips the canonical text")
    void roundTrip() {
      String text = A + ":1-100:105," + B + ":5";
      assertThat(GtidSet.parse(text)).hasToString(text).isEqualTo(GtidSet.parse(text));
    }

    @Test
    @DisplayName("unites overlapping and adjacent intervals")
    void union() {
      GtidSet u = GtidSet.parse(A + ":1-5:20").union(GtidSet.parse(A + ":6-9," + B + ":1"));
      assertThat(u).hasToString(A + ":1-9:20," + B + ":1");
    }

    @Test
    @DisplayName("answers membership of single GTIDs")
    void contains() {
      GtidSet s = GtidSet.parse(A + ":1-100:105");
      assertThat(s.contains(A + ":1")).isTrue();
      assertThat(s.contains(A + ":100")).isTrue();
      assertThat(s.contains(A + ":101")).isFalse();
      assertThat(s.contains(A + ":105")).isTrue();
      assertThat(s.contains(B + ":1")).isFalse();
    }

    @Test
    @DisplayName("reads MySQL 8.4 tags as separate sources of the same UUID")
    void tags() {
      GtidSet s = GtidSet.parse(A + ":1-5:Tag_B:3:tag_a:1-2");
      assertThat(s).hasToString(A + ":1-5:tag_a:1-2:tag_b:3");
      assertThat(s.contains(A + ":tag_a:2")).isTrue();
      assertThat(s.contains(A + ":tag_b:1")).isFalse();
      assertThat(s.contains(A + ":3")).isTrue();
      assertThat(GtidSet.parse(A + ":tag_a:1")).hasToString(A + ":tag_a:1");
    }

    @Test
    @DisplayName("unites, subtracts and compares tagged GTIDs apart from the untagged ones of the same UUID")
    void tagArithmetic() {
      GtidSet start = GtidSet.parse(A + ":1-13:tag1:1-2");
      GtidSet end = start.union(GtidSet.parse(A + ":tag1:3-5," + B + ":tag1:1"));
      assertThat(end).hasToString(A + ":1-13:tag1:1-5," + B + ":tag1:1");
      assertThat(end.subtract(start)).hasToString(A + ":tag1:3-5," + B + ":tag1:1");
      assertThat(end.subtract(GtidSet.parse(A + ":1-13:3-5"))).hasToString(A + ":tag1:1-5," + B + ":tag1:1");
      assertThat(end.containsAll(GtidSet.parse(A + ":tag1:1-5"))).isTrue();
      assertThat(end.containsAll(GtidSet.parse(A + ":tag1:6"))).isFalse();
      assertThat(end.containsAll(GtidSet.parse(A + ":14"))).isFalse();
      assertThat(GtidSet.parse(A + ":tag1:1-5")).isNotEqualTo(GtidSet.parse(A + ":1-5"));
    }

    @Test
    @DisplayName("knows subsets")
    void containsAll() {
      GtidSet big = GtidSet.parse(A + ":1-100," + B + ":1-3");
      assertThat(big.containsAll(GtidSet.parse(A + ":5-10:50," + B + ":2"))).isTrue();
      assertThat(big.containsAll(GtidSet.parse(A + ":99-101"))).isFalse();
      assertThat(big.containsAll(GtidSet.empty())).isTrue();
    }

    @Test
    @DisplayName("subtracts interval by interval")
    void subtract() {
      GtidSet s = GtidSet.parse(A + ":1-100");
      assertThat(s.subtract(GtidSet.parse(A + ":1-10:20-30:100"))).hasToString(A + ":11-19:31-99");
      assertThat(s.subtract(GtidSet.parse(A + ":1-200"))).isEqualTo(GtidSet.empty());
    }
  }

  @Nested
  @DisplayName("MariaDB form")
  class MariaDb {
    @Test
    @DisplayName("writes the GTIDs 0-3-1 to 0-3-3476 as 0-3:1-3476")
    void rangeForm() {
      assertThat(GtidSet.parse("0-3-1").union(GtidSet.parse("0-3:2-3476"))).hasToString("0-3:1-3476");
    }

    @Test
    @DisplayName("accepts plain MariaDB GTIDs and orders domains and servers numerically")
    void plainGtids() {
      GtidSet s = GtidSet.parse("10-1-5,2-3-7,2-20-1,2-3-8");
      assertThat(s).hasToString("2-3:7-8,2-20:1,10-1:5");
    }

    @Test
    @DisplayName("answers membership of a restore target like 0-3-1200")
    void contains() {
      GtidSet s = GtidSet.parse("0-3:1-3476");
      assertThat(s.contains("0-3-1200")).isTrue();
      assertThat(s.contains("0-3-3477")).isFalse();
      assertThat(s.contains("0-4-1200")).isFalse();
      assertThat(s.contains("1-3-1200")).isFalse();
    }
  }

  @Test
  @DisplayName("the empty set prints as the empty string and parses back")
  void empty() {
    assertThat(GtidSet.parse("")).isEqualTo(GtidSet.empty()).hasToString("");
    assertThat(GtidSet.parse("  ").isEmpty()).isTrue();
    assertThat(GtidSet.empty().union(GtidSet.parse("0-1-1"))).hasToString("0-1:1");
  }

  @Test
  @DisplayName("refuses to mix MySQL and MariaDB GTIDs")
  void mixing() {
    assertThatThrownBy(() -> GtidSet.parse(A + ":1,0-1-1")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mix");
    assertThatThrownBy(() -> GtidSet.parse(A + ":1").union(GtidSet.parse("0-1-1"))).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "rejects \"{0}\"")
  @ValueSource(strings = {
      "abc", A, A + ":", A + ":0", A + ":5-3", A + ":1-", A + ":x-1", A + ":1,,", "0-1", "0-1-", "0-1-a",
      "0-1:5-3", "4294967296-1-1", A + ":9223372036854775807", A + ":1:bad-tag!:1", A + ":tag", A + "::1",
      "3e11fa47-71ca-11e1-9e33-c80aa942956:1"})
  @DisplayName("rejects malformed text with IllegalArgumentException")
  void malformed(String text) {
    assertThatThrownBy(() -> GtidSet.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  @DisplayName("contains() wants exactly one GTID")
  void containsNeedsOne() {
    assertThatThrownBy(() -> GtidSet.empty().contains(A + ":1-2")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GtidSet.empty().contains("0-1:1,0-2:1")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  @DisplayName("the scanning builder enforces its caps on sources and intervals")
  void builderCaps() {
    GtidSet.Builder b = new GtidSet.Builder(2, 3);
    b.add("0-1", 1, 1);
    b.add("0-2", 1, 1);
    assertThatThrownBy(() -> b.add("0-3", 1, 1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("sources");
    b.add("0-1", 5, 5);
    assertThatThrownBy(() -> b.add("0-1", 9, 9)).isInstanceOf(IllegalStateException.class).hasMessageContaining("intervals");
  }

  @Test
  @DisplayName("the scanning builder sorts GTIDs that arrive out of order")
  void builderOutOfOrder() {
    GtidSet.Builder b = new GtidSet.Builder(10, 100);
    for (long n : new long[] {5, 6, 1, 2, 3, 10, 4, 9}) {
      b.add(A, n, n);
    }
    assertThat(b.build()).hasToString(A + ":1-6:9-10");
  }
}
