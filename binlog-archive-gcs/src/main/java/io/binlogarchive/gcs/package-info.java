/**
 * The Google Cloud Storage module: {@link io.binlogarchive.gcs.GcsSink} (resumable uploads with CRC32C and MD5
 * proof, preconditions, CMEK) and {@link io.binlogarchive.gcs.GcpKmsKeyProvider} (envelope keys from Cloud KMS).
 *
 * <p>Promise: {@code GcsSink} and {@code GcpKmsKeyProvider} (with their builders) are the module's whole API; everything else here is
 * package-private and may change in any release.
 */
package io.binlogarchive.gcs;
