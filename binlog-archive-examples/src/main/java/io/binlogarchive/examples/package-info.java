/**
 * The command-line runner {@code binlog-archive.jar} (picocli) and {@code QuickStart}, the README's builder
 * example. Not a library API.
 */
package io.binlogarchive.examples;
