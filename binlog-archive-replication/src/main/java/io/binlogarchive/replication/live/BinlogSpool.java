package io.binlogarchive.replication.live;

import io.binlogarchive.replication.internal.BinlogEvents;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the server's binlog files, byte for byte, from the replication stream, in one directory
 * with a {@code <basename>.index} kept as the server keeps its own.
 *
 * <ul>
 *   <li>The artificial ROTATE (flag {@code LOG_EVENT_ARTIFICIAL_F}) names the file; it is not written.
 *       A new file gets the magic {@code fe 62 69 6e}; the format description is written only right
 *       after it (the one the server re-sends on a resume is dropped).
 *   <li>Every other event must end where its header's {@code log_pos} says, so nothing is skipped or
 *       written twice; artificial events and those with {@code log_pos} 0 are not part of the file.
 *   <li>A real ROTATE is written and closes the file (fsync). A file the server left without one
 *       (restart) is closed when the stream names the next.
 *   <li>{@link #rewind()} (after a lost connection) and {@link #open} (after a restart) truncate the
 *       open file to its last transaction boundary; the stream resumes there.
 * </ul>
 *
 * <p>(For maintainers: one class of about 500 lines because recovery, the stream and durability
 * share the state of the open file: its channel, length, last transaction boundary, durable and
 * acknowledged positions, and the transaction tracker. Recovery rebuilds exactly that state from the
 * directory; the stream moves it; syncing, acks and rewind read it. Its parts follow in that order.)
 */
final class BinlogSpool implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(BinlogSpool.class);
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.\\-]*\\.[0-9]+");

  private final Path dir;
  private final FsyncPolicy policy;
  private final SpoolListener listener;
  private final LongSupplier nanoClock;
  private final TransactionTracker tracker = new TransactionTracker();

  private Path index;
  private String name;
  private FileChannel file;
  private boolean closed;
  private boolean crc;
  private boolean streamCrc;
  private long length;
  private long boundary;
  private Instant boundaryTime;
  private long durable;
  private boolean unreported;
  private long lastSync;
  private String ackFile;
  private long ackPosition = -1;
  private volatile long heartbeats;
  private volatile SpoolPosition published;

  private BinlogSpool(Path dir, FsyncPolicy policy, SpoolListener listener, LongSupplier nanoClock) {
    this.dir = dir;
    this.policy = policy;
    this.listener = listener;
    this.nanoClock = nanoClock;
    this.lastSync = nanoClock.getAsLong();
  }

  /**
   * Opens the spool in {@code dir}, recovering the open file of an earlier run: it is truncated to its
   * last transaction boundary, where {@link #resumeFile()} and {@link #resumePosition()} point.
   */
  static BinlogSpool open(Path dir, FsyncPolicy policy, SpoolListener listener) throws IOException {
    Files.createDirectories(dir);
    BinlogSpool s = new BinlogSpool(dir, policy, listener, System::nanoTime);
    s.recover();
    return s;
  }

  /** @return the file the stream must resume in, or null for an empty spool */
  String resumeFile() {
    return name;
  }

  /** @return the offset in {@link #resumeFile()} to resume at */
  long resumePosition() {
    return closed ? length : boundary;
  }

  /** @return whether the spool's newest file is finished (the next event must name a new file) */
  boolean currentFileClosed() {
    return closed;
  }

  /** @return the last durable boundary, or null before the first one; safe from any thread */
  SpoolPosition durablePosition() {
    return published;
  }

  private void publish() {
    published = new SpoolPosition(name, durable, tracker.lastGtid(), boundaryTime);
  }

  /** @return heartbeats received (they are not written) */
  long heartbeats() {
    return heartbeats;
  }

  /** Whether the stream carries CRC32s (the artificial ROTATE's layout depends on it). */
  void streamChecksum(boolean crc32) {
    this.streamCrc = crc32;
  }

  // ---------------------------------------------------------------- recovery

  private void recover() throws IOException {
    List<Path> indexes = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.index")) {
      ds.forEach(indexes::add);
    }
    if (indexes.isEmpty()) {
      return;
    }
    if (indexes.size() > 1) {
      throw new IOException("spool directory " + dir + " holds " + indexes.size() + " *.index files; it must hold one");
    }
    index = indexes.get(0);
    String last = null;
    for (String line : Files.readAllLines(index, StandardCharsets.UTF_8)) {
      String entry = line.strip();
      if (!entry.isEmpty()) {
        last = entry.startsWith("./") ? entry.substring(2) : entry;
      }
    }
    if (last == null) {
      return;
    }
    checkName(last, "the spool index " + index);
    name = last;
    Path p = dir.resolve(last);
    file = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    long size = file.size();
    if (size < 4) {
      file.truncate(0);
      writeFully(ByteBuffer.wrap(BinlogEvents.magic()));
      file.force(true);
      size = 4;
    } else {
      ByteBuffer m = ByteBuffer.allocate(4);
      file.read(m, 0);
      if (!BinlogEvents.isMagic(m.array())) {
        throw new IOException("spool file " + p + " does not start with the binlog magic; refusing to resume into it");
      }
    }
    scan(p, size);
    if (size > boundary && !closed) {
      log.info("spool {}: dropping {} bytes after the last complete transaction at {}", p, size - boundary, boundary);
      file.truncate(boundary);
      file.force(true);
    }
    length = closed ? size : boundary;
    durable = length;
    publish();
    if (closed) {
      file.close();
      file = null;
    } else {
      file.position(length);
    }
  }

  private void scan(Path p, long size) throws IOException {
    long pos = 4;
    boundary = 4;
    ByteBuffer head = ByteBuffer.allocate(BinlogEvents.HEADER);
    while (pos + BinlogEvents.HEADER <= size) {
      head.clear();
      readFully(head, pos);
      byte[] h = head.array();
      long len = BinlogEvents.size(h, 0);
      if (len < BinlogEvents.HEADER || pos + len > size) {
        break;
      }
      if (len > Integer.MAX_VALUE - 8) {
        throw new IOException("spool file " + p + ": event at " + pos + " claims " + len + " bytes");
      }
      ByteBuffer ev = ByteBuffer.allocate((int) len);
      readFully(ev, pos);
      byte[] e = ev.array();
      int type = BinlogEvents.type(e, 0);
      if (type == BinlogEvents.FORMAT_DESCRIPTION && pos == 4) {
        crc = BinlogEvents.fdeHasCrc32(e, 0, e.length);
      }
      tracker.accept(e, 0, e.length, crc);
      pos += len;
      if (tracker.atBoundary()) {
        boundary = pos;
        boundaryTime = Instant.ofEpochSecond(BinlogEvents.timestamp(e, 0));
      }
      if (type == BinlogEvents.ROTATE && pos == size) {
        closed = true;
      }
    }
    tracker.reset();
  }

  private void readFully(ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      if (file.read(b, pos + b.position()) < 0) {
        throw new IOException("spool file " + name + " shrank while being read");
      }
    }
  }

  // ---------------------------------------------------------------- the stream

  /**
   * Takes one event as the server sent it.
   *
   * @param needsAck the semi-sync header asked for an acknowledgement of this event
   * @throws IOException if the stream and the spool disagree (a gap or an overlap), or on a disk error
   */
  void accept(byte[] b, int off, int len, boolean needsAck) throws IOException {
    if (len < BinlogEvents.HEADER || BinlogEvents.size(b, off) != len) {
      throw new IOException("malformed event in the binlog stream: " + len + " bytes received, header says "
          + (len < BinlogEvents.HEADER ? "?" : String.valueOf(BinlogEvents.size(b, off))));
    }
    int type = BinlogEvents.type(b, off);
    int flags = BinlogEvents.flags(b, off);
    long logPos = BinlogEvents.logPos(b, off);
    if (type == BinlogEvents.HEARTBEAT || type == BinlogEvents.HEARTBEAT_V2) {
      heartbeat();
      ackWhatIsHeld(needsAck);
      return;
    }
    if (type == BinlogEvents.ROTATE && ((flags & BinlogEvents.ARTIFICIAL_FLAG) != 0 || logPos == 0)) {
      artificialRotate(BinlogEvents.rotateName(b, off, len, streamCrc), BinlogEvents.rotatePosition(b, off));
      return;
    }
    if (name == null) {
      throw new IOException("the server sent event type " + type + " before naming its binlog file");
    }
    if (type == BinlogEvents.FORMAT_DESCRIPTION) {
      if (!closed && length == 4) {
        write(b, off, len);
        crc = BinlogEvents.fdeHasCrc32(b, off, len);
        boundary = length;
        syncIfDue(false);
      }
      ackWhatIsHeld(needsAck);
      return; // else the copy the server re-sends on a resume: the file has it already
    }
    if ((flags & BinlogEvents.ARTIFICIAL_FLAG) != 0 || logPos == 0) {
      log.debug("skipping artificial event type {} in {}", type, name);
      ackWhatIsHeld(needsAck);
      return;
    }
    if (closed) {
      throw new StreamMismatchException("the server sent event type " + type + " ending at " + logPos + " of " + name
          + " after the spool closed that file at " + length + " bytes");
    }
    if (logPos != length + len) {
      throw new StreamMismatchException("binlog stream and spool disagree: event type " + type + " of " + len
          + " bytes ends at " + logPos + " of " + name + ", but the spool file holds " + length
          + " bytes (expected it to end at " + (length + len) + ")");
    }
    write(b, off, len);
    if (needsAck) {
      ackFile = name;
      ackPosition = logPos;
    }
    boolean ended = tracker.accept(b, off, len, crc);
    if (type == BinlogEvents.ROTATE) {
      boundary = length;
      boundaryTime = Instant.ofEpochSecond(BinlogEvents.timestamp(b, off));
      finishFile();
      return;
    }
    if (tracker.atBoundary()) {
      boundary = length;
      if (ended) {
        boundaryTime = Instant.ofEpochSecond(BinlogEvents.timestamp(b, off));
        unreported = true;
      }
      syncIfDue(ackFile != null);
    }
  }

  /**
   * A source may ask for an acknowledgement on an event that is not written (a heartbeat, an artificial
   * event, the re-sent format description): left unanswered, its commits would wait until its timeout.
   * Such a request is answered with what the file holds, once durable.
   */
  private void ackWhatIsHeld(boolean needsAck) {
    if (needsAck && name != null && ackFile == null) {
      ackFile = name;
      ackPosition = length;
    }
  }

  private void artificialRotate(String next, long pos) throws IOException {
    checkName(next, "the server's ROTATE event");
    if (next.equals(name)) {
      long have = length;
      if (pos != have) {
        throw new StreamMismatchException("the server resumes " + next + " at " + pos + " but the spool holds " + have
            + " bytes of it");
      }
      return;
    }
    if (name != null && !closed) {
      finishFile();
    }
    if (pos != 4) {
      throw new StreamMismatchException("the server starts " + next + " at position " + pos + "; the spool rebuilds whole files"
          + " and can only start a file at 4");
    }
    startFile(next);
  }

  private void startFile(String next) throws IOException {
    String base = next.substring(0, next.lastIndexOf('.'));
    Path wantIndex = dir.resolve(base + ".index");
    if (index != null && !index.equals(wantIndex)) {
      throw new StreamMismatchException("the server names " + next + " but the spool in " + dir + " holds the binlogs of "
          + index.getFileName() + "; use one spool directory per server and base name");
    }
    Path p = dir.resolve(next);
    if (Files.exists(p) && Files.size(p) > 4) {
      throw new StreamMismatchException("spool file " + p + " exists already with " + Files.size(p) + " bytes; refusing to"
          + " overwrite it");
    }
    index = wantIndex;
    // The index names the file before the file has content, as the server does; recovery recreates a
    // listed file that is missing.
    try (FileChannel ix = FileChannel.open(index, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      ix.write(ByteBuffer.wrap(("./" + next + "\n").getBytes(StandardCharsets.UTF_8)));
      ix.force(true);
    }
    file = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    name = next;
    closed = false;
    length = 0;
    crc = streamCrc;
    tracker.reset();
    write(BinlogEvents.magic(), 0, BinlogEvents.MAGIC_LENGTH);
    boundary = 4;
    durable = 4;
    publish();
    file.force(true);
    syncDirectory();
  }

  private void finishFile() throws IOException {
    file.force(true);
    file.close();
    file = null;
    closed = true;
    durable = length;
    publish();
    lastSync = nanoClock.getAsLong();
    reportDurable();
    try {
      listener.fileClosed(name, length);
    } catch (RuntimeException e) {
      log.warn("spool listener failed on fileClosed({}): {}", name, e.toString());
    }
  }

  /** A heartbeat: nothing new, but an interval fsync may be due. */
  void heartbeat() throws IOException {
    heartbeats++;
    if (file != null && !closed && boundary > durable && policy.syncs() && !policy.interval().isZero()
        && nanoClock.getAsLong() - lastSync >= policy.interval().toNanos()) {
      sync();
    }
  }

  private void syncIfDue(boolean ackWaiting) throws IOException {
    if (!policy.syncs()) {
      durable = boundary;
      publish();
      reportDurable();
      return;
    }
    if (policy.interval().isZero() || ackWaiting
        || nanoClock.getAsLong() - lastSync >= policy.interval().toNanos()) {
      sync();
    }
  }

  private void sync() throws IOException {
    file.force(false);
    lastSync = nanoClock.getAsLong();
    durable = boundary;
    publish();
    reportDurable();
  }

  private void reportDurable() {
    if (!unreported) {
      return;
    }
    unreported = false;
    SpoolPosition p = published;
    try {
      listener.transactionDurable(p);
    } catch (RuntimeException e) {
      log.warn("spool listener failed on transactionDurable({}): {}", p, e.toString());
    }
  }

  /**
   * The acknowledgement a semi-sync source waits for, once its event is durable: file name and
   * position, or null. Clears it.
   */
  Object[] takeAck() {
    if (ackFile == null) {
      return null;
    }
    boolean done = !ackFile.equals(name) || closed || durable >= ackPosition;
    if (!done) {
      return null;
    }
    Object[] a = {ackFile, ackPosition};
    ackFile = null;
    ackPosition = -1;
    return a;
  }

  /** After a lost connection: drops any partial transaction, so the stream resumes at the last boundary. */
  void rewind() throws IOException {
    ackFile = null;
    ackPosition = -1;
    if (file == null || closed) {
      tracker.reset();
      return;
    }
    if (length > boundary) {
      file.truncate(boundary);
      file.position(boundary);
      file.force(true);
      length = boundary;
    }
    if (durable < boundary && policy.syncs()) {
      sync();
    }
    tracker.reset();
  }

  /**
   * The server no longer has what the spool needs: the newest file is closed as it is (its copy ends
   * early) and the gap is reported; the next file the stream names is started afresh.
   */
  void gap(BinlogGapException gap) throws IOException {
    if (file != null && !closed) {
      rewind();
      finishFile();
    }
    try {
      listener.gap(gap);
    } catch (RuntimeException e) {
      log.warn("spool listener failed on gap: {}", e.toString());
    }
  }

  private void write(byte[] b, int off, int len) throws IOException {
    writeFully(ByteBuffer.wrap(b, off, len));
    length += len;
  }

  private void writeFully(ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      file.write(buf);
    }
  }

  private void syncDirectory() {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      log.debug("cannot fsync directory {}: {}", dir, e.toString());
    }
  }

  private static void checkName(String n, String where) throws IOException {
    if (!NAME.matcher(n).matches()) {
      throw new IOException(where + " names '" + n + "', not a binlog file name of the form <basename>.<digits>");
    }
  }

  @Override
  public void close() throws IOException {
    if (file != null) {
      if (policy.syncs()) {
        file.force(true);
      }
      file.close();
      file = null;
    }
  }
}
