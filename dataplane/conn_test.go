package dataplane

import (
	"net/netip"
	"testing"

	"eplink/controlplane/snapshot"
)

// TestAllowsICMP: echo to an ENI follows its endpoint's ICMP (and "all")
// rules on the real source; other addresses of the VPC always answer.
func TestAllowsICMP(t *testing.T) {
	l := newLabOn(t, connFE, Options{})
	w := newWorld(echoServer(t))
	w.rules = append(w.rules, // tcp from anywhere (newWorld), icmp from one /32
		snapshot.Rule{Protocol: "icmp", PortFrom: 1, PortTo: 65535, SourceCIDR: netip.MustParsePrefix("10.0.0.1/32"), Accept: true, Priority: 1},
		snapshot.Rule{Protocol: "all", PortFrom: 1, PortTo: 65535, SourceCIDR: netip.MustParsePrefix("10.0.0.2/32"), Accept: false, Priority: 1})
	l.publish(w.snap())
	for _, tc := range []struct {
		dst, src string
		want     bool
	}{
		{w.eni.String(), "10.0.0.1", true},
		{w.eni.String(), "10.0.0.2", false}, // "all" drop
		{w.eni.String(), "10.0.0.3", false}, // no rule: drop (the tcp rule does not count)
		{"10.9.9.9", "10.0.0.3", true},      // not an ENI
	} {
		if got := l.p.AllowsICMP("", netip.MustParseAddr(tc.dst), netip.MustParseAddr(tc.src)); got != tc.want {
			t.Errorf("AllowsICMP(%s ← %s) = %v, want %v", tc.dst, tc.src, got, tc.want)
		}
	}
	if l.p.AllowsICMP("vpc-other", w.eni, netip.MustParseAddr("10.0.0.3")) != true {
		t.Error("an ENI address of another VPC is filtered")
	}
}
