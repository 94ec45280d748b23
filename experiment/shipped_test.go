package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShippedPlans: the plans in examples/experiments/ (which make
// experiments runs) and the README's example parse.
func TestShippedPlans(t *testing.T) {
	plans, err := filepath.Glob("../examples/experiments/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range plans {
		if filepath.Base(path) == "lab.yaml" {
			continue
		}
		n++
		p, err := ParseFile(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if _, err := os.Stat(p.LabPath()); err != nil {
			t.Errorf("%s: lab: %v", path, err)
		}
	}
	netnsPlans, _ := filepath.Glob("../examples/experiments/netns/*.yaml")
	for _, path := range netnsPlans {
		if filepath.Base(path) == "lab.yaml" {
			continue
		}
		if _, err := ParseFile(path); err != nil {
			t.Error(err)
		}
	}
	if n < 5 {
		t.Errorf("%d plans in examples/experiments/, want the 5 the README lists", n)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## Failover experiments")
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README: no yaml example under Failover experiments")
	}
	if _, err := Parse([]byte(block), "README.md"); err != nil {
		t.Errorf("the README's example plan: %v", err)
	}
}
