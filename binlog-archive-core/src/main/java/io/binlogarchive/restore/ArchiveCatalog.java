package io.binlogarchive.restore;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.Sidecar;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Reads what one server's archive holds, from listings and sidecars only (no artifact downloads).
 */
public final class ArchiveCatalog {
  private final Sink sink;
  private final ArchiveLayout layout;

  private ArchiveCatalog(Sink sink, ArchiveLayout layout) {
    this.sink = sink;
    this.layout = layout;
  }

  /**
   * @param sink the store
   * @param prefix the archive's key prefix ({@code ""} for none)
   * @param serverId the server's archive name
   * @return the catalog
   */
  public static ArchiveCatalog of(Sink sink, String prefix, String serverId) {
    return new ArchiveCatalog(Objects.requireNonNull(sink, "sink"), new ArchiveLayout(prefix, serverId));
  }

  /**
   * @param sink the store
   * @param prefix a key prefix
   * @return the server ids that have an archive under the prefix
   * @throws IOException if the store cannot be listed
   */
  public static List<String> serverIds(Sink sink, String prefix) throws IOException {
    String p = ArchiveLayout.normalizePrefix(prefix);
    String start = p.isEmpty() ? "" : p + "/";
    TreeSet<String> ids = new TreeSet<>();
    for (StoredObject o : sink.list(start)) {
      String[] parts = o.key().substring(start.length()).split("/");
      if (parts.length >= 4 && ArchiveLayout.TIMELINE.matcher(parts[1]).matches() && parts[2].equals("binlog")) {
        ids.add(parts[0]);
      }
    }
    return List.copyOf(ids);
  }

  /**
   * @return the timelines, oldest first
   * @throws IOException if the store cannot be listed
   */
  public List<String> timelines() throws IOException {
    String root = layout.root() + "/";
    TreeSet<Integer> numbers = new TreeSet<>();
    for (StoredObject o : sink.list(root)) {
      String rest = o.key().substring(root.length());
      int slash = rest.indexOf('/');
      if (slash > 0 && ArchiveLayout.TIMELINE.matcher(rest.substring(0, slash)).matches()) {
        numbers.add(ArchiveLayout.timelineNumber(rest.substring(0, slash)));
      }
    }
    List<String> out = new ArrayList<>();
    numbers.forEach(n -> out.add(ArchiveLayout.timelineName(n)));
    return out;
  }

  /**
   * @param timeline a timeline name
   * @return every object stored in the timeline's binlog directory, sorted by key
   * @throws IOException if the store cannot be listed
   */
  public List<StoredObject> objects(String timeline) throws IOException {
    return sink.list(layout.binlogDir(timeline));
  }

  /**
   * Reads every sidecar of a timeline.
   *
   * @param timeline a timeline name
   * @return the sidecars in sequence order
   * @throws IntegrityException if a sidecar is unreadable (naming it)
   * @throws IOException if the store cannot be read
   */
  public List<Sidecar> sidecars(String timeline) throws IOException {
    List<Sidecar> out = new ArrayList<>();
    for (StoredObject o : objects(timeline)) {
      if (o.key().endsWith(ArchiveLayout.SIDECAR_SUFFIX)) {
        out.add(readSidecar(o.key()));
      }
    }
    out.sort(Comparator.comparingLong(Sidecar::sequence));
    return out;
  }

  /**
   * @param key a sidecar's key
   * @return the sidecar
   * @throws IntegrityException if it is not a valid sidecar
   * @throws NotFoundException if it does not exist
   * @throws IOException if it cannot be read
   */
  public Sidecar readSidecar(String key) throws IOException {
    try (InputStream in = sink.open(key)) {
      return Sidecar.parse(in.readNBytes(4 << 20), key);
    }
  }

  /** @return the archive's root key ({@code <prefix>/<server-id>}) */
  public String root() {
    return layout.root();
  }

  /** @return the store */
  public Sink sink() {
    return sink;
  }

  ArchiveLayout layout() {
    return layout;
  }
}
