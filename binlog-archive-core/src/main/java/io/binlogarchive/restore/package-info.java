/**
 * The read side: {@link io.binlogarchive.restore.ArchiveReader} plans a restore from sidecars alone,
 * fetches, verifies, prunes and rewraps; base backups are registered here too. It trusts nothing it reads
 * from the store: see the README's "What a reader refuses".
 */
package io.binlogarchive.restore;
