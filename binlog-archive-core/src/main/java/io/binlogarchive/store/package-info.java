/**
 * Where archives live: the {@link io.binlogarchive.store.Sink} SPI with explicit commit or abort, the
 * local-directory {@link io.binlogarchive.store.FileSystemSink}, the crash-safe
 * {@link io.binlogarchive.store.CursorStore}, and the {@link io.binlogarchive.store.StoreLease} that lets one
 * agent of several archive at a time.
 *
 * <p>Promise: the public types are API; the cursor file, the part files and the conditional writes
 * of the file-system sink are package-private.
 */
package io.binlogarchive.store;
