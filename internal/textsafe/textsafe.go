// Package textsafe decides which strings may reach a terminal as they are.
// Labels, metadata keys and file names can come from files written by
// someone else; a raw ESC, CSI or OSC sequence in them would let that
// someone clear the screen, fake table rows or set the window title.
package textsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Unsafe reports whether r must not be written raw to a terminal: C0 and C1
// control characters and DEL (ESC, CSI, OSC, newline, tab...), the Unicode
// line and paragraph separators, and the bidirectional embedding, override
// and isolate controls, which reorder what is displayed ("Trojan Source").
// utf8.RuneError stands for a byte that is not valid UTF-8 only when the
// caller says so; a valid U+FFFD is printable.
func Unsafe(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// Check returns the byte offset of the first unsafe rune or invalid UTF-8
// byte of s, or -1 when s may be printed as it is.
func Check(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return i
			}
		}
		if Unsafe(r) {
			return i
		}
	}
	return -1
}

// Cell returns s for a table cell: s itself when it is safe, else s quoted
// with Go escapes (strconv.Quote), so the reader sees that it was escaped.
func Cell(s string) string {
	if Check(s) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// Escape replaces each unsafe rune and invalid byte of s by its Go escape
// (\x1b, \n, \u202e, \xff) and keeps everything else, for messages where
// quoting the whole text would hurt more than it helps.
func Escape(s string) string {
	if Check(s) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case Unsafe(r):
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// JSON rewrites encoding/json output so that no unsafe rune is left raw:
// encoding/json escapes C0 controls and U+2028/U+2029 but writes DEL, C1
// controls and bidi controls as they are. Outside strings JSON holds only
// ASCII punctuation and whitespace, so every unsafe rune other than that
// whitespace is inside a string, where \uXXXX means the same rune.
func JSON(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		bad := r == utf8.RuneError && n == 1 // never from encoding/json
		if !bad && (r == '\n' || r == '\t' || r == '\r' || !Unsafe(r)) {
			if out != nil {
				out = append(out, b[i:i+n]...)
			}
			i += n
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+16), b[:i]...)
		}
		out = append(out, `\u`...)    // every unsafe rune is in the BMP
		out = append(out, hex4(r)...) // an invalid byte becomes \ufffd
		i += n
	}
	if out == nil {
		return b
	}
	return out
}

const digits = "0123456789abcdef"

func hex2(c byte) string { return string([]byte{digits[c>>4], digits[c&15]}) }

func hex4(r rune) string {
	return string([]byte{digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15]})
}
