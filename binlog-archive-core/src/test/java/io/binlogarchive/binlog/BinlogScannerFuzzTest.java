package io.binlogarchive.binlog;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.InvalidBinlogException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Mutates the real fixtures (bit flips, truncation, splices, deletions, duplicated events, extreme
 * size fields, garbage) and checks that each mutant ends in a documented outcome only: a {@link
 * BinlogInfo}, an {@link InvalidBinlogException} or an {@link IntegrityException}. Seeded, so a
 * failure names the case that reproduces it.
 */
@DisplayName("BinlogScanner under fuzzing")
class BinlogScannerFuzzTest {
  static final long SEED = 0x5eed_b1_9_10_9L;
  static final int CASES = 12_000;

  @Test
  @DisplayName("ends every one of 12,000 mutated fixtures in a BinlogInfo or a documented exception")
  void mutants() {
    List<byte[]> corpus = new ArrayList<>();
    for (Path p : BinlogFixtures.singles()) {
      corpus.add(BinlogFixtures.read(p));
    }
    List<Path> chain = BinlogFixtures.chain();
    corpus.add(BinlogFixtures.read(chain.get(12))); // 176 KB, GTID_LIST and many GTID events
    corpus.add(Arrays.copyOf(BinlogFixtures.read(chain.get(1)), 60_000)); // a truncated chain file

    int infos = 0;
    int invalid = 0;
    int integrity = 0;
    for (int i = 0; i < CASES; i++) {
      SplittableRandom r = new SplittableRandom(SEED + i);
      byte[] base = corpus.get(r.nextInt(corpus.size()));
      StringBuilder how = new StringBuilder();
      byte[] mutant = mutate(base, corpus, r, how);
      boolean failOnChecksum = r.nextBoolean();
      try {
        BinlogScanner s = new BinlogScanner("fuzz-" + i, failOnChecksum);
        int off = 0;
        while (off < mutant.length) {
          int n = Math.min(mutant.length - off, 1 + r.nextInt(r.nextBoolean() ? 64 : 70_000));
          s.update(mutant, off, n);
          off += n;
        }
        BinlogInfo info = s.finish();
        assertThat(info.endPosition()).isEqualTo(mutant.length);
        assertThat(info.eventCount()).isPositive();
        infos++;
      } catch (InvalidBinlogException e) {
        assertThat(e.getMessage()).startsWith("fuzz-" + i + ":");
        invalid++;
      } catch (IntegrityException e) {
        assertThat(failOnChecksum).isTrue();
        assertThat(e.getMessage()).startsWith("fuzz-" + i + ":").contains("offset");
        integrity++;
      } catch (Throwable t) {
        fail("case " + i + " (seed " + (SEED + i) + ", " + how + ") ended in an undocumented " + t, t);
      }
    }
    // each documented outcome must actually be reached, or the mutations are too tame or too wild
    assertThat(infos).as("results").isGreaterThan(CASES / 50);
    assertThat(invalid).as("invalid").isGreaterThan(CASES / 10);
    assertThat(integrity).as("checksum failures").isGreaterThan(CASES / 20);
  }

  static byte[] mutate(byte[] base, List<byte[]> corpus, SplittableRandom r, StringBuilder how) {
    byte[] d = base.clone();
    int rounds = 1 + (r.nextInt(4) == 0 ? r.nextInt(3) : 0);
    for (int k = 0; k < rounds; k++) {
      List<Integer> events = BinlogFixtures.eventOffsets(d);
      int kind = r.nextInt(9);
      how.append(kind).append(' ');
      switch (kind) {
        case 0 -> { // flip a few bits anywhere
          for (int j = 1 + r.nextInt(4); j > 0 && d.length > 0; j--) {
            d[r.nextInt(d.length)] ^= (byte) (1 << r.nextInt(8));
          }
        }
        case 1 -> { // flip a bit in an event header or just after it, where the parsed fields are
          if (!events.isEmpty()) {
            int e = events.get(r.nextInt(events.size()));
            int at = Math.min(d.length - 1, e + r.nextInt(80));
            d[at] ^= (byte) (1 << r.nextInt(8));
          }
        }
        case 2 -> d = Arrays.copyOf(d, r.nextInt(d.length + 1)); // truncate
        case 3 -> { // splice a slice of any fixture in at an event boundary or anywhere
          byte[] src = corpus.get(r.nextInt(corpus.size()));
          int from = r.nextInt(src.length);
          int len = Math.min(src.length - from, 1 + r.nextInt(2000));
          int at = events.isEmpty() || r.nextBoolean() ? r.nextInt(d.length + 1) : events.get(r.nextInt(events.size()));
          d = insert(d, at, Arrays.copyOfRange(src, from, from + len));
        }
        case 4 -> { // delete a range
          if (d.length > 0) {
            int from = r.nextInt(d.length);
            int len = Math.min(d.length - from, 1 + r.nextInt(500));
            byte[] out = new byte[d.length - len];
            System.arraycopy(d, 0, out, 0, from);
            System.arraycopy(d, from + len, out, from, d.length - from - len);
            d = out;
          }
        }
        case 5 -> { // duplicate a whole event (positions then disagree)
          if (events.size() > 1) {
            int idx = r.nextInt(events.size() - 1);
            int s = events.get(idx);
            int e = Math.min(events.get(idx + 1), d.length);
            d = insert(d, e, Arrays.copyOfRange(d, s, e));
          }
        }
        case 6 -> { // an extreme value in a size, position, count or sequence field
          if (!events.isEmpty()) {
            int e = events.get(r.nextInt(events.size()));
            int[] fields = {9, 13, 19, 23, 27, 36, 40};
            int at = e + fields[r.nextInt(fields.length)];
            long[] values = {0, 1, 18, 19, 23, 0x7fffffffL, 0xffffffffL, 0x80000000L, 0x00ff0000L};
            long v = values[r.nextInt(values.length)];
            for (int b = 0; b < 4 && at + b < d.length; b++) {
              d[at + b] = (byte) (v >>> (8 * b));
            }
          }
        }
        case 7 -> { // overwrite with random garbage
          if (d.length > 0) {
            int from = r.nextInt(d.length);
            int len = Math.min(d.length - from, 1 + r.nextInt(300));
            for (int j = 0; j < len; j++) {
              d[from + j] = (byte) r.nextInt(256);
            }
          }
        }
        default -> { // change an event's type
          if (!events.isEmpty()) {
            int e = events.get(r.nextInt(events.size()));
            if (e + 4 < d.length) {
              int[] types = {0, 1, 2, 3, 4, 15, 16, 33, 34, 35, 40, 42, 99, 160, 161, 162, 163, 164, 200, 255};
              d[e + 4] = (byte) types[r.nextInt(types.length)];
            }
          }
        }
      }
    }
    return d;
  }

  static byte[] insert(byte[] d, int at, byte[] piece) {
    byte[] out = new byte[d.length + piece.length];
    System.arraycopy(d, 0, out, 0, at);
    System.arraycopy(piece, 0, out, at, piece.length);
    System.arraycopy(d, at, out, at + piece.length, d.length - at);
    return out;
  }
}
