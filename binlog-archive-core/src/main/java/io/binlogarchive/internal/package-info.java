/**
 * Implementation details shared by several packages (layout of keys, JSON, digests, fsync helpers).
 * No compatibility promise: anything here may change in any release.
 */
package io.binlogarchive.internal;
