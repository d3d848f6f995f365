package model

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

func TestConvert(t *testing.T) {
	day := time.Date(2024, 1, 2, 3, 4, 5, 123456700, time.UTC)
	g := uuid.MustParse("6f9619ff-8b86-d011-b42d-00c04fc964ff")
	for _, c := range []struct {
		name string
		t    Type
		in   any
		want any
		ok   bool
	}{
		{"string keeps text", String, " a,b ", " a,b ", true},
		{"null string is empty", String, nil, "", true},
		{"json object into string is compact JSON", String, map[string]any{"a": json.Number("1")}, `{"a":1}`, true},
		{"int text", Int, " 42 ", int32(42), true},
		{"int overflow is null", Int, "3000000000", nil, false},
		{"empty text is null", Int, "", nil, true},
		{"long from json number", Long, json.Number("9007199254740993"), int64(9007199254740993), true},
		{"long from integral real text", Long, "12.0", int64(12), true},
		{"bad long is null", Long, "abc", nil, false},
		{"real text", Real, "1.5", 1.5, true},
		{"real from avro float32", Real, float32(0.5), 0.5, true},
		{"bool text any case", Bool, "TRUE", true, true},
		{"bool from 0", Bool, "0", false, true},
		{"bool junk is null", Bool, "yes", nil, false},
		{"datetime iso", DateTime, "2024-01-02T03:04:05.1234567Z", day, true},
		{"datetime with offset to utc", DateTime, "2024-01-02T05:04:05.1234567+02:00", day, true},
		{"datetime number is null", DateTime, json.Number("1700000000"), nil, false},
		{"timespan dotnet", TimeSpan, "1.02:03:04.5", 26*time.Hour + 3*time.Minute + 4*time.Second + 500*time.Millisecond, true},
		{"timespan literal", TimeSpan, "90m", 90 * time.Minute, true},
		{"guid", GUID, "6F9619FF-8B86-D011-B42D-00C04FC964FF", g, true},
		{"decimal", Decimal, "2.00000000000001", decimal.RequireFromString("2.00000000000001"), true},
		{"dynamic parses object text", Dynamic, `{"a":[1,2]}`, map[string]any{"a": []any{json.Number("1"), json.Number("2")}}, true},
		{"dynamic keeps plain text", Dynamic, "hello", "hello", true},
		{"empty text into dynamic is null", Dynamic, " ", nil, true},
		{"dynamic from avro map", Dynamic, map[string]any{"n": int64(3)}, map[string]any{"n": json.Number("3")}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Convert(c.t, c.in)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v (got %#v)", ok, c.ok, got)
			}
			if d, isDec := c.want.(decimal.Decimal); isDec {
				if gd, _ := got.(decimal.Decimal); !gd.Equal(d) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
				return
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	if got := FormatDateTime(time.Date(2020, 3, 4, 14, 5, 1, 310996500, time.UTC)); got != "2020-03-04T14:05:01.3109965Z" {
		t.Errorf("FormatDateTime = %s", got)
	}
	if got := FormatDateTime(time.Date(2020, 3, 4, 0, 0, 0, 0, time.UTC)); got != "2020-03-04T00:00:00Z" {
		t.Errorf("FormatDateTime whole second = %s", got)
	}
	for d, want := range map[time.Duration]string{
		time.Hour + 23*time.Minute + 45*time.Second + 678900*time.Microsecond: "01:23:45.6789000",
		26*time.Hour + 3*time.Minute + 4*time.Second:                          "1.02:03:04",
		-90 * time.Second: "-00:01:30",
	} {
		if got := FormatTimeSpan(d); got != want {
			t.Errorf("FormatTimeSpan(%v) = %s, want %s", d, got, want)
		}
		if back, err := ParseTimeSpan(want); err != nil || back != d {
			t.Errorf("ParseTimeSpan(%s) = %v, %v", want, back, err)
		}
	}
	if got := FormatJSON(Real, math.Inf(-1)); got != "-Infinity" {
		t.Errorf("FormatJSON(-Inf) = %v", got)
	}
	if got := FormatJSON(String, nil); got != "" {
		t.Errorf("null string on the wire = %v", got)
	}
	if got := FormatJSON(Long, nil); got != nil {
		t.Errorf("null long on the wire = %v", got)
	}
}

func TestTimeSpanBeyondDurationRange(t *testing.T) {
	// Kusto's timespan reaches ±10675199 days; a time.Duration only ±106751. Text beyond that
	// must not convert (null on ingestion) rather than wrap into a different value.
	for _, s := range []string{"10675199.02:48:05.4775807", "300000d", "-300000d"} {
		if v, ok := Convert(TimeSpan, s); ok || v != nil {
			t.Errorf("Convert(timespan, %q) = %v, %v; want null, false", s, v, ok)
		}
	}
	if got := FormatTimeSpan(time.Duration(math.MinInt64)); got != "-106751.23:47:16.8547758" {
		t.Errorf("FormatTimeSpan(MinInt64) = %s", got)
	}
}

func TestTableRowsPadNewColumns(t *testing.T) {
	tbl := &Table{Name: "T", Columns: []Column{{"a", Long}}}
	tbl.Append([][]any{{int64(1)}}, []string{"ingest-by:x"}, time.Now())
	tbl.Columns = append(tbl.Columns, Column{"b", String})
	tbl.Append([][]any{{int64(2), "two"}}, nil, time.Now())
	rows := tbl.Rows()
	if len(rows) != 2 || len(rows[0]) != 2 || rows[0][1] != nil || rows[1][1] != "two" {
		t.Fatalf("rows = %#v", rows)
	}
	if !tbl.HasTag("ingest-by:x") || tbl.HasTag("ingest-by:y") {
		t.Fatal("HasTag wrong")
	}
}
