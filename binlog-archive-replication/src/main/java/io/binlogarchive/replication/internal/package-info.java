/**
 * Wire-level pieces shared by the replication client and server: packet framing and the
 * protocol's integer and string encodings, the binlog event header and event types. No compatibility
 * promise.
 */
package io.binlogarchive.replication.internal;
