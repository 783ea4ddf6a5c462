/**
 * The write side's pipeline: one run plans, archives files in parallel and commits the cursor in
 * order; rate limiting. No compatibility promise.
 */
package io.binlogarchive.internal.pipeline;
