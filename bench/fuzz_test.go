package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// seedTestdata adds every recorded tool output as a seed.
func seedTestdata(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParsers feeds arbitrary bytes to every parser: they must return an
// error or a result, never panic, and a parsed result must be sane.
func FuzzParsers(f *testing.F) {
	seedTestdata(f)
	f.Add([]byte("EPLINK_WRK {}"))
	f.Add([]byte("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"))
	f.Add([]byte("m{a=\"\\\\\",b=\"x\"} 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ParseWrk(b); err == nil && r == nil {
			t.Fatal("ParseWrk: nil result without error")
		}
		if r, err := ParseIperf(b); err == nil && len(r.End.Streams) == 0 {
			t.Fatal("ParseIperf: no streams without error")
		}
		_, _ = ParseDNSPerf(b)
		if ps, err := ParseProcPIDStat(b); err == nil && (ps.UserSec < 0 || ps.SystemSec < 0 || ps.Threads < 0 ||
			ps.CPUSec() != ps.UserSec+ps.SystemSec) {
			t.Fatalf("ParseProcPIDStat: %+v", ps)
		}
		_, _ = ParseProcStatus(b)
		_, _ = parseProm(bytes.NewReader(b))
		if out, err := SpliceReadme(b, []byte("x")); err == nil && !bytes.Contains(out, []byte(perfBegin+"\nx\n"+perfEnd)) {
			t.Fatalf("SpliceReadme lost the section: %q", out)
		}
	})
}
