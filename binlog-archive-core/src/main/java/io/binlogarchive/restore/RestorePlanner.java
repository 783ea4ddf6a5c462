package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.internal.binlog.GtidState;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** Chooses the files of a restore from a survey (sidecars only). */
final class RestorePlanner {
  private RestorePlanner() {}

  /**
   * @param backupName the base backup's name, or null for an explicit start
   * @param start the start coordinates (a base backup or an explicit file and position)
   */
  static RestorePlan plan(ArchiveSurvey survey, String backupName, BaseBackup start, RestoreTarget target) {
    String what = backupName == null ? "start " + start.file() + ":" + start.position() : "base backup " + backupName
        + " (" + start.file() + ":" + start.position() + ")";
    ArchiveSurvey.Entry first = findStart(survey, start, what);
    int w = survey.windowOf(first);
    List<ArchiveSurvey.Entry> window = survey.windowEntries.get(w);
    RestoreWindow win = survey.windows.get(w);
    int from = window.indexOf(first);
    BinlogInfo firstInfo = first.sidecar.binlog();
    boolean maria = GtidState.isMariaDb(firstInfo);
    if (firstInfo != null && start.position() > firstInfo.endPosition()) {
      throw new ArchiveException("cannot plan from " + what + ": " + first.file + " is only " + firstInfo.endPosition()
          + " bytes long");
    }
    GtidSet startState = start.gtid() != null ? GtidSet.parse(start.gtid()) : GtidState.start(firstInfo);
    int to;
    Instant stopDatetime = null;
    long stopPosition = -1;
    String stopGtid = null;
    switch (target.kind()) {
      case TIME -> {
        Instant t = target.time();
        stopDatetime = t.plusSeconds(1);
        if (start.takenAt() != null && t.isBefore(start.takenAt().truncatedTo(ChronoUnit.SECONDS))) {
          throw new ArchiveException("cannot restore to " + t + ": it is before " + what + ", taken at "
              + start.takenAt());
        }
        if (firstInfo != null && firstInfo.firstEventTime() != null
            && t.isBefore(firstInfo.firstEventTime().truncatedTo(ChronoUnit.SECONDS))) {
          throw new ArchiveException("cannot restore to " + t + ": it is before " + first.file + " (the file of " + what
              + ") begins, at " + firstInfo.firstEventTime());
        }
        to = -1;
        for (int i = from; i < window.size(); i++) {
          BinlogInfo info = window.get(i).sidecar.binlog();
          if (info != null && info.lastEventTime() != null && !info.lastEventTime().isBefore(stopDatetime)) {
            to = i;
            break;
          }
        }
        if (to < 0) {
          throw beyond(survey, win, what, target, "the newest archived event of that window is at " + win.to()
              + "; events of the second " + t + " or later may still be in binlogs not archived yet");
        }
      }
      case GTID -> {
        GtidSet g = target.gtidSet();
        requireFlavor(g, maria, target);
        if (startState != null && GtidState.reached(startState, g, maria)) {
          throw new ArchiveException("cannot restore to " + target + ": " + what + " already includes it (GTID state ["
              + GtidState.text(startState, maria) + "])");
        }
        to = -1;
        for (int i = from; i < window.size(); i++) {
          if (GtidState.reached(GtidState.end(window.get(i).sidecar.binlog()), g, maria)) {
            to = i;
            break;
          }
        }
        if (to < 0) {
          throw beyond(survey, win, what, target, "that window ends at GTID state [" + win.endGtids() + "]");
        }
        stopGtid = g.toString();
      }
      case POSITION -> {
        to = -1;
        for (int i = from; i < window.size(); i++) {
          if (window.get(i).file.equals(target.file())) {
            to = i;
            break;
          }
        }
        if (to < 0) {
          throw beyond(survey, win, what, target, target.file() + " is not in that window after " + first.file);
        }
        BinlogInfo info = window.get(to).sidecar.binlog();
        if (info != null && target.position() > info.endPosition()) {
          throw new ArchiveException("cannot restore to " + target + ": " + target.file() + " is only "
              + info.endPosition() + " bytes long");
        }
        if (to == from && target.position() < start.position()) {
          throw new ArchiveException("cannot restore to " + target + ": it is before " + what);
        }
        stopPosition = target.position();
      }
      case LATEST -> to = window.size() - 1;
      default -> throw new IllegalStateException();
    }
    List<Sidecar> files = new ArrayList<>();
    long bytes = 0;
    for (int i = from; i <= to; i++) {
      files.add(window.get(i).sidecar);
      bytes += window.get(i).sidecar.size();
    }
    return new RestorePlan(first.timeline, backupName, first.file, start.position(),
        startState == null ? null : GtidState.text(startState, maria), target, files, bytes, stopDatetime, stopPosition,
        stopGtid, firstInfo == null ? null : firstInfo.flavor(), survey.windows, survey.problems);
  }

  /**
   * Plans from the newest of {@code backups} (oldest first) that precedes the target or, with none
   * registered, from the first archived file of a timeline; the plan says which. A backup whose
   * start file is not (or not yet) a restorable file of the archive is passed over, and the plan
   * says so.
   */
  static RestorePlan planFromNewestStart(ArchiveSurvey survey, List<BaseBackup> backups, RestoreTarget target) {
    if (backups.isEmpty()) {
      return planFromFirstFile(survey, target);
    }
    List<String> passed = new ArrayList<>();
    for (int i = backups.size() - 1; i >= 0; i--) {
      BaseBackup b = backups.get(i);
      ArchiveSurvey.Entry e;
      try {
        e = findStart(survey, b, "base backup " + b.name());
      } catch (NotFoundException x) {
        passed.add(b.name() + " (its start " + b.file() + " is not a restorable file of the archive)");
        continue;
      }
      String after = startsAfter(e.sidecar.binlog(), b, target);
      if (after == null) {
        return plan(survey, b.name(), b, target).withStartChoice("base backup " + b.name()
            + ", the newest registered one before the target"
            + (passed.isEmpty() ? "" : "; passed over: " + String.join("; ", passed)));
      }
      passed.add(b.name() + " " + after);
    }
    throw new ArchiveException("cannot choose a start for " + target + ": no registered base backup precedes it and"
        + " starts at an archived file (" + String.join("; ", passed) + "); name a start file and position instead");
  }

  /**
   * @param info the sidecar's binlog facts of the backup's start file
   * @return why {@code b} does not precede the target (it starts after it), or null if it does or cannot tell
   */
  private static String startsAfter(BinlogInfo info, BaseBackup b, RestoreTarget target) {
    switch (target.kind()) {
      case TIME -> {
        Instant t = target.time();
        if (b.takenAt() != null) {
          return b.takenAt().truncatedTo(ChronoUnit.SECONDS).isAfter(t) ? "(taken at " + b.takenAt() + ")" : null;
        }
        if (info != null && info.firstEventTime() != null
            && info.firstEventTime().truncatedTo(ChronoUnit.SECONDS).isAfter(t)) {
          return "(its file " + b.file() + " begins at " + info.firstEventTime() + ")";
        }
        return null;
      }
      case POSITION -> {
        long seq = BinlogNames.sequence(b.file());
        long targetSeq = BinlogNames.sequence(target.file());
        boolean after = seq > targetSeq || (seq == targetSeq && b.position() > target.position());
        return after ? "(at " + b.file() + ":" + b.position() + ")" : null;
      }
      case GTID -> {
        GtidSet state = b.gtid() != null ? GtidSet.parse(b.gtid()) : GtidState.start(info);
        GtidSet g = target.gtidSet();
        boolean maria = info != null ? GtidState.isMariaDb(info) : g.isMariaDb();
        if (state != null && !g.isEmpty() && g.isMariaDb() == maria && GtidState.reached(state, g, maria)) {
          return "(its GTID state [" + GtidState.text(state, maria) + "] already holds it)";
        }
        return null;
      }
      default -> {
        return null;
      }
    }
  }

  /**
   * No base backup is registered: plans from the start of the newest timeline's first archived
   * file, or, for a target that lies before that timeline, of an older timeline's.
   */
  private static RestorePlan planFromFirstFile(ArchiveSurvey survey, RestoreTarget target) {
    ArchiveException first = null;
    for (int i = survey.timelines.size() - 1; i >= 0; i--) {
      String t = survey.timelines.get(i);
      List<ArchiveSurvey.Entry> entries = survey.entries.get(t);
      if (entries.isEmpty()) {
        continue;
      }
      String file = entries.get(0).file;
      try {
        return plan(survey, null, new BaseBackup("start", file, 4, null, null, t), target)
            .withStartChoice("the first archived file of timeline " + t + ", as no base backup is registered");
      } catch (ArchiveException x) {
        if (first == null) {
          first = x;
        }
        if (target.kind() == RestoreTarget.Kind.LATEST) {
          break; // the latest point is on the newest timeline or nowhere
        }
      }
    }
    if (first != null) {
      throw first;
    }
    throw new NotFoundException("cannot plan a restore to " + target + ": the archive holds no binlog; "
        + survey.windowsText());
  }

  private static void requireFlavor(GtidSet g, boolean maria, RestoreTarget target) {
    if (!g.isEmpty() && g.isMariaDb() != maria) {
      throw new IllegalArgumentException("target " + target + " is a " + (g.isMariaDb() ? "MariaDB" : "MySQL")
          + " GTID, but the archive holds " + (maria ? "MariaDB" : "MySQL") + " binlogs");
    }
  }

  private static ArchiveException beyond(ArchiveSurvey survey, RestoreWindow win, String what, RestoreTarget target,
      String why) {
    StringBuilder sb = new StringBuilder("cannot restore from " + what + " to " + target + ": it lies beyond the window "
        + win + " that the start is in; " + why + ".");
    for (ArchiveProblem p : survey.problems) {
      if (p.breaksWindow() && p.timeline() != null && p.timeline().equals(win.timeline())) {
        sb.append(" Problem: ").append(p.message()).append('.');
      }
    }
    sb.append(' ').append(survey.windowsText());
    return new ArchiveException(sb.toString());
  }

  static ArchiveSurvey.Entry findStart(ArchiveSurvey survey, BaseBackup start, String what) {
    List<String> timelines = new ArrayList<>(survey.timelines);
    java.util.Collections.reverse(timelines);
    ArchiveSurvey.Entry fallback = null;
    List<String> notes = new ArrayList<>();
    for (String t : timelines) {
      if (start.timeline() != null && !start.timeline().equals(t)) {
        continue;
      }
      for (ArchiveSurvey.Entry e : survey.entries.get(t)) {
        if (!e.file.equals(start.file())) {
          continue;
        }
        if (!e.usable() || survey.windowOf(e) < 0) {
          notes.add(e.problem == null ? e.file + " in " + t + " is not restorable" : e.problem.message());
          continue;
        }
        if (start.gtid() == null) {
          return e;
        }
        BinlogInfo info = e.sidecar.binlog();
        boolean maria = GtidState.isMariaDb(info);
        GtidSet g = GtidSet.parse(start.gtid());
        GtidSet s = GtidState.start(info);
        GtidSet end = GtidState.end(info);
        if (s != null && end != null && (g.isEmpty() || g.isMariaDb() == maria)
            && GtidState.reached(g, s, maria) && GtidState.reached(end, g, maria)) {
          return e;
        }
        notes.add(e.file + " in " + t + " runs from GTID state [" + GtidState.text(s, maria) + "] to ["
            + GtidState.text(end, maria) + "], which does not hold [" + start.gtid() + "]");
        if (fallback == null) {
          fallback = e;
        }
      }
    }
    if (fallback != null && start.timeline() != null) {
      return fallback;
    }
    throw new NotFoundException("cannot plan from " + what + ": " + start.file() + " is not a restorable file of the"
        + " archive" + (start.timeline() == null ? "" : " timeline " + start.timeline())
        + (notes.isEmpty() ? "" : " (" + String.join("; ", notes) + ")") + "; " + survey.windowsText());
  }
}
