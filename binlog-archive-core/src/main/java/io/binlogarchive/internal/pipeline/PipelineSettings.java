package io.binlogarchive.internal.pipeline;

import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Verifier;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.store.CursorStore;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoreLease;
import java.time.Clock;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * What one archiver's runs work with: the immutable settings its builder validated, plus the stop
 * flag of the archiver that owns them. The pipeline and the agent loop read these; nothing here does
 * I/O.
 *
 * @param source lists the closed binlogs
 * @param sink where artifacts and sidecars go
 * @param cursorStore the archiver's cursor
 * @param layout where objects live in the store
 * @param serverId the server id in the layout
 * @param transforms the write-side codec chain, outermost last
 * @param verifier what proves an upload
 * @param retryPolicy retries of single store calls
 * @param listener the (exception-safe) listener
 * @param parallelism files in flight at once
 * @param bufferSize the read buffer per file in flight
 * @param mode archive, dry run or shadow
 * @param failOnChecksumMismatch whether a binlog event checksum mismatch fails the file
 * @param scanEvents whether the event scanner runs (off only in a benchmark)
 * @param forceNewTimeline whether this run starts a new timeline
 * @param clock the clock for sidecars and the cursor
 * @param bandwidth the upload rate limit, or null
 * @param lease the store lease, or null
 * @param stop true once the owner asked to stop
 */
public record PipelineSettings(BinlogSource source, Sink sink, CursorStore cursorStore, ArchiveLayout layout,
    String serverId, List<Transform> transforms, Verifier verifier, RetryPolicy retryPolicy,
    ArchiveListener listener, int parallelism, int bufferSize, Archiver.Mode mode, boolean failOnChecksumMismatch,
    boolean scanEvents, boolean forceNewTimeline, Clock clock, TokenBucket bandwidth, StoreLease lease,
    BooleanSupplier stop) {

  /** @return true once the archiver that owns these settings was asked to stop */
  public boolean stopRequested() {
    return stop.getAsBoolean();
  }
}
