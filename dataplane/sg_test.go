package dataplane

import (
	"net/netip"
	"testing"

	"eplink/controlplane/snapshot"
)

func rule(proto, cidr string, from, to uint16, accept bool, prio int) snapshot.Rule {
	return snapshot.Rule{Protocol: proto, PortFrom: from, PortTo: to,
		SourceCIDR: netip.MustParsePrefix(cidr), Accept: accept, Priority: prio}
}

func TestSecurityGroups(t *testing.T) { onEachFrontEnd(t, testSecurityGroups) }

func testSecurityGroups(t *testing.T, fe frontEnd) {
	tests := []struct {
		name   string
		groups map[string][]snapshot.Rule
		src    string
		port   uint16
		want   bool
	}{
		{"no rules: drop", map[string][]snapshot.Rule{"sg-a": nil}, "127.0.0.1", 80, false},
		{"no groups: drop", nil, "127.0.0.1", 80, false},
		{"accept all", map[string][]snapshot.Rule{"sg-a": {rule("tcp", "0.0.0.0/0", 1, 65535, true, 1)}}, "127.0.0.1", 80, true},
		{"no match: drop", map[string][]snapshot.Rule{"sg-a": {rule("tcp", "10.0.0.0/8", 1, 65535, true, 1)}}, "127.0.0.1", 80, false},
		{"CIDR match", map[string][]snapshot.Rule{"sg-a": {rule("tcp", "127.0.0.0/24", 1, 65535, true, 1)}}, "127.0.0.9", 80, true},
		{"CIDR just outside", map[string][]snapshot.Rule{"sg-a": {rule("tcp", "127.0.0.0/24", 1, 65535, true, 1)}}, "127.0.1.9", 80, false},
		{"single host", map[string][]snapshot.Rule{"sg-a": {rule("tcp", "127.0.0.9/32", 1, 65535, true, 1)}}, "127.0.0.9", 80, true},
		{"port range low edge", map[string][]snapshot.Rule{"sg-a": {rule("tcp", "0.0.0.0/0", 80, 90, true, 1)}}, "127.0.0.1", 80, true},
		{"port range high edge", map[string][]snapshot.Rule{"sg-a": {rule("tcp", "0.0.0.0/0", 80, 90, true, 1)}}, "127.0.0.1", 90, true},
		{"port outside range", map[string][]snapshot.Rule{"sg-a": {rule("tcp", "0.0.0.0/0", 80, 90, true, 1)}}, "127.0.0.1", 91, false},
		{"-1/-1 means every port", map[string][]snapshot.Rule{"sg-a": {rule("all", "0.0.0.0/0", 0, 0, true, 1)}}, "127.0.0.1", 18080, true},
		{"udp rule ignored", map[string][]snapshot.Rule{"sg-a": {rule("udp", "0.0.0.0/0", 1, 65535, true, 1)}}, "127.0.0.1", 80, false},
		{"protocol all applies", map[string][]snapshot.Rule{"sg-a": {rule("all", "0.0.0.0/0", 1, 65535, true, 1)}}, "127.0.0.1", 80, true},
		{"lower priority number first: drop at 1 beats accept at 2",
			map[string][]snapshot.Rule{"sg-a": {rule("tcp", "0.0.0.0/0", 1, 65535, true, 2), rule("tcp", "127.0.0.0/8", 1, 65535, false, 1)}},
			"127.0.0.1", 80, false},
		{"accept at 1 beats drop at 2",
			map[string][]snapshot.Rule{"sg-a": {rule("tcp", "127.0.0.0/8", 1, 65535, false, 2), rule("tcp", "0.0.0.0/0", 1, 65535, true, 1)}},
			"127.0.0.1", 80, true},
		{"drop beats accept at equal priority",
			map[string][]snapshot.Rule{"sg-a": {rule("tcp", "0.0.0.0/0", 1, 65535, true, 5), rule("tcp", "127.0.0.0/8", 1, 65535, false, 5)}},
			"127.0.0.1", 80, false},
		{"drop beats accept at equal priority across groups",
			map[string][]snapshot.Rule{"sg-a": {rule("tcp", "0.0.0.0/0", 1, 65535, true, 5)}, "sg-b": {rule("tcp", "127.0.0.1/32", 1, 65535, false, 5)}},
			"127.0.0.1", 80, false},
		{"a non-matching drop does not block",
			map[string][]snapshot.Rule{"sg-a": {rule("tcp", "0.0.0.0/0", 1, 65535, true, 5)}, "sg-b": {rule("tcp", "127.0.0.2/32", 1, 65535, false, 1)}},
			"127.0.0.1", 80, true},
		{"IPv4-mapped source", map[string][]snapshot.Rule{"sg-a": {rule("tcp", "127.0.0.0/8", 1, 65535, true, 1)}}, "::ffff:127.0.0.1", 80, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups := map[string]*snapshot.SecurityGroup{}
			var ids []string
			for id, rules := range tt.groups {
				groups[id] = &snapshot.SecurityGroup{ID: id, Rules: rules}
				ids = append(ids, id)
			}
			ids = append(ids, "sg-missing") // unknown groups add nothing
			sg := compileSG(groups, ids)
			if got := sg.allows(netip.MustParseAddr(tt.src), tt.port); got != tt.want {
				t.Errorf("allows(%s, %d) = %v, want %v", tt.src, tt.port, got, tt.want)
			}
		})
	}
}

func FuzzSecurityGroupFirstMatchDecides(f *testing.F) {
	f.Add(uint8(5), true, uint8(5), false, uint16(80), uint8(8))
	f.Add(uint8(1), false, uint8(2), true, uint16(443), uint8(32))
	f.Fuzz(func(t *testing.T, p1 uint8, a1 bool, p2 uint8, a2 bool, port uint16, bits uint8) {
		r1 := rule("tcp", "0.0.0.0/0", 1, 65535, a1, int(p1))
		r2 := rule("tcp", netip.PrefixFrom(netip.MustParseAddr("127.0.0.1"), int(bits%33)).Masked().String(), 1, 65535, a2, int(p2))
		sg := compileSG(map[string]*snapshot.SecurityGroup{"a": {Rules: []snapshot.Rule{r1}}, "b": {Rules: []snapshot.Rule{r2}}}, []string{"a", "b"})
		if port == 0 {
			port = 1
		}
		// Both rules match 127.0.0.1: the lower priority number decides,
		// drop at a tie.
		want := a1
		switch {
		case p2 < p1:
			want = a2
		case p1 == p2:
			want = a1 && a2
		}
		if got := sg.allows(netip.MustParseAddr("127.0.0.1"), port); got != want {
			t.Fatalf("p1=%d a1=%v p2=%d a2=%v: got %v want %v", p1, a1, p2, a2, got, want)
		}
	})
}
