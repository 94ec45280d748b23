package lab

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every line of an error
// names the file, and that whatever Parse accepts also passes Validate.
func FuzzParse(f *testing.F) {
	f.Add([]byte(designExample))
	f.Add([]byte(readFull(f)))
	if b, err := os.ReadFile("../../examples/lab.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"~",
		"region: [",
		"region: cn-hangzhou\nregion: cn-hangzhou\n",
		"zones: &z [*z]\n",
		"limits: {connection_bandwidth_mbps: {default: 0x10, min: 1_0, max: 1e3}}\n",
		"vpcs: [{id: vpc-a, cidr: 127.0.0.1/8, vswitches: [{cidr: '::1/128'}]}]\n",
		"load_balancers: [{health_check: {interval: -1s, rise: 9999999999999999999}}]\n",
		"accounts: [{uid: 0000000000000000, access_keys: [{id: a}, {id: a}]}]\n--- \nx: 1\n",
		"? [a, b]\n: c\n",
		"<<: {region: cn-hangzhou}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data, "fuzz.yaml")
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("error line %q does not name the file; whole error:\n%v", line, err)
				}
			}
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("Parse accepted a lab that Validate rejects: %v", err)
		}
	})
}
