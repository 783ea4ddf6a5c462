package io.binlogarchive.binlog;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * An immutable set of global transaction identifiers, for MySQL or for MariaDB.
 *
 * <p>A set is a map from a <em>source</em> to a list of disjoint, inclusive intervals of sequence
 * numbers. Its text form, produced by {@link #toString()} and read by {@link #parse(String)}, is a
 * comma-separated list of sources, each followed by its intervals:
 *
 * <ul>
 *   <li><b>MySQL</b>: the server's own form, {@code 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100:105,
 *       4e11fa47-71ca-11e1-9e33-c80aa9429562:7}. The source is the server UUID (written in lower
 *       case). MySQL 8.4 tags are accepted: {@code uuid:1-5:tag_a:1-3} holds the untagged
 *       transactions 1-5 and the transactions 1-3 tagged {@code tag_a}. Sequence numbers run from 1
 *       to 2<sup>63</sup>-2.
 *   <li><b>MariaDB</b>: a MariaDB GTID is {@code domain-server-sequence}. In a set the source is
 *       {@code domain-server} and the sequence numbers follow as in MySQL's form, so the GTIDs
 *       {@code 0-3-1} to {@code 0-3-3476} are written {@code 0-3:1-3476}, and with a gap {@code
 *       0-3:1-10:12-20}. A plain MariaDB GTID {@code 0-3-1200} is accepted by {@link #parse} as the
 *       one-element set {@code 0-3:1200}. Sequence numbers run from 0 to 2<sup>63</sup>-2 (MariaDB's
 *       are unsigned 64-bit; larger ones are rejected).
 * </ul>
 *
 * <p>The canonical text orders sources (UUIDs and tags by string, MariaDB sources by domain then
 * server) and merges adjacent intervals, so two equal sets always print the same. A set never
 * mixes the two flavours; the empty set prints as the empty string and belongs to both.
 *
 * <p>(For maintainers: one value type of about 550 lines, in four parts: {@link #parse} and its
 * helpers, the set algebra, {@link #toString()} with the source order, and the package-private
 * {@code Builder} the scanner fills. Parsing and printing are the two directions of one grammar and
 * are read together; the builder stays nested because it hands its interval arrays to the private
 * constructor without a copy and reads other sets' arrays directly, which keeps the scanner's hot
 * path free of allocations.)
 */
public final class GtidSet {
  /** Largest sequence number accepted (one below {@code Long.MAX_VALUE} so {@code end + 1} never overflows). */
  public static final long MAX_SEQUENCE = Long.MAX_VALUE - 1;

  private static final Pattern UUID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final Pattern TAG = Pattern.compile("[a-z_][a-z0-9_]{0,31}");
  private static final Pattern MARIADB_GTID = Pattern.compile("(\\d{1,10})-(\\d{1,10})-(\\d{1,19})");
  private static final Pattern MARIADB_SOURCE = Pattern.compile("(\\d{1,10})-(\\d{1,10})");

  private static final GtidSet EMPTY = new GtidSet(new TreeMap<>(sourceOrder()));

  /** source key to flattened inclusive intervals {@code [s0, e0, s1, e1, ...]}, sorted, disjoint, non-adjacent */
  private final TreeMap<String, long[]> intervals;

  private GtidSet(TreeMap<String, long[]> intervals) {
    this.intervals = intervals;
  }

  /**
   * The empty set.
   *
   * @return a set with no GTIDs
   */
  public static GtidSet empty() {
    return EMPTY;
  }

  /**
   * Reads a set in the text form described on this class.
   *
   * @param text a GTID set; blank means the empty set; whitespace and newlines around elements are
   *     ignored (MySQL prints long sets over several lines)
   * @return the set
   * @throws IllegalArgumentException if the text is malformed or mixes MySQL and MariaDB GTIDs
   */
  public static GtidSet parse(String text) {
    Objects.requireNonNull(text, "text");
    Builder b = new Builder(Integer.MAX_VALUE, Integer.MAX_VALUE);
    for (String raw : text.split(",", -1)) {
      String element = raw.strip();
      if (element.isEmpty()) {
        if (text.isBlank()) {
          continue;
        }
        throw new IllegalArgumentException("empty element in GTID set '" + text + "'");
      }
      parseElement(element, text, b);
    }
    return b.build();
  }

  private static void parseElement(String element, String text, Builder b) {
    var single = MARIADB_GTID.matcher(element);
    if (single.matches()) {
      long seq = number(single.group(3), 0, element);
      b.add(mariaDbSource(single.group(1), single.group(2), element), seq, seq);
      return;
    }
    String[] parts = element.split(":", -1);
    if (parts.length < 2) {
      throw new IllegalArgumentException("'" + element + "' in GTID set '" + text + "' has no sequence numbers");
    }
    String head = parts[0].toLowerCase(Locale.ROOT);
    var md = MARIADB_SOURCE.matcher(head);
    if (md.matches()) {
      String source = mariaDbSource(md.group(1), md.group(2), element);
      for (int i = 1; i < parts.length; i++) {
        addInterval(b, source, parts[i], 0, element);
      }
      return;
    }
    if (!UUID.matcher(head).matches()) {
      throw new IllegalArgumentException("'" + parts[0] + "' in GTID set '" + text + "' is neither a server UUID nor a MariaDB domain-server pair");
    }
    String source = head;
    boolean needInterval = true;
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].strip();
      if (!p.isEmpty() && Character.isDigit(p.charAt(0))) {
        addInterval(b, source, p, 1, element);
        needInterval = false;
      } else {
        if (needInterval && i > 1) {
          throw new IllegalArgumentException("'" + element + "': no sequence numbers before tag '" + p + "'");
        }
        String tag = p.toLowerCase(Locale.ROOT);
        if (!TAG.matcher(tag).matches()) {
          throw new IllegalArgumentException("'" + element + "': '" + p + "' is neither an interval nor a valid tag");
        }
        source = head + ":" + tag;
        needInterval = true;
      }
    }
    if (needInterval) {
      throw new IllegalArgumentException("'" + element + "' ends without sequence numbers");
    }
  }

  private static void addInterval(Builder b, String source, String interval, long min, String element) {
    String p = interval.strip();
    int dash = p.indexOf('-');
    long start;
    long end;
    if (dash < 0) {
      start = end = number(p, min, element);
    } else {
      start = number(p.substring(0, dash), min, element);
      end = number(p.substring(dash + 1), min, element);
    }
    if (end < start) {
      throw new IllegalArgumentException("'" + element + "': interval '" + p + "' ends before it starts");
    }
    b.add(source, start, end);
  }

  private static long number(String s, long min, String element) {
    if (s.isEmpty() || s.length() > 19 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new IllegalArgumentException("'" + element + "': '" + s + "' is not a sequence number");
    }
    long v = Long.parseLong(s);
    if (v < min || v > MAX_SEQUENCE) {
      throw new IllegalArgumentException("'" + element + "': sequence number " + s + " is out of range " + min + ".." + MAX_SEQUENCE);
    }
    return v;
  }

  private static String mariaDbSource(String domain, String server, String element) {
    long d = Long.parseLong(domain);
    long s = Long.parseLong(server);
    if (d > 0xffffffffL || s > 0xffffffffL) {
      throw new IllegalArgumentException("'" + element + "': domain and server id must fit in 32 bits");
    }
    return mariaDbSource(d, s);
  }

  static String mariaDbSource(long domain, long server) {
    return domain + "-" + server;
  }

  static boolean isMariaDbSource(String source) {
    return source.indexOf(':') < 0 && source.length() <= 21 && source.chars().filter(c -> c == '-').count() == 1;
  }

  /**
   * Whether the set is empty.
   *
   * @return {@code true} if the set holds no GTID
   */
  public boolean isEmpty() {
    return intervals.isEmpty();
  }

  /**
   * Whether the set holds one GTID.
   *
   * @param gtid {@code uuid:n}, {@code uuid:tag:n} (MySQL) or {@code domain-server-seq} (MariaDB)
   * @return {@code true} if the GTID is in the set
   * @throws IllegalArgumentException if {@code gtid} is not a single GTID in one of those forms
   */
  public boolean contains(String gtid) {
    GtidSet one = parse(gtid);
    if (one.intervals.size() != 1) {
      throw new IllegalArgumentException("'" + gtid + "' is not a single GTID");
    }
    var e = one.intervals.firstEntry();
    if (e.getValue().length != 2 || e.getValue()[0] != e.getValue()[1]) {
      throw new IllegalArgumentException("'" + gtid + "' is not a single GTID");
    }
    return containsAll(one);
  }

  /**
   * Whether every GTID of another set is in this one.
   *
   * @param other a set
   * @return {@code true} if {@code other} is a subset of this set
   */
  public boolean containsAll(GtidSet other) {
    return other.subtract(this).isEmpty();
  }

  /**
   * The union of two sets.
   *
   * @param other another set of the same flavour (or empty)
   * @return a set holding the GTIDs of both
   * @throws IllegalArgumentException if one set holds MySQL and the other MariaDB GTIDs
   */
  public GtidSet union(GtidSet other) {
    if (other.isEmpty()) {
      return this;
    }
    if (isEmpty()) {
      return other;
    }
    Builder b = new Builder(Integer.MAX_VALUE, Integer.MAX_VALUE);
    b.addAll(this);
    b.addAll(other);
    return b.build();
  }

  /**
   * The GTIDs of this set that are not in another one.
   *
   * @param other a set
   * @return this set less {@code other}
   */
  public GtidSet subtract(GtidSet other) {
    TreeMap<String, long[]> out = new TreeMap<>(sourceOrder());
    for (var e : intervals.entrySet()) {
      long[] minus = other.intervals.get(e.getKey());
      long[] rest = minus == null ? e.getValue() : difference(e.getValue(), minus);
      if (rest.length > 0) {
        out.put(e.getKey(), rest);
      }
    }
    return out.isEmpty() ? EMPTY : new GtidSet(out);
  }

  /** For each source, the highest sequence number in the set. */
  public Map<String, Long> lastSequences() {
    Map<String, Long> out = new TreeMap<>(sourceOrder());
    intervals.forEach((k, v) -> out.put(k, v[v.length - 1]));
    return out;
  }

  /** Whether the set holds MariaDB GTIDs ({@code false} for the empty set). */
  public boolean isMariaDb() {
    return !isEmpty() && isMariaDbSource(intervals.firstKey());
  }

  private static long[] difference(long[] a, long[] b) {
    long[] out = new long[a.length + b.length];
    int n = 0;
    int j = 0;
    for (int i = 0; i < a.length; i += 2) {
      long s = a[i];
      long e = a[i + 1];
      while (j < b.length && b[j + 1] < s) {
        j += 2;
      }
      int k = j;
      while (s <= e && k < b.length && b[k] <= e) {
        if (b[k] > s) {
          out = ensure(out, n + 2);
          out[n++] = s;
          out[n++] = b[k] - 1;
        }
        s = Math.max(s, b[k + 1] + 1);
        if (b[k + 1] >= e) {
          break;
        }
        k += 2;
      }
      if (s <= e) {
        out = ensure(out, n + 2);
        out[n++] = s;
        out[n++] = e;
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static long[] ensure(long[] a, int size) {
    return a.length >= size ? a : Arrays.copyOf(a, Math.max(size, a.length * 2));
  }

  /**
   * The canonical text form described on this class.
   *
   * @return e.g. {@code uuid:1-100,uuid2:5} or {@code 0-3:1-3476}; the empty string for the empty set
   */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    String lastUuid = null;
    for (var e : intervals.entrySet()) {
      String key = e.getKey();
      if (isMariaDbSource(key)) {
        if (sb.length() > 0) {
          sb.append(',');
        }
        sb.append(key);
      } else {
        String uuid = key.substring(0, 36);
        if (!uuid.equals(lastUuid)) {
          if (sb.length() > 0) {
            sb.append(',');
          }
          sb.append(uuid);
          lastUuid = uuid;
        }
        if (key.length() > 36) {
          sb.append(key, 36, key.length());
        }
      }
      long[] v = e.getValue();
      for (int i = 0; i < v.length; i += 2) {
        sb.append(':').append(v[i]);
        if (v[i + 1] != v[i]) {
          sb.append('-').append(v[i + 1]);
        }
      }
    }
    return sb.toString();
  }

  /**
   * Two sets are equal when they hold the same GTIDs.
   *
   * @param o another object
   * @return whether {@code o} is a {@code GtidSet} with the same GTIDs
   */
  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof GtidSet other) || other.intervals.size() != intervals.size()) {
      return false;
    }
    for (var e : intervals.entrySet()) {
      if (!Arrays.equals(e.getValue(), other.intervals.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /**
   * A hash consistent with {@link #equals(Object)}.
   *
   * @return the hash code
   */
  @Override
  public int hashCode() {
    int h = 1;
    for (var e : intervals.entrySet()) {
      h = 31 * h + e.getKey().hashCode();
      h = 31 * h + Arrays.hashCode(e.getValue());
    }
    return h;
  }

  /**
   * Orders UUIDs (with their tags: untagged first) by string and MariaDB {@code domain-server}
   * sources numerically; MariaDB sources before MySQL ones (they never meet in one valid set).
   */
  private static Comparator<String> sourceOrder() {
    return (a, b) -> {
      boolean ma = isMariaDbSource(a);
      boolean mb = isMariaDbSource(b);
      if (ma && mb) {
        int da = a.indexOf('-');
        int db = b.indexOf('-');
        int c = Long.compare(Long.parseLong(a.substring(0, da)), Long.parseLong(b.substring(0, db)));
        return c != 0 ? c : Long.compare(Long.parseLong(a.substring(da + 1)), Long.parseLong(b.substring(db + 1)));
      }
      if (ma != mb) {
        return ma ? -1 : 1;
      }
      return a.compareTo(b);
    };
  }

  /**
   * A mutable set used while scanning: cheap appends of mostly increasing sequence numbers, and
   * caps on the number of sources and intervals so a hostile file cannot exhaust memory.
   */
  static final class Builder {
    private final int maxSources;
    private final int maxIntervals;
    private final Map<String, Intervals> lists = new HashMap<>();
    private final List<Intervals> unsorted = new ArrayList<>();
    private int totalIntervals;
    private String lastSource;
    private Intervals lastList;

    /** One source's intervals, flattened, in arrival order until compacted. */
    private static final class Intervals {
      long[] a = new long[4];
      int n;
      boolean unsorted;
    }

    /**
     * @param maxSources most distinct sources (UUID/tag or domain-server pairs) allowed
     * @param maxIntervals most intervals allowed over all sources
     */
    Builder(int maxSources, int maxIntervals) {
      this.maxSources = maxSources;
      this.maxIntervals = maxIntervals;
    }

    /**
     * Adds the inclusive interval {@code [start, end]} of {@code source}.
     *
     * @throws IllegalArgumentException if MySQL and MariaDB sources are mixed
     * @throws IllegalStateException if a cap is exceeded
     */
    void add(String source, long start, long end) {
      Intervals list;
      if (source.equals(lastSource)) {
        list = lastList;
      } else {
        list = lists.get(source);
        if (list == null) {
          if (lists.size() >= maxSources) {
            throw new IllegalStateException("more than " + maxSources + " distinct GTID sources");
          }
          if (!lists.isEmpty() && isMariaDbSource(source) != isMariaDbSource(lists.keySet().iterator().next())) {
            throw new IllegalArgumentException("a GTID set cannot mix MySQL and MariaDB GTIDs ('" + source + "')");
          }
          list = new Intervals();
          lists.put(source, list);
        }
        lastSource = source;
        lastList = list;
      }
      int n = list.n;
      if (n > 0) {
        long lastEnd = list.a[n - 1];
        if (start >= list.a[n - 2] && start <= lastEnd + 1) {
          // overlaps or extends the last interval: the common case for consecutive GTIDs
          if (end > lastEnd) {
            list.a[n - 1] = end;
          }
          return;
        }
        if (start <= lastEnd && !list.unsorted) {
          list.unsorted = true;
          unsorted.add(list);
        }
      }
      if (totalIntervals >= maxIntervals) {
        compact();
        if (totalIntervals >= maxIntervals) {
          throw new IllegalStateException("GTID set has more than " + maxIntervals + " intervals");
        }
        n = list.n;
      }
      if (n + 2 > list.a.length) {
        list.a = Arrays.copyOf(list.a, list.a.length * 2);
      }
      list.a[n] = start;
      list.a[n + 1] = end;
      list.n = n + 2;
      totalIntervals++;
    }

    void addAll(GtidSet set) {
      set.intervals.forEach(
          (k, v) -> {
            for (int i = 0; i < v.length; i += 2) {
              add(k, v[i], v[i + 1]);
            }
          });
    }

    private void compact() {
      for (Intervals list : unsorted) {
        long[] norm = normalize(Arrays.copyOf(list.a, list.n));
        totalIntervals -= list.n / 2 - norm.length / 2;
        list.a = norm.length == 0 ? new long[4] : norm;
        list.n = norm.length;
        list.unsorted = false;
      }
      unsorted.clear();
    }

    GtidSet build() {
      compact();
      if (lists.isEmpty()) {
        return EMPTY;
      }
      TreeMap<String, long[]> out = new TreeMap<>(sourceOrder());
      lists.forEach((k, v) -> out.put(k, Arrays.copyOf(v.a, v.n)));
      return new GtidSet(out);
    }

    boolean isEmpty() {
      return lists.isEmpty();
    }
  }

  /** Sorts flattened intervals by start and merges overlapping or adjacent ones. */
  static long[] normalize(long[] pairs) {
    int count = pairs.length / 2;
    Integer[] order = new Integer[count];
    for (int i = 0; i < count; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingLong(i -> pairs[2 * i]));
    long[] out = new long[pairs.length];
    int n = 0;
    for (int idx : order) {
      long s = pairs[2 * idx];
      long e = pairs[2 * idx + 1];
      if (n > 0 && s <= out[n - 1] + 1) {
        out[n - 1] = Math.max(out[n - 1], e);
      } else {
        out[n++] = s;
        out[n++] = e;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /** Unmodifiable view for tests. */
  Map<String, long[]> intervalsView() {
    return Collections.unmodifiableMap(intervals);
  }
}
