/**
 * The read side: {@link io.binlogarchive.restore.ArchiveReader} plans a restore from sidecars alone,
 * fetches and verifies; its {@link io.binlogarchive.restore.ArchiveMaintenance} (from {@code
 * reader.maintenance()}) registers base backups, prunes, rewraps and purges the source server. It trusts nothing it reads
 * from the store: see the README's "What a reader refuses".
 *
 * <p>Promise: the public types are API; the bodies of fetch, verify, survey, rewrap and purge are
 * package-private classes behind the reader and its maintenance facade.
 */
package io.binlogarchive.restore;
