/**
 * Benchmark runners of the S3 sink against an embedded s3proxy on loopback, in the bench module (not
 * published, no API promise): {@code S3UploadThroughput} (the sink against plain SDK uploads) and
 * {@code S3PipelineThroughput} (the whole archive pipeline into S3). Each class says how to run it.
 */
package io.binlogarchive.s3;
