package main

import (
	"reflect"
	"testing"
)

func TestEnvProperties(t *testing.T) {
	got := envProperties([]string{
		"CONNECT_BOOTSTRAP_SERVERS=broker:19092",
		"CONNECT_GROUP_ID=adx",
		"CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR=1",
		"CONNECT_CONSUMER_MAX_POLL_RECORDS=500",
		"CONNECT_CONNECTOR_CLIENT_CONFIG_OVERRIDE_POLICY=All",
		"CONNECT_SOME__UNDERSCORE___DASH=x",
		"CONNECT_LOG4J_ROOT_LOGLEVEL=INFO",
		"CONNECT_HEAP_OPTS=-Xmx1g",
		"PATH=/bin",
		"CONNECT_=empty",
		"BROKEN",
	}, "CONNECT_")
	want := map[string]string{
		"bootstrap.servers":                       "broker:19092",
		"group.id":                                "adx",
		"config.storage.replication.factor":       "1",
		"consumer.max.poll.records":               "500",
		"connector.client.config.override.policy": "All",
		"some_underscore-dash":                    "x",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}
