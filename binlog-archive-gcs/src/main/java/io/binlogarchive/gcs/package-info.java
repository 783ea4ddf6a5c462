/**
 * The Google Cloud Storage module: {@link io.binlogarchive.gcs.GcsSink} (resumable uploads with CRC32C and MD5
 * proof, preconditions, CMEK) and {@link io.binlogarchive.gcs.GcpKmsKeyProvider} (envelope keys from Cloud KMS).
 */
package io.binlogarchive.gcs;
