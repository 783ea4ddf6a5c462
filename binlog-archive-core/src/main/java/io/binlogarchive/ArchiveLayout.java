package io.binlogarchive;

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
final class ArchiveLayout {
  static final Pattern TIMELINE = Pattern.compile("t\\d{4,}");
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._:-]+");
  static final String SIDECAR_SUFFIX = ".json";

  private final String root;

  ArchiveLayout(String prefix, String serverId) {
    if (!SAFE.matcher(serverId).matches() || serverId.startsWith(".")) {
      throw new IllegalArgumentException("server id '" + serverId + "' may hold only letters, digits and . _ : -");
    }
    String p = normalizePrefix(prefix);
    this.root = p.isEmpty() ? serverId : p + "/" + serverId;
  }

  static String normalizePrefix(String prefix) {
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

  String root() {
    return root;
  }

  static String timelineName(int n) {
    return String.format(Locale.ROOT, "t%04d", n);
  }

  static int timelineNumber(String name) {
    if (!TIMELINE.matcher(name).matches()) {
      throw new IllegalArgumentException("not a timeline name: " + name);
    }
    return Integer.parseInt(name.substring(1));
  }

  String binlogDir(String timeline) {
    return root + "/" + timeline + "/binlog/";
  }

  String artifactKey(String timeline, String file, String extension) {
    return binlogDir(timeline) + file + extension;
  }

  String sidecarKey(String timeline, String file) {
    return binlogDir(timeline) + file + SIDECAR_SUFFIX;
  }

  String segmentDir(String timeline) {
    return root + "/" + timeline + "/segments/";
  }

  /** The common prefix of one binlog's segment keys. */
  String segmentPrefix(String timeline, String file) {
    return segmentDir(timeline) + file + ".";
  }

  String segmentKey(String timeline, String file, long start, String extension) {
    return segmentPrefix(timeline, file) + String.format(Locale.ROOT, "%020d", start) + extension;
  }

  String segmentSidecarKey(String timeline, String file, long start) {
    return segmentKey(timeline, file, start, SIDECAR_SUFFIX);
  }

  /** A segment object's name (after {@link #segmentDir}): the file, the start offset, the rest. */
  static final Pattern SEGMENT_NAME = Pattern.compile("(.+\\.\\d+)\\.(\\d{20})((?:\\.[A-Za-z][A-Za-z0-9]*)*)");

  String backupKey(String name) {
    return root + "/backups/" + name + ".json";
  }
}
