package io.binlogarchive.restore;

import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.internal.Segments;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.internal.binlog.GtidState;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One listing of an archive plus its sidecars: every file per timeline, what is wrong with each,
 * and the restorable windows. Built from the store's listing and sidecar documents only.
 *
 * <p>(For maintainers: about 520 lines in two halves of one value. {@link #read} makes the entries
 * in one pass over the listing: it sorts the objects by timeline and kind, loads the sidecars in
 * parallel, pairs artifacts with sidecars (reporting orphans and rewrap leftovers) and chains each
 * open file's segments. {@link #compute()} derives the problems and windows from the entries, and
 * runs again after verification marks an entry corrupt. Both work on the same entry lists that the
 * reader, verification, prune and rewrap read.)
 */
final class ArchiveSurvey {
  /** {@code <base>.<digits>} followed by extensions made of letters and digits starting with a letter. */
  private static final Pattern ARTIFACT_NAME = Pattern.compile("(.+\\.\\d+)((?:\\.[A-Za-z][A-Za-z0-9]*)+)");

  /** Loads one sidecar; verification substitutes a cached copy for unchanged ones. */
  interface SidecarLoader {
    Sidecar load(StoredObject sidecarObject) throws IOException;
  }

  /** One binlog file of one timeline, as the archive holds it. */
  static final class Entry {
    final String timeline;
    final String file;
    final long sequence;
    StoredObject sidecarObject;
    Sidecar sidecar;
    StoredObject artifact;
    ArchiveProblem problem;
    /**
     * For a binlog archived only as segments (it was open): the chain of segment sidecars from
     * offset 0, and {@link #sidecar} describes their union; {@code null} for a whole file.
     */
    List<Sidecar> segments;
    /** Every segment object of this binlog (chain or not), for retention. */
    List<String> segmentKeys = List.of();

    Entry(String timeline, String file) {
      this.timeline = timeline;
      this.file = file;
      this.sequence = BinlogNames.sequence(file);
    }

    boolean usable() {
      return problem == null && sidecar != null && artifact != null;
    }

    boolean partial() {
      return segments != null;
    }
  }

  final ArchiveLayout layout;
  final List<String> timelines = new ArrayList<>();
  final Map<String, List<Entry>> entries = new LinkedHashMap<>();
  final List<ArchiveProblem> problems = new ArrayList<>();
  final List<RestoreWindow> windows = new ArrayList<>();
  final List<List<Entry>> windowEntries = new ArrayList<>();
  final List<StoredObject> backupObjects = new ArrayList<>();
  /** Segment objects no restore needs (of files archived whole), for retention. */
  final List<String> leftoverSegmentKeys = new ArrayList<>();

  private ArchiveSurvey(ArchiveLayout layout) {
    this.layout = layout;
  }

  /**
   * Lists the archive and reads every sidecar (up to {@code pool}'s parallelism at once), then
   * computes problems and windows.
   */
  static ArchiveSurvey read(Sink sink, ArchiveLayout layout, SidecarLoader loader, ExecutorService pool)
      throws IOException {
    ArchiveSurvey s = new ArchiveSurvey(layout);
    String root = layout.root() + "/";
    TreeMap<Integer, Map<String, StoredObject>> byTimeline = new TreeMap<>();
    Map<String, List<StoredObject>> segmentObjects = new HashMap<>();
    for (StoredObject o : sink.list(root)) {
      String rest = o.key().substring(root.length());
      String[] parts = rest.split("/");
      if (parts.length == 2 && parts[0].equals("backups") && parts[1].endsWith(".json")) {
        s.backupObjects.add(o);
      } else if (parts.length == 3 && ArchiveLayout.TIMELINE.matcher(parts[0]).matches() && parts[1].equals("binlog")) {
        byTimeline.computeIfAbsent(ArchiveLayout.timelineNumber(parts[0]), k -> new TreeMap<>()).put(parts[2], o);
      } else if (parts.length == 3 && ArchiveLayout.TIMELINE.matcher(parts[0]).matches()
          && parts[1].equals("segments")) {
        byTimeline.computeIfAbsent(ArchiveLayout.timelineNumber(parts[0]), k -> new TreeMap<>());
        segmentObjects.computeIfAbsent(parts[0], k -> new ArrayList<>()).add(o);
      }
    }
    Map<String, Future<Sidecar>> segmentLoads = new HashMap<>();
    for (List<StoredObject> list : segmentObjects.values()) {
      for (StoredObject o : list) {
        if (o.key().endsWith(ArchiveLayout.SIDECAR_SUFFIX)) {
          segmentLoads.put(o.key(), pool.submit(() -> loader.load(o)));
        }
      }
    }
    Map<Entry, Future<Sidecar>> loads = new LinkedHashMap<>();
    Map<String, Map<String, StoredObject>> artifactsByTimeline = new HashMap<>();
    for (var t : byTimeline.entrySet()) {
      String timeline = ArchiveLayout.timelineName(t.getKey());
      s.timelines.add(timeline);
      Map<String, Entry> files = new TreeMap<>();
      Map<String, StoredObject> others = new TreeMap<>();
      for (var o : t.getValue().entrySet()) {
        String name = o.getKey();
        if (name.endsWith(ArchiveLayout.SIDECAR_SUFFIX)) {
          String file = name.substring(0, name.length() - ArchiveLayout.SIDECAR_SUFFIX.length());
          if (BinlogNames.sequence(file) < 0) {
            continue; // not ours
          }
          Entry e = new Entry(timeline, file);
          e.sidecarObject = o.getValue();
          files.put(file, e);
          loads.put(e, pool.submit(() -> loader.load(e.sidecarObject)));
        } else {
          others.put(o.getValue().key(), o.getValue());
        }
      }
      artifactsByTimeline.put(timeline, others);
      List<Entry> list = new ArrayList<>(files.values());
      s.entries.put(timeline, list);
    }
    for (var l : loads.entrySet()) {
      Entry e = l.getKey();
      try {
        e.sidecar = l.getValue().get();
      } catch (ExecutionException ex) {
        Throwable c = ex.getCause();
        if (c instanceof IntegrityException || c instanceof NotFoundException) {
          e.problem = new ArchiveProblem(ArchiveProblem.Kind.INVALID_SIDECAR, e.timeline, e.file, e.sidecarObject.key(),
              c.getMessage() + "; " + e.file + " cannot be restored");
        } else if (c instanceof IOException io) {
          throw io;
        } else if (c instanceof RuntimeException re) {
          throw re;
        } else {
          throw new IOException(c);
        }
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while reading sidecars", ex);
      }
    }
    for (String timeline : s.timelines) {
      Map<String, StoredObject> artifacts = artifactsByTimeline.get(timeline);
      Set<String> referenced = new HashSet<>();
      Map<String, Entry> byFile = new HashMap<>();
      for (Entry e : s.entries.get(timeline)) {
        byFile.put(e.file, e);
        if (e.sidecar == null) {
          continue;
        }
        Sidecar sc = e.sidecar;
        String expectedDir = layout.binlogDir(timeline);
        if (!sc.file().equals(e.file) || !sc.artifact().key().startsWith(expectedDir)
            || (sc.timeline() != null && !sc.timeline().equals(timeline))) {
          e.problem = new ArchiveProblem(ArchiveProblem.Kind.INVALID_SIDECAR, timeline, e.file, e.sidecarObject.key(),
              "sidecar " + e.sidecarObject.key() + " describes " + sc.file() + " in timeline " + sc.timeline()
                  + " with artifact " + sc.artifact().key() + ", not the file its key names");
          continue;
        }
        referenced.add(sc.artifact().key());
        e.artifact = artifacts.get(sc.artifact().key());
        if (e.artifact == null) {
          e.problem = new ArchiveProblem(ArchiveProblem.Kind.MISSING_ARTIFACT, timeline, e.file, sc.artifact().key(),
              "artifact " + sc.artifact().key() + " of " + e.file + " is missing (its sidecar exists)");
        } else if (e.artifact.size() != sc.artifact().size()) {
          e.problem = new ArchiveProblem(ArchiveProblem.Kind.CORRUPT_ARTIFACT, timeline, e.file, sc.artifact().key(),
              "artifact " + sc.artifact().key() + " holds " + e.artifact.size() + " bytes; its sidecar says "
                  + sc.artifact().size());
        } else {
          String sha = e.artifact.checksums().get("sha256");
          if (sha != null && sc.artifact().sha256() != null && !sha.equalsIgnoreCase(sc.artifact().sha256())) {
            e.problem = new ArchiveProblem(ArchiveProblem.Kind.CORRUPT_ARTIFACT, timeline, e.file, sc.artifact().key(),
                "the store reports SHA-256 " + sha + " for " + sc.artifact().key() + "; its sidecar says "
                    + sc.artifact().sha256());
          }
        }
      }
      List<Entry> list = s.entries.get(timeline);
      for (StoredObject o : artifacts.values()) {
        if (referenced.contains(o.key())) {
          continue;
        }
        String name = o.key().substring(o.key().lastIndexOf('/') + 1);
        Matcher m = ARTIFACT_NAME.matcher(name);
        if (name.startsWith(".") || !m.matches()) {
          continue; // not an artifact name
        }
        String file = m.group(1);
        ArchiveProblem p = new ArchiveProblem(ArchiveProblem.Kind.ORPHAN_ARTIFACT, timeline, file, o.key(),
            "artifact " + o.key() + " has no sidecar " + layout.sidecarKey(timeline, file)
                + " (an interrupted upload, or the sidecar was deleted); readers ignore it");
        Entry owner = byFile.get(file);
        if (owner != null && owner.sidecar == null && owner.problem != null && owner.artifact == null) {
          owner.artifact = o; // the artifact of an unreadable sidecar: that problem already names the file
          continue;
        }
        if (!byFile.containsKey(file)) {
          Entry e = new Entry(timeline, file);
          e.artifact = o;
          e.problem = p;
          byFile.put(file, e);
          list.add(e);
        } else {
          ArchiveProblem leftover = owner == null ? null : RewrapNames.leftover(owner.sidecar, owner.artifact, o);
          s.problems.add(leftover != null ? leftover : p);
        }
      }
      s.readSegments(timeline, segmentObjects.getOrDefault(timeline, List.of()), segmentLoads, byFile, list);
      list.sort(Comparator.comparingLong((Entry e) -> e.sequence).thenComparing(e -> e.file));
    }
    s.compute();
    return s;
  }

  /**
   * Adds an entry for every binlog of the timeline that has segments but no whole sidecar: the
   * chain of its segments from offset 0, up to the first gap (reported). Segments of files archived
   * whole, and segment objects without sidecars, are reported as leftovers.
   */
  private void readSegments(String timeline, List<StoredObject> objects, Map<String, Future<Sidecar>> loads,
      Map<String, Entry> byFile, List<Entry> list) throws IOException {
    for (var f : Segments.byFile(layout, timeline, objects).entrySet()) {
      String file = f.getKey();
      List<String> keys = new ArrayList<>(); // every sidecar, then every artifact: the order to delete them in
      List<String> artifactKeys = new ArrayList<>();
      for (Segments.Stored st : f.getValue().values()) {
        if (st.sidecar != null) {
          keys.add(st.sidecar.key());
        }
        for (StoredObject o : st.artifacts) {
          artifactKeys.add(o.key());
        }
      }
      keys.addAll(artifactKeys);
      Entry whole = byFile.get(file);
      if (whole != null && whole.sidecar == null && whole.problem != null
          && whole.problem.kind() == ArchiveProblem.Kind.ORPHAN_ARTIFACT) {
        // the whole file's upload was interrupted before its sidecar: its segments stand for it
        list.remove(whole);
        byFile.remove(file);
        problems.add(whole.problem);
        whole = null;
      }
      if (whole != null) {
        leftoverSegmentKeys.addAll(keys);
        problems.add(new ArchiveProblem(ArchiveProblem.Kind.SEGMENT_LEFTOVER, timeline, file,
            layout.segmentPrefix(timeline, file), keys.size() + " segment object(s) of " + file + " remain although it is"
                + " archived whole (an interrupted clean-up); restores do not use them and prune deletes them"));
        continue;
      }
      List<Sidecar> chain = new ArrayList<>();
      long end = 0;
      StoredObject lastSidecar = null;
      StoredObject lastArtifact = null;
      for (Segments.Stored st : f.getValue().values()) {
        if (st.sidecar == null) {
          for (StoredObject o : st.artifacts) {
            problems.add(new ArchiveProblem(ArchiveProblem.Kind.SEGMENT_LEFTOVER, timeline, file, o.key(),
                "segment " + o.key() + " has no sidecar (an interrupted upload); restores ignore it"));
          }
          continue;
        }
        String problem = null;
        ArchiveProblem.Kind kind = ArchiveProblem.Kind.SEGMENT_GAP;
        Sidecar sc = null;
        try {
          sc = await(loads.get(st.sidecar.key()));
        } catch (IntegrityException | NotFoundException x) {
          problem = "segment sidecar " + st.sidecar.key() + " is unreadable: " + x.getMessage();
        }
        if (problem == null) {
          if (sc.segment() == null || !sc.file().equals(file) || sc.segment().start() != st.start
              || !sc.artifact().key().startsWith(layout.segmentDir(timeline))) {
            problem = "segment sidecar " + st.sidecar.key() + " does not describe the segment its key names";
          } else if (st.artifact(sc.artifact().key()) == null) {
            kind = ArchiveProblem.Kind.MISSING_ARTIFACT;
            problem = "segment " + sc.artifact().key() + " of " + file + " is missing (its sidecar exists)";
          } else if (st.artifact(sc.artifact().key()).size() != sc.artifact().size()) {
            kind = ArchiveProblem.Kind.CORRUPT_ARTIFACT;
            problem = "segment " + sc.artifact().key() + " holds " + st.artifact(sc.artifact().key()).size()
                + " bytes; its sidecar says " + sc.artifact().size();
          } else if (sc.segment().start() != end) {
            problem = "the segments of " + file + " skip bytes [" + end + ", " + sc.segment().start() + "): the chain"
                + " ends at offset " + end + " before " + st.sidecar.key();
          }
        }
        if (problem != null) {
          problems.add(new ArchiveProblem(kind, timeline, file, st.sidecar.key(), problem
              + "; a restore reaches " + file + " offset " + end + " at most"));
          break;
        }
        StoredObject named = st.artifact(sc.artifact().key());
        for (StoredObject other : st.artifacts) {
          if (other != named) {
            ArchiveProblem rewrap = RewrapNames.leftover(sc, named, other);
            problems.add(rewrap != null ? rewrap : new ArchiveProblem(ArchiveProblem.Kind.SEGMENT_LEFTOVER, timeline, file,
                other.key(), "segment object " + other.key() + " is not the artifact its sidecar " + st.sidecar.key()
                    + " names (" + sc.artifact().key() + "); restores ignore it"));
          }
        }
        chain.add(sc);
        end = sc.segment().end();
        lastSidecar = st.sidecar;
        lastArtifact = named;
      }
      if (chain.isEmpty()) {
        continue;
      }
      Sidecar first = chain.get(0);
      Sidecar last = chain.get(chain.size() - 1);
      GtidSet gtids = GtidSet.parse("");
      for (Sidecar c : chain) {
        gtids = gtids.union(GtidSet.parse(c.segment().gtids() == null ? "" : c.segment().gtids()));
      }
      Entry e = new Entry(timeline, file);
      e.sidecarObject = lastSidecar;
      e.artifact = lastArtifact;
      e.segments = List.copyOf(chain);
      e.segmentKeys = List.copyOf(keys);
      e.sidecar = new Sidecar(last.formatVersion(), file, last.sequence(), last.serverId(), timeline, end, null,
          last.artifact(), last.binlog(), last.archivedAt(), last.archiver(),
          new Sidecar.Segment(0, end, gtids.toString(), first.segment().firstCommitTime(),
              last.segment().lastCommitTime()));
      byFile.put(file, e);
      list.add(e);
    }
  }

  private static Sidecar await(Future<Sidecar> f) throws IOException {
    try {
      return f.get();
    } catch (ExecutionException ex) {
      Throwable c = ex.getCause();
      if (c instanceof IOException io) {
        throw io;
      } else if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException(c);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading sidecars", ex);
    }
  }

  /** Marks an entry unusable (a checksum failure found by verification) and recomputes. */
  void markCorrupt(Entry e, ArchiveProblem p) {
    if (e.problem == null) {
      e.problem = p;
    }
  }

  /** Recomputes problems and windows from the entries' state. */
  void compute() {
    List<ArchiveProblem> extra = new ArrayList<>();
    for (ArchiveProblem p : problems) {
      if (p.kind() == ArchiveProblem.Kind.ORPHAN_ARTIFACT || p.kind() == ArchiveProblem.Kind.REWRAP_LEFTOVER
          || p.kind() == ArchiveProblem.Kind.SEGMENT_LEFTOVER || p.kind() == ArchiveProblem.Kind.SEGMENT_GAP
          || (p.objectKey() != null && p.objectKey().contains("/segments/"))) {
        extra.add(p); // orphans, rewrap and segment leftovers, segment chain problems: keep
      }
    }
    problems.clear();
    windows.clear();
    windowEntries.clear();
    String previousTimeline = null;
    for (String timeline : timelines) {
      List<Entry> list = entries.get(timeline);
      if (previousTimeline != null && !list.isEmpty()) {
        problems.add(new ArchiveProblem(ArchiveProblem.Kind.NEW_TIMELINE, timeline, list.get(0).file, null,
            "timeline " + timeline + " starts at " + list.get(0).file + " (the binlog sequence restarted: RESET MASTER"
                + " or a new server); a restore cannot cross from " + previousTimeline + " into it"));
      }
      previousTimeline = timeline;
      List<Entry> window = new ArrayList<>();
      Entry previous = null;
      for (Entry e : list) {
        if (previous != null && e.sequence > previous.sequence + 1) {
          String missing = e.sequence == previous.sequence + 2
              ? "sequence " + (previous.sequence + 1)
              : "sequences " + (previous.sequence + 1) + " to " + (e.sequence - 1);
          problems.add(new ArchiveProblem(ArchiveProblem.Kind.MISSING_FILE, timeline, null,
              layout.binlogDir(timeline),
              "timeline " + timeline + " has no " + missing + " between " + previous.file + " and " + e.file));
          close(window);
        }
        if (e.problem != null) {
          problems.add(e.problem);
          close(window);
        } else if (!e.usable()) {
          close(window);
        } else {
          if (!window.isEmpty()) {
            Entry last = window.get(window.size() - 1);
            Optional<String> gap = last.sequence == e.sequence - 1 ? continuity(last, e) : Optional.empty();
            if (gap.isEmpty() && last.partial() && !provesComplete(last)) {
              gap = Optional.of(last.file + " is archived only as segments up to offset " + last.sidecar.size()
                  + ", and nothing shows it ends there");
            }
            if (gap.isPresent()) {
              problems.add(new ArchiveProblem(ArchiveProblem.Kind.CHAIN_BREAK, timeline, e.file, e.sidecarObject.key(),
                  "GTID continuity breaks between " + last.file + " and " + e.file + ": " + gap.get()));
              close(window);
            }
          }
          window.add(e);
        }
        previous = e;
      }
      close(window);
    }
    problems.addAll(extra);
  }

  /**
   * Whether a binlog archived as segments is known to be complete where its chain ends: it ends
   * with its ROTATE (in-use flag clear), or it holds GTIDs, so the continuity check with the next
   * file proves nothing is missing in between.
   */
  private static boolean provesComplete(Entry partial) {
    BinlogInfo info = partial.sidecar.binlog();
    if (info == null) {
      return false;
    }
    GtidSet end = GtidState.end(info);
    return info.closed() || (end != null && !end.isEmpty());
  }

  private static Optional<String> continuity(Entry a, Entry b) {
    BinlogInfo x = a.sidecar.binlog();
    BinlogInfo y = b.sidecar.binlog();
    if (x == null || y == null) {
      return Optional.of("a sidecar has no binlog description");
    }
    return BinlogInfo.continuityProblem(x, y);
  }

  private void close(List<Entry> window) {
    if (window.isEmpty()) {
      return;
    }
    List<Entry> w = List.copyOf(window);
    window.clear();
    Entry first = w.get(0);
    Entry last = w.get(w.size() - 1);
    BinlogInfo fi = first.sidecar.binlog();
    BinlogInfo li = last.sidecar.binlog();
    boolean maria = GtidState.isMariaDb(li);
    windowEntries.add(w);
    windows.add(new RestoreWindow(first.timeline, first.file, last.file, w.size(),
        w.stream().mapToLong(e -> e.sidecar.size()).sum(), fi == null ? null : fi.firstEventTime(),
        li == null ? null : li.lastEventTime(), fi == null ? null : fi.previousGtids(),
        GtidState.text(GtidState.end(li), maria)));
  }

  /** The window an entry belongs to, or -1. */
  int windowOf(Entry e) {
    for (int i = 0; i < windowEntries.size(); i++) {
      if (windowEntries.get(i).contains(e)) {
        return i;
      }
    }
    return -1;
  }

  /** Every whole file's entry (binlogs archived only as segments are in {@link #partials()}). */
  List<Entry> all() {
    List<Entry> out = new ArrayList<>();
    entries.values().forEach(l -> l.stream().filter(e -> !e.partial()).forEach(out::add));
    return out;
  }

  /** The entries of binlogs archived only as segments. */
  List<Entry> partials() {
    List<Entry> out = new ArrayList<>();
    entries.values().forEach(l -> l.stream().filter(Entry::partial).forEach(out::add));
    return out;
  }

  String windowsText() {
    if (windows.isEmpty()) {
      return "the archive has no restorable window";
    }
    StringBuilder sb = new StringBuilder("restorable window(s): ");
    for (int i = 0; i < windows.size(); i++) {
      sb.append(i == 0 ? "" : "; ").append(windows.get(i));
    }
    return sb.toString();
  }
}
