/**
 * JMH benchmark of the built-in transforms' warm throughput through their public streams, in the
 * bench module (not published, no API promise). The class says how to run it.
 */
package io.binlogarchive.codec;
