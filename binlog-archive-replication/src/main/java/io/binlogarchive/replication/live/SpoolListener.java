package io.binlogarchive.replication.live;

import io.binlogarchive.binlog.BinlogSource;
import java.util.Map;

/**
 * What the spool tells its owner, on the streaming thread (the server's position: on the probe's
 * thread, see {@link LiveStream.Builder#serverPositionInterval}). Every method has a no-op default; an
 * exception thrown from one is logged and ignored, so a listener cannot stop the stream. Keep the
 * methods short: the next event is read only after they return.
 */
public interface SpoolListener {

  /**
   * Transactions up to {@code position} are durable in the spool file {@code position.file()}.
   * With the per-interval fsync policy one call covers every transaction since the last one.
   *
   * @param position the durable boundary
   */
  default void transactionDurable(SpoolPosition position) {}

  /**
   * The server finished {@code name} (a ROTATE event, or a restart of the server) and the spool file
   * is complete and fsynced; it is byte-identical to the server's file (except the in-use flag of a
   * file the server crashed on, which the stream always carries clear) and listed in the spool's
   * {@code .index}, so {@code BinlogSource.directory(spoolDir)} hands it out once a newer file exists.
   * Not repeated for files closed before a restart of the stream.
   *
   * @param name the file name
   * @param size its length in bytes
   */
  default void fileClosed(String name, long size) {}

  /**
   * A semi-synchronous source waits for an acknowledgement of everything up to {@code position}, which
   * is durable in the spool. Called only for a stream built with {@link
   * LiveStream.Builder#acknowledgeManually}: the owner then calls {@link LiveStream#acknowledge} once
   * its own durability holds (e.g. the segment holding the position is proven in the store), from any
   * thread. The source's commits wait until then, or until its semi-sync timeout.
   *
   * @param position the position to acknowledge (the end of the transaction the source waits for)
   */
  default void sourceWaiting(SpoolPosition position) {}

  /**
   * The server no longer has the binlog the spool needs (purged): the spool's copy of
   * {@code gap.lastFile()} ends early, and the stream goes on from {@code gap.resumeFile()}.
   *
   * @param gap what is missing
   */
  default void gap(BinlogGapException gap) {}

  /**
   * The probe measured where the server is ({@code SHOW BINARY LOGS} on a second connection), on the
   * probe's thread. Pass {@code binlogs} on to {@code SegmentArchiver.serverPosition} for the store's
   * lag.
   *
   * @param binlogs the server's binlogs, oldest first, with their sizes; the last one is the file the
   *     server writes and its size the server's position
   * @param spoolLag bytes the server has written past the spool's durable position
   */
  default void serverPosition(Map<String, Long> binlogs, long spoolLag) {}

  /**
   * The probe could not measure where the server is, so the lag is unknown for now; the stream is
   * not affected. The probe tries again at its next interval.
   *
   * @param why what failed, e.g. the account lacks REPLICATION CLIENT (BINLOG MONITOR on MariaDB 10.5+)
   */
  default void serverPositionUnknown(String why) {}
}
