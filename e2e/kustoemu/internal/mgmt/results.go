package mgmt

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// The result schemas of the commands, as Kusto declares them (Kusto.Language's command
// catalogue lists every command's result columns).

func columns(spec string) []model.Column {
	var out []model.Column
	for _, part := range strings.Split(spec, ",") {
		name, typ, _ := strings.Cut(strings.TrimSpace(part), ":")
		// The schemas are static text; TestResultSchemas checks every type name.
		t, ok := model.ParseType(typ)
		if !ok {
			t = model.Type(typ)
		}
		out = append(out, model.Column{Name: name, Type: t})
	}
	return out
}

var (
	versionColumns   = columns("BuildVersion:string, BuildTime:datetime, ServiceType:string, ProductVersion:string")
	databasesColumns = columns("DatabaseName:string, PersistentStorage:string, Version:string, IsCurrent:bool, " +
		"DatabaseAccessMode:string, PrettyName:string, ReservedSlot1:bool, DatabaseId:guid, InTransitionTo:string")
	tablesColumns      = columns("TableName:string, DatabaseName:string, Folder:string, DocString:string")
	tableSchemaColumns = columns("TableName:string, Schema:string, DatabaseName:string, Folder:string, DocString:string")
	dropTableColumns   = columns("TableName:string, DatabaseName:string")
	clearTableColumns  = columns("Status:string")
	mappingColumns     = columns("Name:string, Kind:string, Mapping:string, LastUpdatedOn:datetime, Database:string, Table:string")
	policyColumns      = columns("PolicyName:string, EntityName:string, Policy:string, ChildEntities:string, EntityType:string")
	failuresColumns    = columns("OperationId:guid, Database:string, Table:string, FailedOn:datetime, IngestionSourcePath:string, " +
		"Details:string, FailureKind:string, RootActivityId:guid, OperationKind:string, OriginatesFromUpdatePolicy:bool, " +
		"ErrorCode:string, Principal:string, ShouldRetry:bool, User:string, IngestionProperties:string")
	extentsColumns = columns("ExtentId:guid, DatabaseName:string, TableName:string, MaxCreatedOn:datetime, OriginalSize:real, " +
		"ExtentSize:real, CompressedSize:real, IndexSize:real, Blocks:long, Segments:long, ExtentContainerId:string, " +
		"RowCount:long, MinCreatedOn:datetime, Tags:string, Kind:string, DeletedRowCount:long")
	ingestInlineColumns = columns("ExtentId:guid")
)

// Version facts of the emulator as `.show version` reports them.
const (
	buildVersion   = "1.0.0.0"
	serviceType    = "Engine"
	productVersion = "kustoemu-1.0.0"
)

var buildTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func versionResult() model.Result {
	return model.Result{Columns: versionColumns, Rows: [][]any{{buildVersion, buildTime, serviceType, productVersion}}}
}

// databaseID is a stable id for a database name.
func databaseID(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("kustoemu:database:"+name))
}

func (x *command) showDatabases(only string) (model.Result, error) {
	res := model.Result{Columns: databasesColumns}
	err := x.cluster.View(func(s *model.State) error {
		if only != "" {
			if _, err := s.Database(only); err != nil {
				return err
			}
		}
		for _, name := range s.DatabaseNames() {
			if only != "" && name != only {
				continue
			}
			res.Rows = append(res.Rows, []any{name, "", "v1.0", name == x.db, "ReadWrite", model.DBNull, nil, databaseID(name), model.DBNull})
		}
		return nil
	})
	return res, err
}
