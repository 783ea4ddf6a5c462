/**
 * {@code ServeBenchmark}: a restore by {@code serve} into fresh replicas against {@code
 * mariadb-binlog | mariadb} and the relay-log mode, in the bench module (not published, no API
 * promise). It lives in serve's package to reuse the replication test-jar's package-private
 * fixtures. The class says how to run it.
 */
package io.binlogarchive.replication.serve;
