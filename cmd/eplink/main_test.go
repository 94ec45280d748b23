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
