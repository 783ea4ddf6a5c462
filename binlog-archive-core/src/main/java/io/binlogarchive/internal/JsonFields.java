package io.binlogarchive.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The field-level half of {@link RecordJson}: writing one value, and reading one value as leniently
 * as Jackson's ObjectMapper does by default (a missing or null number is 0, numbers may come as
 * strings, an instant also as epoch seconds, unknown shapes fail naming the field and the line).
 * Only {@link RecordJson} uses it; it knows nothing of sidecars or cursors.
 */
final class JsonFields {
  private JsonFields() {}

  /** A string field, left out when null (the sidecar's sections are written without their nulls). */
  static void string(JsonGenerator g, String name, String value) throws IOException {
    if (value != null) {
      g.writeStringField(name, value);
    }
  }

  static void instant(JsonGenerator g, String name, Instant value, boolean writeNull) throws IOException {
    if (value != null) {
      g.writeStringField(name, value.toString());
    } else if (writeNull) {
      g.writeNullField(name);
    }
  }

  /** A value of a transform's settings or of the store checksums: maps, lists, strings, numbers, booleans. */
  static void value(JsonGenerator g, Object v) throws IOException {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof String s) {
      g.writeString(s);
    } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      g.writeNumber(((Number) v).intValue());
    } else if (v instanceof Long l) {
      g.writeNumber(l);
    } else if (v instanceof Double || v instanceof Float) {
      g.writeNumber(((Number) v).doubleValue());
    } else if (v instanceof BigInteger b) {
      g.writeNumber(b);
    } else if (v instanceof BigDecimal b) {
      g.writeNumber(b);
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v instanceof Map<?, ?> m) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        value(g, e.getValue());
      }
      g.writeEndObject();
    } else if (v instanceof List<?> list) {
      g.writeStartArray();
      for (Object o : list) {
        value(g, o);
      }
      g.writeEndArray();
    } else {
      throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " to a sidecar");
    }
  }

  /** Moves to the next field's value: false at the end of the object. */
  static boolean nextField(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.FIELD_NAME) {
      return false;
    }
    p.nextToken();
    return true;
  }

  /** @return whether the current token starts an object (false for null) */
  static boolean object(JsonParser p, String field) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_NULL) {
      return false;
    }
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw mismatch(p, field, "an object");
    }
    return true;
  }

  static String string(JsonParser p, String field) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (!t.isScalarValue()) {
      throw mismatch(p, field, "a string");
    }
    return p.getText();
  }

  /** An integer; 0 for null, a string's number, a fraction's integer part. */
  static long number(JsonParser p, String field) throws IOException {
    switch (p.currentToken()) {
      case VALUE_NUMBER_INT:
        return p.getLongValue();
      case VALUE_NUMBER_FLOAT:
        return (long) p.getDoubleValue();
      case VALUE_NULL:
        return 0;
      case VALUE_STRING:
        try {
          return Long.parseLong(p.getText().trim());
        } catch (NumberFormatException e) {
          throw mismatch(p, field, "a number");
        }
      default:
        throw mismatch(p, field, "a number");
    }
  }

  static boolean bool(JsonParser p, String field) throws IOException {
    switch (p.currentToken()) {
      case VALUE_TRUE:
        return true;
      case VALUE_FALSE:
      case VALUE_NULL:
        return false;
      case VALUE_NUMBER_INT:
        return p.getLongValue() != 0;
      case VALUE_STRING:
        if (p.getText().trim().equalsIgnoreCase("true")) {
          return true;
        }
        if (p.getText().trim().equalsIgnoreCase("false")) {
          return false;
        }
        throw mismatch(p, field, "true or false");
      default:
        throw mismatch(p, field, "true or false");
    }
  }

  /** ISO-8601 text or epoch seconds (with a fraction); null for null or blank text. */
  static Instant instant(JsonParser p, String field) throws IOException {
    try {
      switch (p.currentToken()) {
        case VALUE_NULL:
          return null;
        case VALUE_STRING:
          String text = p.getText().trim();
          return text.isEmpty() ? null : Instant.parse(text);
        case VALUE_NUMBER_INT:
          return Instant.ofEpochSecond(p.getLongValue());
        case VALUE_NUMBER_FLOAT:
          BigDecimal seconds = p.getDecimalValue();
          return Instant.ofEpochSecond(seconds.longValue(),
              seconds.subtract(new BigDecimal(seconds.toBigInteger())).movePointRight(9).intValue());
        default:
          throw mismatch(p, field, "an ISO-8601 instant");
      }
    } catch (DateTimeParseException | ArithmeticException e) {
      throw mismatch(p, field, "an ISO-8601 instant");
    }
  }

  static List<Long> longs(JsonParser p, String field) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_NULL) {
      return null;
    }
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw mismatch(p, field, "an array");
    }
    List<Long> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      out.add(p.currentToken() == JsonToken.VALUE_NULL ? null : number(p, field));
    }
    return out;
  }

  static Map<String, String> stringMap(JsonParser p, String field) throws IOException {
    if (!object(p, field)) {
      return null;
    }
    Map<String, String> out = new LinkedHashMap<>();
    while (nextField(p)) {
      String k = p.currentName();
      out.put(k, string(p, field + "." + k));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> transforms(JsonParser p, String field) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_NULL) {
      return null;
    }
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw mismatch(p, field, "an array");
    }
    List<Map<String, Object>> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      if (p.currentToken() == JsonToken.VALUE_NULL) {
        out.add(null);
      } else if (p.currentToken() == JsonToken.START_OBJECT) {
        out.add((Map<String, Object>) untyped(p));
      } else {
        throw mismatch(p, field, "an array of objects");
      }
    }
    return out;
  }

  /** Any value, as Jackson's mapper reads it into an Object: maps, lists, strings, Integer/Long/BigInteger, Double. */
  static Object untyped(JsonParser p) throws IOException {
    switch (p.currentToken()) {
      case START_OBJECT: {
        Map<String, Object> m = new LinkedHashMap<>();
        while (nextField(p)) {
          String k = p.currentName();
          m.put(k, untyped(p));
        }
        return m;
      }
      case START_ARRAY: {
        List<Object> l = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          l.add(untyped(p));
        }
        return l;
      }
      case VALUE_STRING:
        return p.getText();
      case VALUE_NUMBER_INT:
        return p.getNumberValue(); // Integer, Long or BigInteger, the smallest that holds it
      case VALUE_NUMBER_FLOAT:
        return p.getDoubleValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new IOException("unexpected " + p.currentToken());
    }
  }

  static IOException mismatch(JsonParser p, String field, String expected) {
    JsonToken t = p.currentToken();
    return new IOException("field \"" + field + "\" must be " + expected + ", not "
        + (t == null ? "nothing" : t.isScalarValue() ? "'" + text(p) + "'" : t.asString()) + " (line "
        + p.currentLocation().getLineNr() + ")");
  }

  static String text(JsonParser p) {
    try {
      String s = p.getText();
      return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    } catch (IOException e) {
      return "?";
    }
  }
}
