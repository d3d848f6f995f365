// Package connectjson renders Connect data as JSON text exactly as Apache Kafka Connect's
// JsonConverter writes it, which is also how the worker's internal topics hold their values
// (the JsonConverter with schemas.enable=false, serializing with Jackson).
//
// Jackson's output differs from encoding/json's in ways a reader of the bytes can see: strings
// escape only '"', '\\' and control characters (the latter as \u00XX with upper-case hex), so
// '<', '>', '&', U+2028 and U+2029 are written as they are; numbers are written as Java's
// Double.toString and Float.toString write them ("100.0", "1.0E7"), with NaN and the infinities
// quoted; byte arrays are base64.
//
// To learn first:
//   - [AppendString], [AppendStringMap], [AppendFloat] and [AppendJavaFloat]: the leaves.
//   - [AppendValue]: a Connect value with or without a schema, as the JsonConverter's payload
//     (logical types, base64 bytes and decimals, maps with non-string keys as arrays of
//     [key, value] pairs, structs in field order), under [Options].
//   - [AppendJavaMap]: a map as Jackson writes a java.util.Map, for sinks that hand a record's
//     Map value to an ObjectMapper rather than to the JsonConverter.
//
// Every function appends to a caller's buffer and allocates nothing of its own on the common
// paths, so a caller that reuses its buffer writes records without allocating.
package connectjson
