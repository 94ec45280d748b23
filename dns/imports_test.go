package dns

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportFence keeps the DNS server on the reader side of the snapshot
// boundary: of eplink's own packages it may import only the Snapshot
// contract, never the control plane's internals or the data plane.
func TestImportFence(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "eplink/") && path != "eplink/controlplane/snapshot" {
				t.Errorf("%s imports %s; dns may only import eplink/controlplane/snapshot", f, path)
			}
		}
	}
}
