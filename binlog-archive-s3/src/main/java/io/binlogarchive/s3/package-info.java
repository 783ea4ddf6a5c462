/**
 * The Amazon S3 module: {@link io.binlogarchive.s3.S3Sink} (multipart uploads with checksums, conditional writes,
 * SSE-KMS) and {@link io.binlogarchive.s3.AwsKmsKeyProvider} (envelope keys from AWS KMS). Brings the AWS SDK v2.
 */
package io.binlogarchive.s3;
