package textsafe

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

var hostile = []string{
	"\x1b[2J\x1b[H",       // clear screen
	"a\x1b]0;pwned\x07b",  // OSC: window title
	"fake\n1\tevil\t9\t9", // a fake table row
	"cr\roverwrite",       // carriage return
	"bad\xffutf8",         // invalid UTF-8
	"c1\u009b31m",         // C1 CSI
	"del\x7f",             // DEL
	"bidi\u202egnp.exe",   // right-to-left override
	"iso\u2066x\u2069",    // bidi isolate
	"line\u2028sep",       // line separator
	"\x00nul",             // NUL
	"trunc\xe2\x82",       // truncated multi-byte sequence
}

var fine = []string{"speed-limit-90", "Tempo 30 km/h", "Straße", "停止", "\ufffd", "a\\x1b", "zwj\u200dx", ""}

// safe reports whether s holds no control byte, unsafe rune or invalid
// UTF-8: what may reach a terminal.
func safe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if Unsafe(r) {
			return false
		}
	}
	return true
}

func TestCheck(t *testing.T) {
	for _, s := range hostile {
		if Check(s) < 0 {
			t.Errorf("Check(%q) = -1, want the offending offset", s)
		}
	}
	for _, s := range fine {
		if i := Check(s); i >= 0 {
			t.Errorf("Check(%q) = %d, want -1", s, i)
		}
	}
	if i := Check("ab\x1b"); i != 2 {
		t.Errorf("offset %d, want 2", i)
	}
}

func TestEscapeAndCell(t *testing.T) {
	for _, s := range hostile {
		for name, got := range map[string]string{"Escape": Escape(s), "Cell": Cell(s)} {
			if !safe(got) {
				t.Errorf("%s(%q) = %q still unsafe", name, s, got)
			}
		}
	}
	for _, s := range fine {
		if Escape(s) != s || Cell(s) != s {
			t.Errorf("safe %q changed: %q, %q", s, Escape(s), Cell(s))
		}
	}
	if got := Escape("a\x1b]0;t\x07\xff\u202e"); got != `a\x1b]0;t\a\xff\u202e` {
		t.Errorf("Escape = %s", got)
	}
	if got := Cell("a\tb"); got != `"a\tb"` {
		t.Errorf("Cell = %s", got)
	}
}

func TestJSON(t *testing.T) {
	v := map[string]any{"labels": hostile, "n": 1}
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := JSON(raw)
	// Only the structural newlines and indentation remain as whitespace
	// controls; nothing else unsafe is left raw.
	for _, r := range strings.NewReplacer("\n", "", "\t", "").Replace(string(got)) {
		if Unsafe(r) {
			t.Fatalf("unsafe rune %U left in %s", r, got)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("rewritten JSON does not parse: %v\n%s", err, got)
	}
	var orig map[string]any
	json.Unmarshal(raw, &orig)
	if b1, _ := json.Marshal(back); string(b1) != string(mustMarshal(t, orig)) {
		t.Fatalf("rewriting changed the values:\n%s\n%s", b1, mustMarshal(t, orig))
	}
	plain := []byte(`{"a": "b"}`)
	if string(JSON(plain)) != string(plain) {
		t.Fatal("safe JSON changed")
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
