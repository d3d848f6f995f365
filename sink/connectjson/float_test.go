package connectjson

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// Java's Double.toString and Float.toString, which Jackson and the StringConverter use.
func TestAppendJavaFloat(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0.0"}, {math.Copysign(0, -1), 64, "-0.0"}, {1, 64, "1.0"}, {-2.5, 64, "-2.5"}, {100, 64, "100.0"},
		{1234567, 64, "1234567.0"}, {1e7, 64, "1.0E7"}, {12345678, 64, "1.2345678E7"}, {12345678.9, 64, "1.23456789E7"},
		{0.001, 64, "0.001"}, {0.0001, 64, "1.0E-4"}, {1.0e-3 - 1e-19, 64, "9.999999999999998E-4"}, {0.1, 64, "0.1"},
		{1e20, 64, "1.0E20"}, {1e21, 64, "1.0E21"}, {1e23, 64, "1.0E23"}, {123.456, 64, "123.456"}, {2e-5, 64, "2.0E-5"},
		{5e-324, 64, "4.9E-324"}, {1e-323, 64, "9.9E-324"}, {math.MaxFloat64, 64, "1.7976931348623157E308"},
		{math.NaN(), 64, "NaN"}, {math.Inf(1), 64, "Infinity"}, {math.Inf(-1), 64, "-Infinity"},
		{float64(float32(0.1)), 32, "0.1"}, {float64(float32(1.1)), 32, "1.1"}, {float64(float32(12.34)), 32, "12.34"},
		{float64(float32(3.4028235e38)), 32, "3.4028235E38"}, {float64(math.SmallestNonzeroFloat32), 32, "1.4E-45"},
		{float64(float32(1e7)), 32, "1.0E7"}, {float64(float32(-0.5)), 32, "-0.5"},
	} {
		if got := string(AppendJavaFloat(nil, tc.f, tc.bits)); got != tc.want {
			t.Errorf("AppendJavaFloat(%v, %d) = %s, want %s", tc.f, tc.bits, got, tc.want)
		}
	}
}

func TestAppendFloatQuotesNonFiniteNumbers(t *testing.T) {
	for f, want := range map[float64]string{math.NaN(): `"NaN"`, math.Inf(1): `"Infinity"`, math.Inf(-1): `"-Infinity"`, 2.5: `2.5`, 1e-7: `1.0E-7`} {
		if got := string(AppendFloat(nil, f, 64)); got != want {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

// Whatever the value, the text reads back as the same float, in the notation its magnitude asks.
func TestAppendJavaFloatRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		bits := 64
		f := math.Float64frombits(r.Uint64())
		if r.IntN(2) == 0 {
			bits = 32
			f = float64(math.Float32frombits(r.Uint32()))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
			continue
		}
		got := string(AppendJavaFloat(nil, f, bits))
		back, err := strconv.ParseFloat(got, bits)
		if err != nil || back != f {
			t.Fatalf("AppendJavaFloat(%v, %d) = %s, which reads back as %v (%v)", f, bits, got, back, err)
		}
		abs := math.Abs(f)
		if plain := abs >= 1e-3 && abs < 1e7; plain == strings.Contains(got, "E") || !strings.Contains(got, ".") {
			t.Fatalf("AppendJavaFloat(%v, %d) = %s: wrong notation", f, bits, got)
		}
	}
}
