package task

import (
	"math"
	"strconv"
)

// appendJavaFloat appends f as Java's Double.toString (bits 64) or Float.toString (bits 32) writes
// it, which is also how Jackson writes JSON numbers: the shortest digits that identify the value,
// in plain notation with at least one fraction digit when 10^-3 ≤ |f| < 10^7 ("100.0", "0.001"),
// otherwise in scientific notation ("1.0E7", "1.234E-5"). NaN and the infinities are written
// "NaN", "Infinity" and "-Infinity". When the shortest form has one digit, the closest two-digit
// decimal is used, as the JDK 19+ specification of Double.toString requires.
func appendJavaFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits) // e.g. -1.2345e-05
	if len(e) >= 2 && (e[1] == 'e' || e[0] == '-' && e[2] == 'e') {
		// One significant digit: Java (JDK 19+) prints the two-digit decimal closest to the
		// value instead (4.9E-324, not 5.0E-324).
		e = strconv.AppendFloat(tmp[:0], f, 'e', 1, bits)
	}
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		b = append(b, '-')
	}
	ePos := 0
	for ePos < len(e) && e[ePos] != 'e' {
		ePos++
	}
	var digits [24]byte
	nd := 0
	for _, c := range e[:ePos] {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	for nd > 1 && digits[nd-1] == '0' {
		nd-- // trailing zeros are never printed beyond the one fraction digit
	}
	exp, _ := strconv.Atoi(string(e[ePos+1:]))
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			intDigits := exp + 1
			for i := range intDigits {
				if i < nd {
					b = append(b, digits[i])
				} else {
					b = append(b, '0')
				}
			}
			b = append(b, '.')
			if intDigits < nd {
				b = append(b, digits[intDigits:nd]...)
			} else {
				b = append(b, '0')
			}
			return b
		}
		b = append(b, '0', '.')
		for range -exp - 1 {
			b = append(b, '0')
		}
		return append(b, digits[:nd]...)
	}
	b = append(b, digits[0], '.')
	if nd > 1 {
		b = append(b, digits[1:nd]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}
