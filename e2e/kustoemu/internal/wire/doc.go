// Package wire writes the emulator's answers in the encodings the Kusto SDKs parse: the v1
// response of management commands ([WriteV1]), the fragmented v2 frame sequence of queries
// ([WriteV2]) and the OneApiError body of failures ([WriteError]).
//
// The Go SDK reads v2 frames with a strict line- and token-oriented parser: one frame per line,
// the first line starting with '[' and every later one with ',', header properties in a fixed
// order and Rows last. Every byte written here is laid out by hand for that reason rather than
// left to a JSON encoder's field order.
package wire
