package wire

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

func BenchmarkWriteV2(b *testing.B) {
	rows := make([][]any, 100_000)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		bag, _ := model.Convert(model.Dynamic, fmt.Sprintf(`{"k":"v%d"}`, i))
		rows[i] = []any{fmt.Sprintf("name %d", i), int64(i), float64(i) / 3, start.Add(time.Duration(i) * time.Second), bag}
	}
	res := []model.Result{{Columns: []model.Column{{Name: "s", Type: model.String}, {Name: "n", Type: model.Long},
		{Name: "r", Type: model.Real}, {Name: "t", Type: model.DateTime}, {Name: "d", Type: model.Dynamic}}, Rows: rows}}
	for b.Loop() {
		if err := WriteV2(io.Discard, res); err != nil {
			b.Fatal(err)
		}
	}
}
