package model

import "strings"

// Type is a Kusto scalar type, by its CSL name.
type Type string

// The scalar types the emulator supports.
const (
	String   Type = "string"
	Int      Type = "int"
	Long     Type = "long"
	Real     Type = "real"
	Bool     Type = "bool"
	DateTime Type = "datetime"
	TimeSpan Type = "timespan"
	GUID     Type = "guid"
	Decimal  Type = "decimal"
	Dynamic  Type = "dynamic"
)

// Types lists every supported type.
var Types = []Type{String, Int, Long, Real, Bool, DateTime, TimeSpan, GUID, Decimal, Dynamic}

var typeAliases = map[string]Type{
	"string": String, "system.string": String,
	"int": Int, "int32": Int, "system.int32": Int,
	"long": Long, "int64": Long, "system.int64": Long,
	"real": Real, "double": Real, "system.double": Real, "float": Real,
	"bool": Bool, "boolean": Bool, "system.boolean": Bool, "system.sbyte": Bool,
	"datetime": DateTime, "date": DateTime, "system.datetime": DateTime,
	"timespan": TimeSpan, "time": TimeSpan, "system.timespan": TimeSpan,
	"guid": GUID, "uuid": GUID, "uniqueid": GUID, "system.guid": GUID,
	"decimal": Decimal, "system.data.sqltypes.sqldecimal": Decimal,
	"dynamic": Dynamic, "system.object": Dynamic,
}

// ParseType resolves a type name: CSL names and their aliases (int32, double, boolean, date,
// time, uuid …) and .NET names (System.String …), case-insensitively.
func ParseType(name string) (Type, bool) {
	t, ok := typeAliases[strings.ToLower(strings.TrimSpace(name))]
	return t, ok
}

// DotNetName is the .NET type name Kusto reports in schemas ("System.Int64" …).
func (t Type) DotNetName() string {
	switch t {
	case String:
		return "System.String"
	case Int:
		return "System.Int32"
	case Long:
		return "System.Int64"
	case Real:
		return "System.Double"
	case Bool:
		return "System.SByte"
	case DateTime:
		return "System.DateTime"
	case TimeSpan:
		return "System.TimeSpan"
	case GUID:
		return "System.Guid"
	case Decimal:
		return "System.Data.SqlTypes.SqlDecimal"
	default:
		return "System.Object"
	}
}

// DataType is the name the v1 response format uses in a column's "DataType" field.
func (t Type) DataType() string {
	switch t {
	case String:
		return "String"
	case Int:
		return "Int32"
	case Long:
		return "Int64"
	case Real:
		return "Double"
	case Bool:
		return "Boolean"
	case DateTime:
		return "DateTime"
	case TimeSpan:
		return "TimeSpan"
	case GUID:
		return "Guid"
	case Decimal:
		return "Decimal"
	default:
		return "Object"
	}
}
