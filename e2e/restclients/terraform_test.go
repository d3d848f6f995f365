package restclients

import (
	"context"
	"log"
	"maps"
	"net/http"
	"strings"
	"testing"

	tfconnect "github.com/Mongey/terraform-provider-kafka-connect/connect"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/terraform"
	kc "github.com/ricardo-ch/go-kafka-connect/v3/lib/connectors"
)

// TestTerraformProvider runs the kafka-connect_connector resource of the Terraform provider
// Mongey/terraform-provider-kafka-connect as Terraform would: create, read, plan (which must be
// empty: the worker returns exactly the config it was given), update, plan again, delete. A
// config_sensitive key is sent with the config and must stay out of the state's config.
func TestTerraformProvider(t *testing.T) {
	rec := startRecorder(t)
	f := newSinkFixture(t, "terraform-sink", "terraform-events", "TerraformEvents")
	ctx := context.Background()
	defer func() { logRequests(t, "terraform-provider-kafka-connect", rec.all()) }()
	// The provider logs through the standard logger, as it does into Terraform's log.
	prevLog := log.Writer()
	log.SetOutput(testLogWriter{t})
	defer log.SetOutput(prevLog)

	p := tfconnect.Provider()
	if diags := p.Configure(ctx, terraform.NewResourceConfigRaw(map[string]any{"url": rec.URL()})); diags.HasError() {
		t.Fatalf("configuring the provider: %+v", diags)
	}
	meta := p.Meta()
	res := p.ResourcesMap["kafka-connect_connector"]
	if res == nil {
		t.Fatal("the provider has no kafka-connect_connector resource")
	}

	// The resource's config must carry name; config_sensitive holds values kept out of the
	// state's config.
	config := withName(f.config(), f.name)
	sensitive := map[string]string{"consumer.override.client.id": "terraform-sink-consumer"}
	resourceConfig := func() map[string]any {
		return map[string]any{"name": f.name, "config": toAny(config), "config_sensitive": toAny(sensitive)}
	}

	d := schema.TestResourceDataRaw(t, res.Schema, resourceConfig())
	//lint:ignore SA1019 the provider implements only these deprecated CRUD functions, which the SDK calls
	if err := res.Create(d, meta); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if d.Id() != f.name {
		t.Errorf("after Create the resource id is %q, want %s", d.Id(), f.name)
	}
	checkState(t, "after Create", d, config, sensitive)
	all := maps.Clone(config)
	maps.Copy(all, sensitive)
	cfg, err := meta.(kc.HighLevelClient).GetConnectorConfig(kc.ConnectorRequest{Name: f.name})
	if err != nil || cfg.Code != http.StatusOK {
		t.Fatalf("GetConnectorConfig = %d, %v", cfg.Code, err)
	}
	if diff := equalConfig(cfg.Config, all); diff != "" {
		t.Errorf("the worker's config of the Terraform connector: %s", diff)
	}
	waitRicardoState(t, meta.(kc.HighLevelClient), f.name, "RUNNING", 2)
	f.produceAndWait(t, 20)

	// A later `terraform plan`: refresh (Read) a state that only knows the id, then diff it
	// against the configuration.
	plan := func(when string) {
		t.Helper()
		state := schema.TestResourceDataRaw(t, res.Schema, resourceConfig())
		state.SetId(f.name)
		//lint:ignore SA1019 the provider implements only these deprecated CRUD functions, which the SDK calls
		if err := res.Read(state, meta); err != nil {
			t.Fatalf("Read %s: %v", when, err)
		}
		checkState(t, "after Read "+when, state, config, sensitive)
		diff, err := res.Diff(ctx, state.State(), terraform.NewResourceConfigRaw(resourceConfig()), meta)
		if err != nil {
			t.Fatalf("planning %s: %v", when, err)
		}
		if diff != nil && !diff.Empty() {
			t.Errorf("the plan %s is not empty: %+v", when, diff.Attributes)
		}
	}
	plan("after Create")

	config["flush.interval.ms"] = "1400"
	updated := schema.TestResourceDataRaw(t, res.Schema, resourceConfig())
	updated.SetId(f.name)
	//lint:ignore SA1019 the provider implements only these deprecated CRUD functions, which the SDK calls
	if err := res.Update(updated, meta); err != nil {
		t.Fatalf("Update: %v", err)
	}
	checkState(t, "after Update", updated, config, sensitive)
	plan("after Update")
	waitRicardoState(t, meta.(kc.HighLevelClient), f.name, "RUNNING", 2)
	f.produceAndWait(t, 10)

	//lint:ignore SA1019 the provider implements only these deprecated CRUD functions, which the SDK calls
	if err := res.Delete(updated, meta); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if updated.Id() != "" {
		t.Errorf("after Delete the resource id is %q, want none", updated.Id())
	}
	requireNotFound(t, "/connectors/"+f.name)
	requireNotFound(t, "/connectors/"+f.name+"/config")
}

// checkState checks that the resource's state holds config without the sensitive keys and
// config_sensitive as given.
func checkState(t *testing.T, when string, d *schema.ResourceData, config, sensitive map[string]string) {
	t.Helper()
	if diff := equalConfig(d.Get("config").(map[string]any), config); diff != "" {
		t.Errorf("state config %s: %s", when, diff)
	}
	if diff := equalConfig(d.Get("config_sensitive").(map[string]any), sensitive); diff != "" {
		t.Errorf("state config_sensitive %s: %s", when, diff)
	}
}

// testLogWriter writes a logger's lines into the test log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
