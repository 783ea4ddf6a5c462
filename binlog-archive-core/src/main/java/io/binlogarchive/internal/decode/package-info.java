/**
 * The read side's bounded-memory decode path: artifact download, decryption, decompression and
 * hashing on direct buffers, stopping at the declared size; {@code ReadBack}, the proof of an
 * uploaded artifact that the read-back verifier, the segment writer and rewrap use. No compatibility
 * promise.
 */
package io.binlogarchive.internal.decode;
