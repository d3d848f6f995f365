package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/cluster"
	"github.com/kconnect/kconnect/e2e/kustoemu"
)

// Names the demo uses.
const (
	devDatabase      = "dev"
	devTopic         = "storm-events"
	devConnector     = "storm-events-sink"
	devTopicParts    = 3
	devWorkerGroupID = "kconnect-dev"
)

// devOptions are the flags of `kconnect dev`.
type devOptions struct {
	kafka    string
	kusto    string
	storage  string
	rest     string
	records  int
	demo     bool
	logLevel string
	caFile   string
}

const devDescription = `Run a Kafka broker, a Kusto emulator and one worker in this process, with a demo
that streams storm events into Kusto. Ctrl-C stops everything.`

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o devOptions
	fs := command("dev", "[flags]", devDescription)
	fs.StringVar(&o.kafka, "kafka", "127.0.0.1:9092", "address of the embedded Kafka broker")
	fs.StringVar(&o.kusto, "kusto", "127.0.0.1:8080", "address of the embedded Kusto engine and data management (http)")
	fs.StringVar(&o.storage, "storage", "127.0.0.1:10443", "address of the embedded Kusto storage (https)")
	fs.StringVar(&o.rest, "rest", "127.0.0.1:8083", "address of the worker's REST API")
	fs.IntVar(&o.records, "records", 5000, "storm events the demo produces")
	fs.BoolVar(&o.demo, "demo", true, "run the demo (false: just serve the empty pipeline)")
	fs.StringVar(&o.logLevel, "log-level", "warn", "log level of the embedded services: debug, info, warn or error")
	fs.StringVar(&o.caFile, "ca-file", filepath.Join(os.TempDir(), "kconnect-dev", "kusto-ca.pem"),
		"where to write the emulator's CA certificate (connectors name it in kusto.tls.ca.file)")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badUsage(fs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	log, err := newLogger(stderr, o.logLevel)
	if err != nil {
		return badUsage(fs, err)
	}
	log = log.With(loggerKey, "kconnect")
	say := func(format string, args ...any) { fmt.Fprintf(stdout, format+"\n", args...) }

	// Kafka.
	kafkaPort, err := portOf(o.kafka)
	if err != nil {
		return fmt.Errorf("--kafka: %w", err)
	}
	broker, err := kfake.NewCluster(
		kfake.Ports(kafkaPort),
		kfake.ClusterID("kconnect-dev"),
		kfake.BrokerConfigs(map[string]string{"log.cleaner.backoff.ms": "5000"}),
		// Producers may create topics, as a development broker usually lets them.
		kfake.AllowAutoTopicCreation(),
	)
	if err != nil {
		return fmt.Errorf("starting the Kafka broker on %s: %w", o.kafka, err)
	}
	defer broker.Close()
	say("Kafka broker     %s", o.kafka)

	// Kusto. Queued ingestions are batched for one second instead of Kusto's five minutes, so
	// the demo's rows show up at once.
	emu, err := kustoemu.Start(kustoemu.Options{
		Databases:   []string{devDatabase},
		EngineAddr:  o.kusto,
		StorageAddr: o.storage,
		Logger:      log.With(loggerKey, "kustoemu"),
		Batching:    kustoemu.BatchingPolicy{MaxDelay: time.Second},
	})
	if err != nil {
		return fmt.Errorf("starting the Kusto emulator: %w", err)
	}
	defer emu.Close()
	caFile := o.caFile
	if err := os.MkdirAll(filepath.Dir(caFile), 0o700); err != nil {
		return fmt.Errorf("writing the emulator's CA certificate: %w", err)
	}
	if err := os.WriteFile(caFile, emu.CACertPEM(), 0o600); err != nil {
		return fmt.Errorf("writing the emulator's CA certificate: %w", err)
	}
	say("Kusto engine     %s (database %q; storage %s, CA %s)", emu.EngineURL(), devDatabase, emu.StorageURL(), caFile)

	// The worker.
	restPort, err := portOf(o.rest)
	if err != nil {
		return fmt.Errorf("--rest: %w", err)
	}
	restHost, _, _ := net.SplitHostPort(o.rest)
	if restHost == "" {
		restHost = "127.0.0.1"
	}
	restURL := "http://" + net.JoinHostPort(restHost, strconv.Itoa(restPort))
	cfg, err := cluster.ParseWorkerConfig(map[string]string{
		"bootstrap.servers":                 o.kafka,
		"group.id":                          devWorkerGroupID,
		"config.storage.topic":              "connect-configs",
		"offset.storage.topic":              "connect-offsets",
		"status.storage.topic":              "connect-status",
		"config.storage.replication.factor": "1",
		"offset.storage.replication.factor": "1",
		"status.storage.replication.factor": "1",
		"key.converter":                     "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                   "org.apache.kafka.connect.storage.StringConverter",
		"listeners":                         "http://" + o.rest,
		"rest.advertised.host.name":         restHost,
		"rest.advertised.port":              strconv.Itoa(restPort),
		"offset.flush.interval.ms":          "5000",
		"scheduled.rebalance.max.delay.ms":  "0",
	})
	if err != nil {
		return err
	}
	ready := make(chan struct{})
	workerDone := make(chan error, 1)
	go func() {
		workerDone <- runWorker(ctx, cfg, log, func() { close(ready) })
	}()
	select {
	case <-ready:
	case err := <-workerDone:
		return fmt.Errorf("starting the worker: %w", err)
	case <-ctx.Done():
		return <-workerDone
	}
	say("Connect REST API %s", restURL)

	if o.demo {
		if err := runDemo(ctx, o, emu, caFile, restURL, say); err != nil && !errors.Is(err, context.Canceled) {
			say("demo failed: %v", err)
		}
	}
	if ctx.Err() == nil {
		say("")
		say("Everything keeps running until Ctrl-C. Try:")
		say("  curl -s '%s/connectors?expand=status&expand=info'", restURL)
		if o.demo {
			say("  curl -s %s/connectors/%s/status", restURL, devConnector)
			say("  echo '%s' | kcat -P -b %s -t %s", stormEvent(rand.New(rand.NewPCG(7, 7)), o.records), o.kafka, devTopic)
			say(`  curl -s %s/v2/rest/query -H 'Content-Type: application/json' -d '{"db":"%s","csl":"%s | summarize count() by EventType"}'`,
				emu.EngineURL(), devDatabase, stormEventsTable)
		} else {
			say("  curl -s %s/connector-plugins", restURL)
			say(`  curl -s %s/v1/rest/mgmt -H 'Content-Type: application/json' -d '{"db":"%s","csl":".show tables"}'`, emu.EngineURL(), devDatabase)
		}
	}
	err = <-workerDone
	say("stopped")
	return err
}

// runDemo creates the table and topic, produces storm events, creates the Kusto sink through the
// REST API and reports progress until every row is in Kusto.
func runDemo(ctx context.Context, o devOptions, emu *kustoemu.Emulator, caFile, restURL string, say func(string, ...any)) error {
	if _, err := emu.Mgmt(ctx, devDatabase, ".create-merge table "+stormEventsTable+" "+stormEventsSchema); err != nil {
		return fmt.Errorf("creating table %s: %w", stormEventsTable, err)
	}
	before, err := countRows(ctx, emu)
	if err != nil {
		return err
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(o.kafka), kgo.DefaultProduceTopic(devTopic))
	if err != nil {
		return err
	}
	defer cl.Close()
	created, err := kadm.NewClient(cl).CreateTopic(ctx, devTopicParts, 1, nil, devTopic)
	if err == nil && !errors.Is(created.Err, kerr.TopicAlreadyExists) {
		err = created.Err
	}
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", devTopic, err)
	}
	r := rand.New(rand.NewPCG(42, uint64(time.Now().UnixNano())))
	records := make([]*kgo.Record, o.records)
	for i := range records {
		records[i] = &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(stormEvent(r, i))}
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("producing storm events: %w", err)
	}
	say("produced %d storm events to topic %s (%d partitions)", o.records, devTopic, devTopicParts)

	connector := map[string]any{
		"name": devConnector,
		"config": map[string]string{
			"connector.class":             "com.microsoft.azure.kusto.kafka.connect.sink.KustoSinkConnector",
			"topics":                      devTopic,
			"tasks.max":                   strconv.Itoa(devTopicParts),
			"kusto.ingestion.url":         emu.EngineURL(),
			"kusto.query.url":             emu.EngineURL(),
			"aad.auth.strategy":           "none",
			"kusto.tls.ca.file":           caFile,
			"kusto.tables.topics.mapping": fmt.Sprintf("[{'topic': '%s', 'db': '%s', 'table': '%s', 'format': 'csv'}]", devTopic, devDatabase, stormEventsTable),
			"flush.interval.ms":           "1000",
			"key.converter":               "org.apache.kafka.connect.storage.StringConverter",
			"value.converter":             "org.apache.kafka.connect.storage.StringConverter",
		},
	}
	if err := putConnector(ctx, restURL, connector); err != nil {
		return err
	}
	say("created connector %s (PUT %s/connectors/%s/config)", devConnector, restURL, devConnector)

	want := before + o.records
	last := -1
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		n, err := countRows(ctx, emu)
		if err != nil {
			return err
		}
		if n != last {
			say("rows ingested: %d / produced: %d", n-before, o.records)
			last = n
		}
		if n >= want {
			say("all %d storm events are in Kusto table %s", o.records, stormEventsTable)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// putConnector creates the demo connector, or replaces its config if an earlier run left one.
// The worker answers 409 while a rebalance is under way; that is retried, as Connect clients do.
func putConnector(ctx context.Context, restURL string, connector map[string]any) error {
	body, err := json.Marshal(connector["config"])
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, restURL+"/connectors/"+devConnector+"/config", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("creating the connector: %w", err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK:
			return nil
		case resp.StatusCode == http.StatusConflict && attempt < 20:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		default:
			return fmt.Errorf("creating the connector: %s: %s", resp.Status, msg)
		}
	}
}

func countRows(ctx context.Context, emu *kustoemu.Emulator) (int, error) {
	res, err := emu.Query(ctx, devDatabase, stormEventsTable+" | count")
	if err != nil {
		return 0, fmt.Errorf("counting rows: %w", err)
	}
	if len(res) == 0 || len(res[0].Rows) != 1 {
		return 0, errors.New("counting rows: unexpected answer")
	}
	switch n := res[0].Rows[0][0].(type) {
	case int64:
		return int(n), nil
	case int32:
		return int(n), nil
	}
	return 0, fmt.Errorf("counting rows: unexpected value %v", res[0].Rows[0][0])
}

// portOf returns the port of a host:port address.
func portOf(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(p)
}
