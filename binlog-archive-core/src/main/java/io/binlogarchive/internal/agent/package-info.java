/**
 * The archiver's runs and agent loop ({@code ArchiveAgent}: start, wake-ups, the poll interval and
 * rotation timing, stop) and their helpers: the cursor store opened (and the preflight run) on first
 * use rather than by the builder, lease stand-by, stale part removal, binlog rotation, directory
 * watching, the exception-safe listener. No compatibility promise.
 */
package io.binlogarchive.internal.agent;
