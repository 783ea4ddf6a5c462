package io.binlogarchive.internal;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where things live in the store:
 *
 * <pre>
 * &lt;prefix&gt;/&lt;server-id&gt;/&lt;timeline&gt;/binlog/&lt;file&gt;&lt;ext&gt;   artifact
 * &lt;prefix&gt;/&lt;server-id&gt;/&lt;timeline&gt;/binlog/&lt;file&gt;.json    sidecar
 * &lt;prefix&gt;/&lt;server-id&gt;/&lt;timeline&gt;/segments/&lt;file&gt;.&lt;start&gt;&lt;ext&gt;   segment of an open binlog
 * &lt;prefix&gt;/&lt;server-id&gt;/&lt;timeline&gt;/segments/&lt;file&gt;.&lt;start&gt;.json    its sidecar
 * &lt;prefix&gt;/&lt;server-id&gt;/backups/&lt;name&gt;.json               base backup registry
 * </pre>
 *
 * <p>{@code <start>} is the segment's first byte offset in the binlog, zero-padded to 20 digits, so
 * a file's segments sort by offset; they live beside, never among, the whole files.
 */
public final class ArchiveLayout {
  public static final Pattern TIMELINE = Pattern.compile("t\\d{4,}");
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._:-]+");
  public static final String SIDECAR_SUFFIX = ".json";

  private final String root;

  public ArchiveLayout(String prefix, String serverId) {
    if (!SAFE.matcher(serverId).matches() || serverId.startsWith(".")) {
      throw new IllegalArgumentException("server id '" + serverId + "' may hold only letters, digits and . _ : -");
    }
    String p = normalizePrefix(prefix);
    this.root = p.isEmpty() ? serverId : p + "/" + serverId;
  }

  public static String normalizePrefix(String prefix) {
    String p = prefix == null ? "" : prefix.strip();
    while (p.startsWith("/")) {
      p = p.substring(1);
    }
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    for (String part : p.split("/", -1)) {
      if (!p.isEmpty() && (part.isEmpty() || part.equals(".") || part.equals(".."))) {
        throw new IllegalArgumentException("invalid archive prefix '" + prefix + "'");
      }
    }
    return p;
  }

  public String root() {
    return root;
  }

  public static String timelineName(int n) {
    return "t" + zeroPadded(n, 4);
  }

  /**
   * {@code n} as {@code %0<width>d} writes it, without {@code java.util.Formatter}: its first use
   * loads the JDK's locale data, a cost of a one-shot command's start-up (BENCHMARKS.md, issue 16).
   */
  static String zeroPadded(long n, int width) {
    if (n < 0) {
      return String.format(Locale.ROOT, "%0" + width + "d", n);
    }
    String digits = Long.toString(n);
    return digits.length() >= width ? digits : "0".repeat(width - digits.length()) + digits;
  }

  public static int timelineNumber(String name) {
    if (!TIMELINE.matcher(name).matches()) {
      throw new IllegalArgumentException("not a timeline name: " + name);
    }
    return Integer.parseInt(name.substring(1));
  }

  public String binlogDir(String timeline) {
    return root + "/" + timeline + "/binlog/";
  }

  public String artifactKey(String timeline, String file, String extension) {
    return binlogDir(timeline) + file + extension;
  }

  public String sidecarKey(String timeline, String file) {
    return binlogDir(timeline) + file + SIDECAR_SUFFIX;
  }

  public String segmentDir(String timeline) {
    return root + "/" + timeline + "/segments/";
  }

  /** The common prefix of one binlog's segment keys. */
  public String segmentPrefix(String timeline, String file) {
    return segmentDir(timeline) + file + ".";
  }

  public String segmentKey(String timeline, String file, long start, String extension) {
    return segmentPrefix(timeline, file) + zeroPadded(start, 20) + extension;
  }

  public String segmentSidecarKey(String timeline, String file, long start) {
    return segmentKey(timeline, file, start, SIDECAR_SUFFIX);
  }

  /** A segment object's name (after {@link #segmentDir}): the file, the start offset, the rest. */
  public static final Pattern SEGMENT_NAME = Pattern.compile("(.+\\.\\d+)\\.(\\d{20})((?:\\.[A-Za-z][A-Za-z0-9]*)*)");

  public String backupKey(String name) {
    return root + "/backups/" + name + ".json";
  }
}
