package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// The README's performance section lives between these markers; SpliceReadme
// replaces what is between them with README-perf.md.
const (
	perfBegin = "<!-- perf:begin -->"
	perfEnd   = "<!-- perf:end -->"
)

// SpliceReadme returns readme with the text between the perf markers
// replaced by section. It is an error if the markers are missing or out of
// order: the README decides where the section goes.
func SpliceReadme(readme, section []byte) ([]byte, error) {
	i := bytes.Index(readme, []byte(perfBegin))
	j := bytes.Index(readme, []byte(perfEnd))
	if i < 0 || j < 0 || j < i {
		return nil, fmt.Errorf("README has no %s … %s block", perfBegin, perfEnd)
	}
	var b bytes.Buffer
	b.Write(readme[:i+len(perfBegin)])
	b.WriteByte('\n')
	b.Write(bytes.TrimSpace(section))
	b.WriteByte('\n')
	b.Write(readme[j:])
	return b.Bytes(), nil
}

// LoadReport reads dir/results.json.
func LoadReport(dir string) (*Report, error) {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	if err := json.Unmarshal(b, rep); err != nil {
		return nil, fmt.Errorf("%s/results.json: %w", dir, err)
	}
	return rep, nil
}

// Render rewrites dir's Markdown, README-perf.md and charts from its
// results.json, without measuring anything.
func Render(dir string) (*Report, error) {
	rep, err := LoadReport(dir)
	if err != nil {
		return nil, err
	}
	return rep, rep.write(dir)
}

// UpdateReadme splices dir's README-perf.md into the README at path.
func UpdateReadme(path, dir string) error {
	readme, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	section, err := os.ReadFile(filepath.Join(dir, "README-perf.md"))
	if err != nil {
		return err
	}
	out, err := SpliceReadme(readme, section)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
