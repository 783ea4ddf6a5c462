/**
 * The MySQL/MariaDB replication protocol, with the JDK only.
 *
 * <p>The client side connects to a server as a replica and receives its binary log as it is
 * written, event by event, so the open binlog can be archived before it closes. The server side
 * speaks just enough of the server protocol for a replica's I/O thread, so a restored server can
 * apply an archive natively, at replica speed.
 */
package io.binlogarchive.replication;
