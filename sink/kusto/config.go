package kusto

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kconnect/kconnect/sink"
)

// Configuration keys. The names are the Java sink's (KustoSinkConfig) except the kconnect
// extensions, which are marked as such.
const (
	KeyIngestionURL  = "kusto.ingestion.url"
	KeyQueryURL      = "kusto.query.url"
	KeyAppKey        = "aad.auth.appkey"
	KeyAccessToken   = "aad.auth.accesstoken"
	KeyAppID         = "aad.auth.appid"
	KeyAuthority     = "aad.auth.authority"
	KeyAuthStrategy  = "aad.auth.strategy"
	KeyProxyHost     = "proxy.host"
	KeyProxyPort     = "proxy.port"
	KeyTLSCAFile     = "kusto.tls.ca.file"   // kconnect extension
	KeyTrustedHosts  = "kusto.trusted.hosts" // kconnect extension
	KeyTopicsMapping = "kusto.tables.topics.mapping"
	KeyTempDir       = "tempdir.path"
	KeyFlushSize     = "flush.size.bytes"
	KeyFlushInterval = "flush.interval.ms"
	KeyCompression   = "kusto.compression.level"     // kconnect extension
	KeyConcurrency   = "kusto.ingestion.concurrency" // kconnect extension
	KeyBehaviorOnErr = "behavior.on.error"
	KeyRetryMaxTime  = "errors.retry.max.time.ms"
	KeyRetryBackoff  = "errors.retry.backoff.time.ms"
)

// AuthStrategy is how the sink authenticates to Kusto (aad.auth.strategy, compared in lower case).
type AuthStrategy string

// The authentication strategies.
const (
	AuthApplication      AuthStrategy = "application"       // client id + secret + tenant
	AuthManagedIdentity  AuthStrategy = "managed_identity"  // Azure managed identity (aad.auth.appid = user-assigned client id)
	AuthWorkloadIdentity AuthStrategy = "workload_identity" // federated token from the AZURE_* environment
	AuthAzDevToken       AuthStrategy = "az_dev_token"      // a static bearer token, for development
	AuthNone             AuthStrategy = "none"              // no authentication: local Kusto emulators only
)

// BehaviorOnError is what the sink does when a record cannot be written or a file cannot be
// ingested (behavior.on.error, compared in upper case).
type BehaviorOnError string

// The behaviours.
const (
	BehaviorFail   BehaviorOnError = "FAIL"
	BehaviorLog    BehaviorOnError = "LOG"
	BehaviorIgnore BehaviorOnError = "IGNORE"
)

const (
	groupConnection = "Connection"
	groupWrites     = "Writes"
	groupErrors     = "Error Handling and Retries"
)

var configDef = buildConfigDef()

// ConfigDef returns the declaration of the Kusto sink's configuration keys.
func ConfigDef() *sink.ConfigDef { return configDef }

func buildConfigDef() *sink.ConfigDef {
	return sink.NewConfigDef().
		Define(sink.ConfigKey{Name: KeyIngestionURL, Type: sink.TypeString, Required: true, Importance: sink.High,
			Group: groupConnection, OrderInGroup: 0, Width: sink.WidthMedium, DisplayName: "Kusto cluster ingestion URL",
			Doc: "Kusto ingestion endpoint URL (the data-management endpoint, usually https://ingest-<cluster>.<region>.kusto.windows.net). " +
				"It is used as given: no ingest- prefix is added or removed."}).
		Define(sink.ConfigKey{Name: KeyQueryURL, Type: sink.TypeString, Required: true, Importance: sink.Low,
			Group: groupConnection, OrderInGroup: 1, Width: sink.WidthMedium, DisplayName: "Kusto cluster query URL",
			Doc: "Kusto query endpoint URL (the engine). Streaming ingestion sends data here."}).
		Define(sink.ConfigKey{Name: KeyAppKey, Type: sink.TypePassword, Importance: sink.High,
			Group: groupConnection, OrderInGroup: 2, Width: sink.WidthMedium, DisplayName: "Kusto Auth AppKey",
			Doc: "Application Key for Azure Active Directory authentication."}).
		Define(sink.ConfigKey{Name: KeyAccessToken, Type: sink.TypePassword, Importance: sink.Low,
			Group: groupConnection, OrderInGroup: 3, Width: sink.WidthMedium, DisplayName: "Kusto Auth Access Token",
			Doc: "A bearer access token for the az_dev_token strategy (development and tests only: the token is never refreshed)."}).
		Define(sink.ConfigKey{Name: KeyAppID, Type: sink.TypeString, Importance: sink.High,
			Group: groupConnection, OrderInGroup: 4, Width: sink.WidthMedium, DisplayName: "Kusto Auth AppID",
			Doc: "Application Id for Azure Active Directory authentication; for managed_identity the client id of a user-assigned " +
				"identity (empty = system-assigned); for workload_identity it overrides AZURE_CLIENT_ID."}).
		Define(sink.ConfigKey{Name: KeyAuthority, Type: sink.TypeString, Importance: sink.High,
			Group: groupConnection, OrderInGroup: 5, Width: sink.WidthMedium, DisplayName: "Kusto Auth Authority",
			Doc: "Azure Active Directory tenant."}).
		Define(sink.ConfigKey{Name: KeyAuthStrategy, Type: sink.TypeString, Default: "APPLICATION", Importance: sink.High,
			Validator: sink.OneOf("APPLICATION", "application", "MANAGED_IDENTITY", "managed_identity",
				"AZ_DEV_TOKEN", "az_dev_token", "WORKLOAD_IDENTITY", "workload_identity", "NONE", "none"),
			Group: groupConnection, OrderInGroup: 6, Width: sink.WidthMedium, DisplayName: "Kusto Auth Strategy",
			Doc: "Strategy to authenticate against Azure Active Directory: ``application`` (default: aad.auth.appid, aad.auth.appkey " +
				"and aad.auth.authority), ``managed_identity`` (aad.auth.appid optional), ``workload_identity`` (the AZURE_CLIENT_ID, " +
				"AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE environment of the worker), ``az_dev_token`` (aad.auth.accesstoken), " +
				"or ``none`` (kconnect extension: no authentication, for local Kusto emulators; the only strategy that allows http:// URLs)."}).
		Define(sink.ConfigKey{Name: KeyProxyHost, Type: sink.TypeString, Importance: sink.Low,
			Group: groupConnection, OrderInGroup: 7, Width: sink.WidthMedium, DisplayName: "Proxy host used to connect to Kusto",
			Doc: "Proxy host: an HTTP proxy for all Kusto and storage traffic (used only with proxy.port)."}).
		Define(sink.ConfigKey{Name: KeyProxyPort, Type: sink.TypeInt, Default: int32(-1), Importance: sink.Low,
			Group: groupConnection, OrderInGroup: 8, Width: sink.WidthMedium, DisplayName: "Proxy port used to connect to Kusto",
			Doc: "Proxy port (the proxy is used when proxy.host is set and this is above -1)."}).
		Define(sink.ConfigKey{Name: KeyTLSCAFile, Type: sink.TypeString, Importance: sink.Low,
			Group: groupConnection, OrderInGroup: 9, Width: sink.WidthLong, DisplayName: "Extra trusted CA certificates",
			Doc: "kconnect extension: path of a PEM file of CA certificates to trust, in addition to the system's, for Kusto and its " +
				"storage accounts (e.g. the self-signed storage endpoint of a local Kusto emulator)."}).
		Define(sink.ConfigKey{Name: KeyTrustedHosts, Type: sink.TypeList, Default: []string{}, Importance: sink.Low,
			Group: groupConnection, OrderInGroup: 10, Width: sink.WidthLong, DisplayName: "Extra trusted Kusto hosts",
			Doc: "kconnect extension: host names the sink may send to although they are not well-known Kusto endpoints (Private " +
				"Link, proxies, emulators in containers). An entry starting with a dot trusts every host under that domain. The Kusto " +
				"SDK keeps one process-wide list, so a host trusted here is trusted by every connector of the worker."}).
		Define(sink.ConfigKey{Name: KeyTopicsMapping, Type: sink.TypeString, Required: true, Importance: sink.High,
			Group: groupWrites, OrderInGroup: 0, Width: sink.WidthMedium, DisplayName: "Kusto Table Topics Mapping",
			Doc: "A JSON array mapping ingestion from topic to table, e.g: [{'topic': 't1','db':'kustoDb', 'table': 'table1', " +
				"'format': 'csv', 'mapping': 'csvMapping', 'streaming': 'false'}..]. Single quotes are accepted. A 'topic' of '*' " +
				"applies to every topic without its own entry; every topic listed in topics needs an entry or the '*' one. Formats: csv, tsv, tsve, psv, scsv, sohsv, txt, and json (also " +
				"singlejson, multijson: ingested as multijson with a JSON mapping). Streaming is optional, defaults to false; if " +
				"streaming fails transiently the file is ingested queued instead."}).
		Define(sink.ConfigKey{Name: KeyTempDir, Type: sink.TypeString, Default: os.TempDir(), Importance: sink.Low,
			Group: groupWrites, OrderInGroup: 1, Width: sink.WidthMedium, DisplayName: "Temporary Directory",
			Doc: "Temp dir that will be used by kusto sink to buffer records. defaults to system temp dir. Each partition writes " +
				"into its own kusto-sink-connector-<uuid> directory; directories left by a crashed worker are removed when a task starts."}).
		Define(sink.ConfigKey{Name: KeyFlushSize, Type: sink.TypeLong, Default: int64(1 << 20), Validator: sink.AtLeast(100),
			Importance: sink.Medium, Group: groupWrites, OrderInGroup: 2, Width: sink.WidthMedium, DisplayName: "Maximum Flush Size",
			Doc: "Kusto sink max buffer size (per topic+partition combo): a file is ingested once its uncompressed size exceeds this."}).
		Define(sink.ConfigKey{Name: KeyFlushInterval, Type: sink.TypeLong, Default: int64(30000), Validator: sink.AtLeast(100),
			Importance: sink.High, Group: groupWrites, OrderInGroup: 3, Width: sink.WidthMedium, DisplayName: "Maximum Flush Interval",
			Doc: "Kusto sink max staleness in milliseconds (per topic+partition combo): a file is ingested at the latest this long after its first record."}).
		Define(sink.ConfigKey{Name: KeyCompression, Type: sink.TypeInt, Default: int32(1), Validator: between(0, 9),
			Importance: sink.Low, Group: groupWrites, OrderInGroup: 4, Width: sink.WidthShort, DisplayName: "Gzip compression level",
			Doc: "kconnect extension: gzip level of the files sent to Kusto, 0 (store) to 9 (smallest). Compression is the sink's " +
				"main CPU cost: level 1 is several times faster than the Java sink's level 6 for about 10% larger files."}).
		Define(sink.ConfigKey{Name: KeyConcurrency, Type: sink.TypeInt, Default: int32(4), Validator: between(1, 64),
			Importance: sink.Low, Group: groupWrites, OrderInGroup: 5, Width: sink.WidthShort, DisplayName: "Concurrent ingestions per task",
			Doc: "kconnect extension: how many files a task sends to Kusto at the same time. Files of one partition may be in " +
				"flight together; a partition's offsets are only committed up to its oldest file not yet accepted."}).
		Define(sink.ConfigKey{Name: KeyBehaviorOnErr, Type: sink.TypeString, Default: "FAIL",
			Validator:  sink.OneOf("FAIL", "LOG", "IGNORE", "fail", "log", "ignore"),
			Importance: sink.Low, Group: groupErrors, OrderInGroup: 0, Width: sink.WidthLong, DisplayName: "Behavior On Error",
			Doc: "Behavior on error setting for ingestion of records into Kusto table. Must be configured to one of the following: " +
				"``fail`` Stops the connector when an error occurs while processing records or ingesting records in Kusto table. " +
				"``ignore`` Continues to process next set of records when error occurs while processing records or ingesting records " +
				"in Kusto table. ``log`` Logs the error message and continues to process subsequent records when an error occurs " +
				"while processing records or ingesting records in Kusto table, available in connect logs. With log and ignore, a " +
				"record that cannot be written or a file Kusto rejects permanently is skipped; a file that cannot reach Kusto " +
				"(network, throttling, server errors) is never skipped: it is retried until Kusto accepts it. Refused " +
				"credentials or permissions (HTTP 401 or 403 from Kusto or its storage, a token that cannot be obtained) and " +
				"untrusted endpoints are never skipped either: they stop the task under every setting, naming the identity " +
				"(never a secret), because only a configuration change can fix them."}).
		Define(sink.ConfigKey{Name: KeyRetryMaxTime, Type: sink.TypeLong, Default: int64(300000),
			Importance: sink.Low, Group: groupErrors, OrderInGroup: 1, Width: sink.WidthMedium, DisplayName: "Errors Maximum Retry Time",
			Doc: "Maximum time up to which the Connector should retry writing records to Kusto table in case of failures. " +
				"When a file has failed with retriable errors for this long, the task fails (behavior.on.error=fail) or keeps retrying " +
				"with a new budget (log, ignore)."}).
		Define(sink.ConfigKey{Name: KeyRetryBackoff, Type: sink.TypeLong, Default: int64(10000), Validator: sink.AtLeast(1),
			Importance: sink.Low, Group: groupErrors, OrderInGroup: 2, Width: sink.WidthMedium, DisplayName: "Errors Retry BackOff Time",
			Doc: "BackOff time between retry attempts the Connector makes to ingest records into Kusto table. The first retry waits " +
				"this long; each further one waits twice as long as the one before, up to 1 minute (or this value, if larger), " +
				"with ±25% random jitter."})
}

// between is Java's Range.between validator.
func between(min, max int) sink.Validator {
	return func(v any) error {
		n, ok := v.(int32)
		if !ok {
			return nil
		}
		if int(n) < min {
			return fmt.Errorf("Value must be at least %d", min)
		}
		if int(n) > max {
			return fmt.Errorf("Value must be no more than %d", max)
		}
		return nil
	}
}

// Config is a parsed and checked Kusto sink configuration.
type Config struct {
	IngestionURL string         // kusto.ingestion.url, normalized (trimmed, https:// added when no scheme)
	QueryURL     string         // kusto.query.url, normalized; "" when blank
	Auth         AuthStrategy   // aad.auth.strategy in lower case
	AppID        string         // aad.auth.appid
	AppKey       sink.Password  // aad.auth.appkey
	AccessToken  sink.Password  // aad.auth.accesstoken
	Authority    string         // aad.auth.authority
	ProxyHost    string         // proxy.host
	ProxyPort    int            // proxy.port; -1 = no proxy
	CAFile       string         // kusto.tls.ca.file
	CACerts      *x509.CertPool // the system CAs plus CAFile's; nil unless CAFile is set
	TrustedHosts []string       // kusto.trusted.hosts

	TempDir          string        // tempdir.path
	FlushSize        int64         // flush.size.bytes
	FlushInterval    time.Duration // flush.interval.ms
	CompressionLevel int           // kusto.compression.level
	Concurrency      int           // kusto.ingestion.concurrency

	BehaviorOnError BehaviorOnError // behavior.on.error in upper case
	RetryMaxTime    time.Duration   // errors.retry.max.time.ms (negative values count as 0)
	RetryBackoff    time.Duration   // errors.retry.backoff.time.ms

	routes *routes // kusto.tables.topics.mapping
}

// configError is a configuration problem tied to a key: Java's ConfigException. Key is empty for
// problems that span keys.
type configError struct {
	Key   string
	Value *string // rendered in the message when set
	Msg   string
}

func (e *configError) Error() string {
	if e.Value != nil {
		return fmt.Sprintf("Invalid value %s for configuration %s: %s", *e.Value, e.Key, e.Msg)
	}
	return e.Msg
}

func keyErr(key, msg string) *configError { return &configError{Key: key, Msg: msg} }

func valueErr(key, value, msg string) *configError {
	return &configError{Key: key, Value: &value, Msg: msg}
}

// ParseConfig parses and checks a connector or task configuration. The error lists every
// problem found, one per line, in the Java sink's words where it has them.
func ParseConfig(props map[string]string) (*Config, error) {
	pc, err := configDef.Parse(props)
	if err != nil {
		return nil, err
	}
	c, errs := fromParsed(pc)
	if len(errs) > 0 {
		all := make([]error, len(errs))
		for i, e := range errs {
			all[i] = e
		}
		return nil, errors.Join(all...)
	}
	return c, nil
}

// fromParsed applies the checks that span keys or go beyond a ConfigDef validator.
func fromParsed(pc *sink.Config) (*Config, []*configError) {
	c := &Config{
		Auth:             AuthStrategy(strings.ToLower(pc.String(KeyAuthStrategy))),
		AppID:            strings.TrimSpace(pc.String(KeyAppID)),
		AppKey:           pc.Password(KeyAppKey),
		AccessToken:      pc.Password(KeyAccessToken),
		Authority:        strings.TrimSpace(pc.String(KeyAuthority)),
		ProxyHost:        pc.String(KeyProxyHost),
		ProxyPort:        pc.Int(KeyProxyPort),
		CAFile:           pc.String(KeyTLSCAFile),
		TrustedHosts:     pc.List(KeyTrustedHosts),
		TempDir:          pc.String(KeyTempDir),
		FlushSize:        pc.Long(KeyFlushSize),
		FlushInterval:    time.Duration(pc.Long(KeyFlushInterval)) * time.Millisecond,
		CompressionLevel: pc.Int(KeyCompression),
		Concurrency:      pc.Int(KeyConcurrency),
		BehaviorOnError:  BehaviorOnError(strings.ToUpper(pc.String(KeyBehaviorOnErr))),
		RetryMaxTime:     time.Duration(max(0, pc.Long(KeyRetryMaxTime))) * time.Millisecond,
		RetryBackoff:     time.Duration(pc.Long(KeyRetryBackoff)) * time.Millisecond,
	}
	var errs []*configError
	noAuth := c.Auth == AuthNone
	trusted := parseTrustedHosts(c.TrustedHosts)
	var err error
	if c.IngestionURL, err = checkEndpoint(pc.String(KeyIngestionURL), noAuth, trusted); err != nil {
		errs = append(errs, valueErr(KeyIngestionURL, pc.String(KeyIngestionURL), err.Error()))
	} else if c.IngestionURL == "" {
		errs = append(errs, valueErr(KeyIngestionURL, "", "The Kusto ingestion URL must not be empty: set it to the data-management endpoint, e.g. https://ingest-<cluster>.<region>.kusto.windows.net."))
	}
	if c.QueryURL, err = checkEndpoint(pc.String(KeyQueryURL), noAuth, trusted); err != nil {
		errs = append(errs, valueErr(KeyQueryURL, pc.String(KeyQueryURL), err.Error()))
	}
	errs = append(errs, c.checkAuth()...)
	if c.CAFile != "" {
		if c.CACerts, err = loadCAFile(c.CAFile); err != nil {
			errs = append(errs, valueErr(KeyTLSCAFile, c.CAFile, err.Error()))
		}
	}
	if c.routes, err = parseRoutes(pc.String(KeyTopicsMapping)); err != nil {
		errs = append(errs, keyErr(KeyTopicsMapping, err.Error()))
	} else if c.routes.anyStreaming() && c.QueryURL == "" {
		errs = append(errs, keyErr(KeyQueryURL, "A mapping uses streaming ingestion, which needs the Kusto query URL: set kusto.query.url to the engine endpoint, e.g. https://<cluster>.<region>.kusto.windows.net."))
	}
	if c.routes != nil {
		for _, topic := range unmappedTopics(c.routes, pc.Originals()[keyTopics]) {
			errs = append(errs, keyErr(KeyTopicsMapping, fmt.Sprintf(
				"Kusto Sink has no ingestion props mapped for the topic: %s. please check your configuration.", topic)))
		}
	}
	if c.TempDir == "" {
		errs = append(errs, valueErr(KeyTempDir, "", "tempdir.path must not be empty: set it to a writable directory for the sink's spool files."))
	}
	return c, errs
}

// keyTopics is the runtime's list of topics a sink consumes. With topics.regex instead, the
// topics are only known when partitions are assigned, and Task.Open checks them.
const keyTopics = "topics"

// unmappedTopics lists the topics of the comma-separated list that have no mapping entry, in
// the list's order, each once. The wildcard entry maps every topic.
func unmappedTopics(rs *routes, topics string) []string {
	if rs.wildcard != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, t := range strings.Split(topics, ",") {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		if _, ok := rs.lookup(t); !ok {
			out = append(out, t)
		}
	}
	return out
}

// secrets are the configured secret values, which error texts must never show.
func (c *Config) secrets() []string {
	var out []string
	for _, p := range []sink.Password{c.AppKey, c.AccessToken} {
		if v := strings.TrimSpace(p.Value()); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// identity names who the sink authenticates as, for error messages: the strategy and the
// non-secret settings that select the identity.
func (c *Config) identity() string {
	switch c.Auth {
	case AuthApplication:
		return fmt.Sprintf("%s=application, %s=%s, %s=%s", KeyAuthStrategy, KeyAppID, c.AppID, KeyAuthority, c.Authority)
	case AuthManagedIdentity:
		if c.AppID == "" {
			return fmt.Sprintf("%s=managed_identity, the system-assigned identity", KeyAuthStrategy)
		}
		return fmt.Sprintf("%s=managed_identity, the user-assigned identity %s=%s", KeyAuthStrategy, KeyAppID, c.AppID)
	case AuthWorkloadIdentity:
		id := "the worker's AZURE_CLIENT_ID"
		if c.AppID != "" {
			id = KeyAppID + "=" + c.AppID
		}
		return fmt.Sprintf("%s=workload_identity, %s, with the token file in AZURE_FEDERATED_TOKEN_FILE", KeyAuthStrategy, id)
	case AuthAzDevToken:
		return fmt.Sprintf("%s=az_dev_token, the static token in %s, which is never refreshed and may have expired", KeyAuthStrategy, KeyAccessToken)
	case AuthNone:
		return fmt.Sprintf("%s=none, no credentials are sent", KeyAuthStrategy)
	}
	return KeyAuthStrategy + "=" + string(c.Auth)
}

// checkAuth checks that the strategy has what it needs, with the Java sink's messages.
func (c *Config) checkAuth() []*configError {
	switch c.Auth {
	case AuthApplication:
		if c.AppID == "" {
			return []*configError{keyErr(KeyAppID, "Kusto authentication missing App Key. The application strategy needs aad.auth.appid (the application's client id), aad.auth.appkey and aad.auth.authority.")}
		}
		if c.AppKey.Value() == "" {
			return []*configError{keyErr(KeyAppKey, "Kusto authentication missing App Key. The application strategy needs aad.auth.appkey (the application's client secret).")}
		}
		if c.Authority == "" {
			return []*configError{keyErr(KeyAuthority, "Kusto authentication missing Authority: aad.auth.authority (the tenant id) is required for the application strategy.")}
		}
	case AuthAzDevToken:
		if strings.TrimSpace(c.AccessToken.Value()) == "" {
			return []*configError{keyErr(KeyAccessToken, "Kusto authentication missing Access Token: aad.auth.accesstoken is required for the az_dev_token strategy.")}
		}
	}
	return nil
}

func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("Cannot read the CA file: %v", unwrapPathError(err))
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("The CA file holds no PEM certificate: it must contain one or more -----BEGIN CERTIFICATE----- blocks.")
	}
	return pool, nil
}

// unwrapPathError drops the operation and path of an *os.PathError: the message already names
// the file.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// placeholders stand in for required keys that failed their own check, so that validateConfig can
// still run the cross-key checks on the rest.
var placeholders = map[string]string{
	KeyIngestionURL:  "https://ingest-placeholder.kusto.windows.net",
	KeyQueryURL:      "https://placeholder.kusto.windows.net",
	KeyTopicsMapping: "[]",
}

// validateConfig adds the checks of fromParsed to the ConfigDef's per-key results, for the REST
// validate endpoint. Keys that already failed their own validator get no further errors.
func validateConfig(props map[string]string, values []sink.ConfigValue) []sink.ConfigValue {
	failed := map[string]bool{}
	patched := make(map[string]string, len(props))
	for k, v := range props {
		patched[k] = v
	}
	for _, v := range values {
		if len(v.Errors) == 0 {
			continue
		}
		failed[v.Name] = true
		if p, ok := placeholders[v.Name]; ok {
			patched[v.Name] = p
		} else {
			delete(patched, v.Name) // its default applies
		}
	}
	pc, err := configDef.Parse(patched)
	if err != nil {
		return values
	}
	_, errs := fromParsed(pc)
	index := map[string]int{}
	for i, v := range values {
		index[v.Name] = i
	}
	for _, e := range errs {
		if failed[e.Key] {
			continue
		}
		i, ok := index[e.Key]
		if !ok {
			values = append(values, sink.ConfigValue{Name: e.Key, Visible: true, RecommendedValues: []string{}, Errors: []string{}})
			i = len(values) - 1
			index[e.Key] = i
		}
		values[i].Errors = append(values[i].Errors, e.Error())
	}
	return values
}
