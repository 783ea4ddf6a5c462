package io.binlogarchive.internal;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where things live in the store:
 *
 * <pre>
 * &lt;prefix&gt;/&lt;server-id&gt;/&lt;timeline&gt;/binlog/&lt;file&gt;&lt;ext&gt;   artifact
 * &lt;prefix&gt;/&lt;server-id&gt;/&lt;timeline&gt;/binlog/&lt;file&gt;.json    sidecar
 * &lt;prefix&gt;/&lt;server-id&gt;/backups/&lt;name&gt;.json               base backup registry
 * </pre>
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
    return String.format(Locale.ROOT, "t%04d", n);
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

  public String backupKey(String name) {
    return root + "/backups/" + name + ".json";
  }
}
