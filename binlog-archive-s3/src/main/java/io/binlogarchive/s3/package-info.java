/**
 * The Amazon S3 module: {@link io.binlogarchive.s3.S3Sink} (multipart uploads with checksums, conditional writes,
 * SSE-KMS) and {@link io.binlogarchive.s3.AwsKmsKeyProvider} (envelope keys from AWS KMS). Brings the AWS SDK v2.
 *
 * <p>Promise: {@code S3Sink} and {@code AwsKmsKeyProvider} (with their builders) are the module's whole API; everything else here is
 * package-private and may change in any release.
 */
package io.binlogarchive.s3;
