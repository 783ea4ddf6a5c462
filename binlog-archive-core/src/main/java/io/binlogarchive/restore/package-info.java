/**
 * The read side: {@link io.binlogarchive.restore.ArchiveReader} plans a restore from sidecars alone,
 * fetches and verifies; its {@link io.binlogarchive.restore.ArchiveMaintenance} (from {@code
 * reader.maintenance()}) registers base backups, prunes, rewraps and purges the source server. It trusts nothing it reads
 * from the store: see the README's "What a reader refuses".
 */
package io.binlogarchive.restore;
