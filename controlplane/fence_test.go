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
				if strings.HasPrefix(p, "eplink/controlplane") && p != "eplink/controlplane/snapshot" {
					t.Errorf("%s imports %s; only eplink/controlplane/snapshot is allowed", path, p)
				}
			}
			return nil
		})
	}
}
