package io.binlogarchive.restore;

import io.binlogarchive.Sidecar;
import io.binlogarchive.internal.binlog.BinlogNames;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parity check for migrations: compares two archives, or an archive and a {@code sha256sum}-style
 * manifest of another pipeline ({@code <hex>  <filename>} lines), by binlog file name and plaintext
 * SHA-256, and lists every difference. Reads sidecars only, never artifacts.
 *
 * <pre>{@code
 * Map<String, String> ours = ArchiveComparison.manifest(ArchiveCatalog.of(sink, "", "db1"), null);
 * Map<String, String> theirs = ArchiveComparison.parseManifest(Files.newBufferedReader(path));
 * List<ArchiveComparison.Difference> diff = ArchiveComparison.compare(ours, theirs);
 * }</pre>
 */
public final class ArchiveComparison {
  private static final Pattern LINE = Pattern.compile("^\\\\?([0-9a-fA-F]{64}) [ *](.+)$");

  /** How one file differs. */
  public enum Kind {
    /** Only the right side has it. */
    MISSING_LEFT,
    /** Only the left side has it. */
    MISSING_RIGHT,
    /** Both have it, with different SHA-256. */
    DIFFERENT_SHA256
  }

  /**
   * One difference.
   *
   * @param file the binlog name
   * @param kind how it differs
   * @param left the left side's SHA-256, or null
   * @param right the right side's SHA-256, or null
   */
  public record Difference(String file, Kind kind, String left, String right) {
    @Override
    public String toString() {
      return switch (kind) {
        case MISSING_LEFT -> file + ": missing on the left (right " + right + ")";
        case MISSING_RIGHT -> file + ": missing on the right (left " + left + ")";
        case DIFFERENT_SHA256 -> file + ": SHA-256 differs (left " + left + ", right " + right + ")";
      };
    }
  }

  private ArchiveComparison() {}

  /**
   * @param catalog one server's archive
   * @param timeline the timeline to read, or null for the newest (names repeat across timelines)
   * @return binlog file name to plaintext SHA-256 (lower-case hex), in sequence order
   * @throws IOException if the store cannot be read
   */
  public static Map<String, String> manifest(ArchiveCatalog catalog, String timeline) throws IOException {
    Objects.requireNonNull(catalog, "catalog");
    String t = timeline;
    if (t == null) {
      List<String> all = catalog.timelines();
      if (all.isEmpty()) {
        return Map.of();
      }
      t = all.get(all.size() - 1);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Sidecar s : catalog.sidecars(t)) {
      out.put(s.file(), s.sha256().toLowerCase(Locale.ROOT));
    }
    return out;
  }

  /**
   * Reads {@code sha256sum} output: {@code <64 hex>  <path>} (text mode) or {@code <64 hex> *<path>}
   * (binary mode). Only the path's file name counts; lines naming something other than a binlog
   * ({@code <basename>.<digits>}, e.g. the {@code .index} file) and blank lines are ignored.
   *
   * @param reader the manifest
   * @return binlog file name to SHA-256 (lower-case hex)
   * @throws IllegalArgumentException naming the first malformed line, or a file listed twice with
   *     different checksums
   * @throws IOException if it cannot be read
   */
  public static Map<String, String> parseManifest(Reader reader) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    BufferedReader r = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
    String line;
    int n = 0;
    while ((line = r.readLine()) != null) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      Matcher m = LINE.matcher(line.strip());
      if (!m.matches()) {
        throw new IllegalArgumentException("manifest line " + n + " is not '<sha256 hex>  <file>': " + line);
      }
      String path = m.group(2);
      String name = path.substring(path.lastIndexOf('/') + 1);
      if (!BinlogNames.isPlainFileName(name) || BinlogNames.sequence(name) < 0) {
        continue;
      }
      String sha = m.group(1).toLowerCase(Locale.ROOT);
      String before = out.put(name, sha);
      if (before != null && !before.equals(sha)) {
        throw new IllegalArgumentException("manifest line " + n + " lists " + name + " again with another SHA-256");
      }
    }
    return out;
  }

  /**
   * @param left file name to SHA-256
   * @param right file name to SHA-256
   * @return every difference, in binlog sequence order; empty when both hold the same files with the
   *     same content
   */
  public static List<Difference> compare(Map<String, String> left, Map<String, String> right) {
    TreeSet<String> names = new TreeSet<>(
        Comparator.comparingLong((String s) -> Math.max(BinlogNames.sequence(s), 0)).thenComparing(s -> s));
    names.addAll(left.keySet());
    names.addAll(right.keySet());
    List<Difference> out = new ArrayList<>();
    for (String name : names) {
      String l = left.get(name);
      String r = right.get(name);
      if (l == null) {
        out.add(new Difference(name, Kind.MISSING_LEFT, null, r));
      } else if (r == null) {
        out.add(new Difference(name, Kind.MISSING_RIGHT, l, null));
      } else if (!l.equalsIgnoreCase(r)) {
        out.add(new Difference(name, Kind.DIFFERENT_SHA256, l, r));
      }
    }
    return out;
  }
}
