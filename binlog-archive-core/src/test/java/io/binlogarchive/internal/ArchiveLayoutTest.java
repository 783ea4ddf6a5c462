package io.binlogarchive.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/** Key and timeline names keep the form {@code %0<width>d} gives them, without going through the Formatter. */
class ArchiveLayoutTest {
  @Test
  void zeroPaddedAsFormatWritesIt() {
    for (long n : new long[] {0, 1, 9, 10, 999, 1000, 9999, 10000, 123456, Integer.MAX_VALUE, Long.MAX_VALUE, -1, -12345,
        Long.MIN_VALUE}) {
      assertThat(ArchiveLayout.zeroPadded(n, 4)).isEqualTo(String.format(Locale.ROOT, "%04d", n));
      assertThat(ArchiveLayout.zeroPadded(n, 20)).isEqualTo(String.format(Locale.ROOT, "%020d", n));
    }
    assertThat(ArchiveLayout.timelineName(1)).isEqualTo("t0001");
    assertThat(ArchiveLayout.timelineName(12345)).isEqualTo("t12345");
  }
}
