/**
 * The read side's bounded-memory decode path: artifact download, decryption, decompression and
 * hashing on direct buffers, stopping at the declared size. No compatibility promise.
 */
package io.binlogarchive.internal.decode;
