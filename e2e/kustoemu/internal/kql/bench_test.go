package kql

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// benchCluster holds table B of n rows: a key of 100 values, a number, a time and a bag.
func benchCluster(b *testing.B, n int) *model.Cluster {
	b.Helper()
	c := model.NewCluster("db")
	rows := make([][]any, n)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		bag, _ := model.Convert(model.Dynamic, fmt.Sprintf(`{"k":"v%d","n":%d}`, i%7, i))
		rows[i] = []any{fmt.Sprintf("key%d", i%100), int64(i), start.Add(time.Duration(i) * time.Second), bag}
	}
	_ = c.Update(func(s *model.State) error {
		t := &model.Table{Name: "B", Columns: []model.Column{{Name: "k", Type: model.String}, {Name: "n", Type: model.Long},
			{Name: "ts", Type: model.DateTime}, {Name: "d", Type: model.Dynamic}}}
		t.Append(rows, nil, start)
		s.Databases["db"].Tables["B"] = t
		return nil
	})
	return c
}

func BenchmarkQuery(b *testing.B) {
	c := benchCluster(b, 100_000)
	for _, q := range []string{
		"B | where n % 2 == 0 and d.k == 'v3' | count",
		"B | summarize count(), avg(n), dcount(k) by bin(ts, 1h)",
		"B | extend x = tostring(d.k) | project k, x, n | top 10 by n",
	} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := Query(context.Background(), c, "db", q, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
