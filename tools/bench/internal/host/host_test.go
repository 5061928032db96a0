package host

import (
	"slices"
	"testing"
)

func TestThreads(t *testing.T) {
	got, err := Threads("1, 2,8")
	if err != nil || !slices.Equal(got, []int{1, 2, 8}) {
		t.Fatalf("Threads: %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "1,,2", "x", "-1"} {
		if _, err := Threads(bad); err == nil {
			t.Errorf("Threads(%q) accepted", bad)
		}
	}
}
