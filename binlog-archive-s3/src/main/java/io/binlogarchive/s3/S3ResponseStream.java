package io.binlogarchive.s3;

import io.binlogarchive.store.spi.TranslatingInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.Function;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;

/** Turns the SDK's unchecked errors while a response is read into stream-path errors. */
final class S3ResponseStream extends TranslatingInputStream {
  /** Translates in {@link S3Errors}, naming the object. */
  private final Function<SdkException, IOException> sdkError;

  S3ResponseStream(InputStream in, Function<SdkException, IOException> sdkError) {
    super(in);
    this.sdkError = sdkError;
  }

  @Override
  protected IOException translate(Exception e) {
    if (e instanceof SdkException sdk) {
      return sdkError.apply(sdk);
    }
    if (e instanceof IOException io) {
      return io;
    }
    throw (RuntimeException) e;
  }

  @Override
  public void close() throws IOException {
    // abort rather than drain: closing a partly read response must not download the rest
    if (in instanceof ResponseInputStream<?> r) {
      r.abort();
    }
    super.close();
  }
}
