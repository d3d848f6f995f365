package sink

import (
	"fmt"
	"time"
)

// TopicPartition names one partition of a Kafka topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String renders the partition as Kafka does: "topic-partition".
func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// TimestampType says where a record's timestamp came from.
type TimestampType int8

const (
	// NoTimestampType means the record carries no timestamp.
	NoTimestampType TimestampType = iota
	// CreateTime means the producer set the timestamp.
	CreateTime
	// LogAppendTime means the broker set the timestamp when appending.
	LogAppendTime
)

// String returns the Java enum name (NoTimestampType, CreateTime, LogAppendTime).
func (t TimestampType) String() string {
	switch t {
	case CreateTime:
		return "CreateTime"
	case LogAppendTime:
		return "LogAppendTime"
	default:
		return "NoTimestampType"
	}
}

// Header is one converted record header. Headers keep their order; keys may repeat.
type Header struct {
	Key    string
	Schema *Schema
	Value  any
}

// Record is a Kafka record after the key, value and header converters ran: Java's SinkRecord.
//
// Key and Value hold the converted data described by KeySchema and ValueSchema (see [Schema] for
// the Go type of each schema type). A nil schema means the data is schemaless: a string, an
// int64, a float64, a bool, nil, a []byte, or a [RawJSON] for a JSON object or array.
type Record struct {
	Topic         string
	Partition     int32
	Offset        int64
	Timestamp     time.Time // zero when TimestampType is NoTimestampType
	TimestampType TimestampType

	KeySchema   *Schema
	Key         any
	ValueSchema *Schema
	Value       any
	Headers     []Header
}

// TopicPartition returns the partition the record was consumed from.
func (r *Record) TopicPartition() TopicPartition {
	return TopicPartition{Topic: r.Topic, Partition: r.Partition}
}
