package kustoemu

import (
	"strings"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
	"github.com/kconnect/kconnect/e2e/kustoemu/internal/sas"
)

// dataManagementCommand answers the commands the data-management service owns: the ingestion
// resources (`.get ingestion resources`, and Java's `.show ingestion resources`) and the
// identity token queued messages must carry.
func (e *Emulator) dataManagementCommand(csl string) ([]model.Result, bool) {
	switch normalizeCommand(csl) {
	case ".get ingestion resources", ".show ingestion resources":
		return []model.Result{e.ingestionResources()}, true
	case ".get kusto identity token":
		return []model.Result{{
			Name:    "Table_0",
			Columns: []model.Column{{Name: "AuthorizationContext", Type: model.String}},
			Rows:    [][]any{{e.identity}},
		}}, true
	}
	return nil, false
}

// normalizeCommand lower-cases a command and collapses its white space.
func normalizeCommand(csl string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Join(strings.Fields(csl), " ")), ";")
}

// ingestionResources lists the storage resources with fresh SAS URLs, in the column order
// (ResourceTypeName, StorageRoot) that positional readers rely on.
func (e *Emulator) ingestionResources() model.Result {
	row := func(kind, url string) []any { return []any{kind, url} }
	return model.Result{
		Name:    "Table_0",
		Columns: []model.Column{{Name: "ResourceTypeName", Type: model.String}, {Name: "StorageRoot", Type: model.String}},
		Rows: [][]any{
			row("SecuredReadyForAggregationQueue", e.storageResource(sas.Queue, readyQueue, "a")),
			row("SuccessfulIngestionsQueue", e.storageResource(sas.Queue, successQueue, "rp")),
			row("FailedIngestionsQueue", e.storageResource(sas.Queue, failureQueue, "rp")),
			row("TempStorage", e.storageResource(sas.Blob, tempContainer, "racwl")),
			row("IngestionsStatusTable", e.storageResource(sas.Table, statusTable, "rau")),
		},
	}
}
