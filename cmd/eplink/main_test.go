package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRunExitCodes: no command is a usage error (exit 2, usage on stderr);
// asking for help is not.
func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string // substrings; "" = empty
	}{
		{args: nil, code: 2, stderr: "usage: eplink COMMAND"},
		{args: []string{"--help"}, code: 0, stdout: "usage: eplink COMMAND"},
		{args: []string{"help"}, code: 0, stdout: "usage: eplink COMMAND"},
		{args: []string{"version"}, code: 0, stdout: "eplink "},
		{args: []string{"frob"}, code: 2, stderr: `unknown command "frob"`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !matches(stdout.String(), tc.stdout) || !matches(stderr.String(), tc.stderr) {
			t.Errorf("eplink %v: exit %d, stdout %q, stderr %q; want %d, %q, %q",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}

func matches(got, want string) bool {
	if want == "" {
		return got == ""
	}
	return strings.Contains(got, want)
}

// TestHelpWidth: every help text fits 100 columns (tabs at 8).
func TestHelpWidth(t *testing.T) {
	helps := [][]string{{"--help"}, {"api", "--help"}, {"serve", "--help"}, {"status", "--help"},
		{"fault", "--help"}, {"bench", "--help"}, {"backend", "--help"}}
	for _, a := range catalog {
		helps = append(helps, []string{"api", a.Name, "--help"})
	}
	for _, args := range helps {
		var out bytes.Buffer
		run(args, &out, &out)
		for _, line := range strings.Split(out.String(), "\n") {
			if w := columns(line); w > helpWidth {
				t.Errorf("eplink %s: a line of %d columns:\n%s", strings.Join(args, " "), w, line)
			}
		}
	}
}

// columns is the width of line on a terminal with tab stops every 8.
func columns(line string) int {
	n := 0
	for _, r := range line {
		if r == '\t' {
			n += 8 - n%8
		} else {
			n++
		}
	}
	return n
}
