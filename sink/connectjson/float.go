package connectjson

import (
	"math"
	"strconv"
)

// AppendFloat appends f as a JSON number the way Jackson writes a Java double (bits 64) or
// float (bits 32): in the notation of [AppendJavaFloat]. NaN and the infinities, which JSON
// lacks, are written as the strings "NaN", "Infinity" and "-Infinity" (Jackson's
// QUOTE_NON_NUMERIC_NUMBERS, on by default and in Connect's JsonConverter).
func AppendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		dst = append(dst, '"')
		dst = AppendJavaFloat(dst, f, bits)
		return append(dst, '"')
	}
	return AppendJavaFloat(dst, f, bits)
}

// AppendJavaFloat appends f as Java's Double.toString (bits 64) or Float.toString (bits 32)
// writes it: the shortest digits that identify the value, in plain notation with at least one
// fraction digit when 10^-3 ≤ |f| < 10^7 ("100.0", "0.001"), otherwise in scientific notation
// ("1.0E7", "1.234E-5"). NaN and the infinities are written NaN, Infinity and -Infinity,
// unquoted: this is the text form, as a StringConverter writes a number; JSON wants
// [AppendFloat]. When the shortest form has one digit, the closest two-digit decimal is used,
// as Java specifies (4.9E-324 for Double.MIN_VALUE, not 5.0E-324).
func AppendJavaFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits) // e.g. -1.2345e-05
	if len(e) >= 2 && (e[1] == 'e' || e[0] == '-' && e[2] == 'e') {
		// One significant digit: Java prints the two-digit decimal closest to the value instead.
		e = strconv.AppendFloat(tmp[:0], f, 'e', 1, bits)
	}
	if e[0] == '-' {
		e = e[1:]
		dst = append(dst, '-')
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
	exp := 0
	expText := e[ePos+1:]
	neg := expText[0] == '-'
	for _, c := range expText[1:] { // strconv always writes the exponent's sign
		exp = exp*10 + int(c-'0')
	}
	if neg {
		exp = -exp
	}
	if abs := math.Abs(f); abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			intDigits := exp + 1
			for i := range intDigits {
				if i < nd {
					dst = append(dst, digits[i])
				} else {
					dst = append(dst, '0')
				}
			}
			dst = append(dst, '.')
			if intDigits < nd {
				return append(dst, digits[intDigits:nd]...)
			}
			return append(dst, '0')
		}
		dst = append(dst, '0', '.')
		for range -exp - 1 {
			dst = append(dst, '0')
		}
		return append(dst, digits[:nd]...)
	}
	dst = append(dst, digits[0], '.')
	if nd > 1 {
		dst = append(dst, digits[1:nd]...)
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}
