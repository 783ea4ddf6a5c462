/**
 * The archiver's agent loop helpers: lease stand-by, stale part removal, binlog rotation, directory
 * watching, the exception-safe listener. No compatibility promise.
 */
package io.binlogarchive.internal.agent;
