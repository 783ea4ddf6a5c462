package io.binlogarchive.examples;

/**
 * How to reach a store and what its objects get, from the command line. Only {@link CloudSinks} and
 * {@link S3Sinks} read it, so the cloud SDKs load only for {@code s3://} and {@code gs://} targets.
 *
 * @param endpoint {@code --endpoint}: an S3-compatible store or a GCS test server, or null
 * @param region {@code --region} (S3 and AWS KMS), or null for the SDK's chain
 * @param allowInsecureEndpoint {@code --allow-insecure-endpoint}: plain http beyond loopback
 * @param gcsKmsKeyName {@code --kms-key-name} (GCS CMEK), or null
 * @param sseKmsKeyId {@code --sse-kms-key-id} (S3 SSE-KMS), or null
 */
record StoreSettings(String endpoint, String region, boolean allowInsecureEndpoint, String gcsKmsKeyName,
    String sseKmsKeyId) {}
