package containerd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestTailOffsetFindsTheLastLines(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 20000; i++ { // about 200 KB: several read chunks
		fmt.Fprintf(&b, "line %d\n", i)
	}
	for _, tc := range []struct {
		name, content string
		n             int
		want          string
	}{
		{"all", "a\nb\nc\n", -1, "a\nb\nc\n"},
		{"none", "a\nb\nc\n", 0, ""},
		{"two", "a\nb\nc\n", 2, "b\nc\n"},
		{"more than there are", "a\nb\n", 5, "a\nb\n"},
		{"unterminated last line", "a\nb\nc", 2, "b\nc"},
		{"empty", "", 3, ""},
		{"across chunks", b.String(), 12345, b.String()[strings.Index(b.String(), "line 7656\n"):]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			off, err := tailOffset(f, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			f.Seek(off, io.SeekStart)
			got, _ := io.ReadAll(f)
			if string(got) != tc.want {
				t.Fatalf("tail %d = %.60q..., want %.60q...", tc.n, got, tc.want)
			}
		})
	}
}

func TestLastWinsKeepsTheLastValueOfEachName(t *testing.T) {
	got := lastWins([]string{"A=1", "B=2", "A=3", "C="})
	if want := []string{"B=2", "A=3", "C="}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lastWins = %v, want %v", got, want)
	}
}
