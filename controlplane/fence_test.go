package controlplane

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportFence keeps the layers of DESIGN §2: the data plane, DNS and
// metrics read the Snapshot and never reach into the control plane's
// internals (model, store, API).
func TestImportFence(t *testing.T) {
	for _, dir := range []string{"../dataplane", "../dns", "../metrics"} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				return nil
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(p, "eplink/controlplane") && p != "eplink/controlplane/snapshot" &&
					!cloudMonitorMayImport(path, p) {
					t.Errorf("%s imports %s; only eplink/controlplane/snapshot is allowed", path, p)
				}
			}
			return nil
		})
	}
}

// cloudMonitorMayImport: CloudMonitor (metrics/cloudmonitor) is a second
// product on the same front door and store (DESIGN §2, §4), so it may use
// the RPC layer and the bbolt store, never the PrivateLink model. Its
// tests assemble a whole eplink (control plane, data plane, both APIs) and
// may import anything.
func cloudMonitorMayImport(path, imp string) bool {
	path = filepath.ToSlash(path)
	if !strings.Contains(path, "metrics/cloudmonitor/") {
		return false
	}
	return strings.HasSuffix(path, "_test.go") ||
		imp == "eplink/controlplane/rpc" || imp == "eplink/controlplane/store"
}
