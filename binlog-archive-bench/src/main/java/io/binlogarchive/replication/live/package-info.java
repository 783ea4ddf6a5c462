/**
 * {@code RpoBenchmark}: the delay from COMMIT to a proven segment of the live stream under a steady
 * write load, against a throwaway MariaDB, in the bench module (not published, no API promise).
 * The class says how to run it.
 */
package io.binlogarchive.replication.live;
