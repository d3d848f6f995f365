package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The demo of `kconnect dev` sends storm events, the sample data Kusto's own tutorials use,
// through Kafka into a table of the same shape.

// stormEventsTable is the Kusto table the demo creates.
const stormEventsTable = "StormEvents"

// stormEventsSchema is the table's columns in CSV order.
const stormEventsSchema = "(StartTime:datetime, EndTime:datetime, EpisodeId:int, EventId:int, State:string, " +
	"EventType:string, InjuriesDirect:int, InjuriesIndirect:int, DeathsDirect:int, DeathsIndirect:int, " +
	"DamageProperty:long, DamageCrops:long, Source:string, BeginLat:real, BeginLon:real)"

var (
	stormStates = []string{"TEXAS", "KANSAS", "OKLAHOMA", "IOWA", "NEBRASKA", "MISSOURI", "FLORIDA",
		"GEORGIA", "ILLINOIS", "COLORADO", "ATLANTIC SOUTH", "GULF OF MEXICO"}
	stormTypes = []string{"Thunderstorm Wind", "Hail", "Flash Flood", "Tornado", "Heavy Rain", "Winter Storm",
		"High Wind", "Lightning", "Waterspout", "Heat", "Drought", "Funnel Cloud"}
	stormSources = []string{"Trained Spotter", "Public", "Emergency Manager", "Law Enforcement", "NWS Storm Survey",
		"Broadcast Media", "Newspaper", "ASOS"}
)

// stormEvent renders the i-th generated storm event as one CSV line (no newline). The same seed
// and index always give the same line, so a demo run is reproducible; event ids are unique.
func stormEvent(r *rand.Rand, i int) string {
	start := time.Date(2007, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(365*24*60)) * time.Minute)
	end := start.Add(time.Duration(r.IntN(6*60)) * time.Minute)
	damage := 0
	if r.IntN(4) == 0 {
		damage = (1 + r.IntN(500)) * 1000
	}
	fields := []string{
		start.Format(time.RFC3339),
		end.Format(time.RFC3339),
		fmt.Sprint(1000 + i/7),
		fmt.Sprint(10000 + i),
		stormStates[r.IntN(len(stormStates))],
		stormTypes[r.IntN(len(stormTypes))],
		fmt.Sprint(r.IntN(3)),
		fmt.Sprint(r.IntN(2)),
		fmt.Sprint(boolInt(r.IntN(50) == 0)),
		"0",
		fmt.Sprint(damage),
		fmt.Sprint(damage / 10),
		stormSources[r.IntN(len(stormSources))],
		fmt.Sprintf("%.4f", 25+r.Float64()*24),
		fmt.Sprintf("%.4f", -124+r.Float64()*57),
	}
	return strings.Join(fields, ",")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
