// Package corpus generates deterministic telemetry-style JSON records of about 1 KiB, the record
// shape the sink's benchmarks and compression tests are measured on.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var (
	regions  = []string{"westeurope", "eastus", "eastus2", "northeurope", "southeastasia", "centralus"}
	services = []string{"checkout", "payments", "catalog", "search", "identity", "inventory", "shipping"}
	levels   = []string{"INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"}
	words    = strings.Fields("request completed upstream latency exceeded budget retry scheduled cache miss " +
		"connection reset by peer token refreshed order placed payment authorised item reserved " +
		"shipment created customer notified queue depth rising disk pressure gc pause")
)

// Records returns n JSON object records (no trailing newline), the same for the same seed.
func Records(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([][]byte, n)
	for i := range out {
		out[i] = record(r, i)
	}
	return out
}

func record(r *rand.Rand, i int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"id":%d,"ts":"2026-11-21T%02d:%02d:%02d.%03dZ","region":%q,"service":%q,"level":%q,`,
		i, r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000),
		regions[r.IntN(len(regions))], services[r.IntN(len(services))], levels[r.IntN(len(levels))])
	fmt.Fprintf(&b, `"host":"node-%03d.cluster.internal","pod":"%s-%08x","trace_id":"%016x%016x",`,
		r.IntN(200), services[r.IntN(len(services))], r.Uint32(), r.Uint64(), r.Uint64())
	fmt.Fprintf(&b, `"latency_ms":%.3f,"status":%d,"bytes_in":%d,"bytes_out":%d,`,
		r.Float64()*900, []int{200, 200, 200, 201, 404, 500, 503}[r.IntN(7)], r.IntN(1<<20), r.IntN(1<<22))
	b.WriteString(`"message":"`)
	for j, nw := 0, 30+r.IntN(30); j < nw; j++ {
		if j > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	b.WriteString(`","tags":[`)
	for j, nt := 0, 2+r.IntN(5); j < nt; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s:%d"`, words[r.IntN(len(words))], r.IntN(100))
	}
	b.WriteString(`],"metrics":{`)
	for j := 0; j < 16; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"m%d":%.4f`, j, r.Float64()*1000)
	}
	fmt.Fprintf(&b, `},"user":{"id":"u-%06d","segment":%q,"country":%q},"session":"%08x-%04x-%04x"}`,
		r.IntN(1000000), []string{"free", "pro", "enterprise"}[r.IntN(3)],
		[]string{"NL", "US", "DE", "SG", "BR", "IN"}[r.IntN(6)], r.Uint32(), r.IntN(1<<16), r.IntN(1<<16))
	return []byte(b.String())
}
