package io.binlogarchive.examples;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.LoggingEventAware;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * A tiny SLF4J 2 provider that writes one JSON object per line to stdout: {@code time} (ISO-8601
 * UTC), {@code level}, {@code logger}, {@code thread}, {@code message}, {@code error} (if any), and
 * the structured key value pairs as top-level fields ({@code binlog_filename}, {@code bytes_processed}, {@code
 * upload_duration_ms}, {@code checksum_status}, ...), for log shippers. Selected with {@code
 * --log-format json} through SLF4J's {@code slf4j.provider} property (so slf4j-simple stays the
 * plain-text default and no second provider is registered). INFO and above.
 *
 * <p>Why not a full backend (Logback, Log4j 2): the runner logs a few lines a minute; a ~150-line
 * provider adds no dependency and no configuration file to the shaded jar.
 */
public final class JsonLinesLoggerProvider implements SLF4JServiceProvider {
  static final PrintStream OUT = System.out;
  private final ILoggerFactory factory = new Factory();
  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final MDCAdapter mdc = new NOPMDCAdapter();

  /** For SLF4J. */
  public JsonLinesLoggerProvider() {}

  @Override
  public ILoggerFactory getLoggerFactory() {
    return factory;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {}

  static final class Factory implements ILoggerFactory {
    private final ConcurrentHashMap<String, Logger> loggers = new ConcurrentHashMap<>();

    @Override
    public Logger getLogger(String name) {
      return loggers.computeIfAbsent(name, JsonLogger::new);
    }
  }

  static final class JsonLogger extends AbstractLogger implements LoggingEventAware {
    private static final long serialVersionUID = 1L;
    private static final JsonFactory JSON = new JsonFactory();

    JsonLogger(String name) {
      this.name = name;
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public boolean isTraceEnabled(Marker marker) {
      return false;
    }

    @Override
    public boolean isDebugEnabled() {
      return false;
    }

    @Override
    public boolean isDebugEnabled(Marker marker) {
      return false;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isInfoEnabled(Marker marker) {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled(Marker marker) {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled(Marker marker) {
      return true;
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String msg, Object[] args, Throwable t) {
      write(level, msg, args, t, null);
    }

    @Override
    public void log(LoggingEvent e) {
      if (e.getLevel().toInt() < Level.INFO.toInt()) {
        return;
      }
      write(e.getLevel(), e.getMessage(), e.getArgumentArray(), e.getThrowable(), e.getKeyValuePairs());
    }

    private void write(Level level, String msg, Object[] args, Throwable t, java.util.List<KeyValuePair> kvs) {
      var formatted = MessageFormatter.arrayFormat(msg, args, t);
      Throwable error = t != null ? t : formatted.getThrowable();
      StringWriter w = new StringWriter(256);
      try (JsonGenerator g = JSON.createGenerator(w)) {
        g.writeStartObject();
        g.writeStringField("time", Instant.now().toString());
        g.writeStringField("level", level.name());
        g.writeStringField("logger", name);
        g.writeStringField("thread", Thread.currentThread().getName());
        g.writeStringField("message", formatted.getMessage());
        if (kvs != null) {
          for (KeyValuePair kv : kvs) {
            if (kv.value == null) {
              g.writeNullField(kv.key);
            } else if (kv.value instanceof Number n) {
              g.writeFieldName(kv.key);
              g.writeNumber(n.toString());
            } else if (kv.value instanceof Boolean b) {
              g.writeBooleanField(kv.key, b);
            } else {
              g.writeStringField(kv.key, kv.value.toString());
            }
          }
        }
        if (error != null) {
          g.writeStringField("error", error.toString());
        }
        g.writeEndObject();
      } catch (IOException e) {
        return;
      }
      synchronized (OUT) {
        OUT.println(w);
      }
    }
  }
}
