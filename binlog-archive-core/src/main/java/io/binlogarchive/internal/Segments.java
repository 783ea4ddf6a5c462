package io.binlogarchive.internal;

import io.binlogarchive.RetryPolicy;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;

/** Lists and removes the segment objects of one timeline (see {@link ArchiveLayout#segmentDir}). */
public final class Segments {
  private Segments() {}

  /**
   * One segment's objects: its sidecar and its artifact, either possibly missing. A key rotation
   * that stopped halfway may leave two artifacts (another rewrap generation, {@code .k<N>}): the
   * sidecar names the one that counts.
   */
  public static final class Stored {
    public final String file;
    public final long start;
    public StoredObject sidecar;
    /** The first artifact listed (the only one, but after an interrupted rewrap). */
    public StoredObject artifact;
    /** Every artifact listed for this start, in listing order. */
    public final List<StoredObject> artifacts = new ArrayList<>();

    Stored(String file, long start) {
      this.file = file;
      this.start = start;
    }

    /** @return the listed artifact with this key, or null */
    public StoredObject artifact(String key) {
      for (StoredObject o : artifacts) {
        if (o.key().equals(key)) {
          return o;
        }
      }
      return null;
    }
  }

  /**
   * Groups segment objects by binlog file, each file's segments by start offset; objects whose
   * names are not segment names are left out.
   *
   * @param objects a listing of (part of) a timeline's segment directory
   */
  public static Map<String, TreeMap<Long, Stored>> byFile(ArchiveLayout layout, String timeline, List<StoredObject> objects) {
    String dir = layout.segmentDir(timeline);
    Map<String, TreeMap<Long, Stored>> out = new TreeMap<>();
    for (StoredObject o : objects) {
      if (!o.key().startsWith(dir)) {
        continue;
      }
      String name = o.key().substring(dir.length());
      Matcher m = ArchiveLayout.SEGMENT_NAME.matcher(name);
      if (name.contains("/") || name.startsWith(".") || !m.matches() || BinlogNames.sequence(m.group(1)) < 0) {
        continue;
      }
      long start = Long.parseLong(m.group(2));
      Stored s = out.computeIfAbsent(m.group(1), f -> new TreeMap<>()).computeIfAbsent(start, x -> new Stored(m.group(1), start));
      if (m.group(3).equals(ArchiveLayout.SIDECAR_SUFFIX)) {
        s.sidecar = o;
      } else {
        if (s.artifact == null) {
          s.artifact = o;
        }
        s.artifacts.add(o);
      }
    }
    return out;
  }

  /**
   * Deletes every segment of {@code file} in {@code timeline}: all sidecars first, then the
   * artifacts, so a crash halfway leaves only objects that readers ignore.
   *
   * @return how many objects were deleted
   */
  public static int remove(Sink sink, RetryPolicy retryPolicy, ArchiveLayout layout, String timeline, String file)
      throws IOException {
    String prefix = layout.segmentPrefix(timeline, file);
    List<StoredObject> listed = retryPolicy.call("list " + prefix, () -> sink.list(prefix));
    List<String> sidecars = new ArrayList<>();
    List<String> artifacts = new ArrayList<>();
    for (Stored s : byFile(layout, timeline, listed).getOrDefault(file, new TreeMap<>()).values()) {
      if (s.sidecar != null) {
        sidecars.add(s.sidecar.key());
      }
      for (StoredObject o : s.artifacts) {
        artifacts.add(o.key());
      }
    }
    List<String> all = new ArrayList<>(sidecars);
    all.addAll(artifacts);
    for (String k : all) {
      retryPolicy.call("delete " + k, () -> {
        sink.delete(k);
        return null;
      });
    }
    return all.size();
  }
}
