package io.binlogarchive.internal;

/**
 * Marks the built-in zstd transform: what it writes is standard zstd frames, which the read side
 * decompresses natively straight into direct buffers instead of through {@code unwrap}. A codec
 * without this mark, whatever its id, is decoded through its own {@code unwrap}.
 */
public interface NativeZstdFrames {}
