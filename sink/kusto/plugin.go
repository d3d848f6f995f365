package kusto

import "github.com/kconnect/kconnect/sink"

// Class names and version of the Kusto sink.
const (
	ConnectorClass = "com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector"
	TaskClass      = "com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkTask"
	// Version is reported by GET /connector-plugins and sent to Kusto in the connector details.
	Version = "0.1.0"
)

// Plugin returns the Kusto sink plugin (class
// com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector; the registry derives the
// aliases KustoSinkConnector and KustoSink).
func Plugin() *sink.Plugin {
	return &sink.Plugin{
		Class:        ConnectorClass,
		TaskClass:    TaskClass,
		Version:      Version,
		Type:         sink.PluginTypeSink,
		Config:       ConfigDef(),
		NewConnector: func() sink.Connector { return NewConnector() },
		NewTask:      func() sink.Task { return NewTask() },
	}
}
