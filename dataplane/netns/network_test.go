//go:build linux

package netns

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"eplink/controlplane/snapshot"
	"eplink/dataplane/netstack"
)

func TestGateway(t *testing.T) {
	for cidr, want := range map[string]string{
		"10.10.0.0/24":    "10.10.0.253",
		"192.168.0.0/16":  "192.168.255.253",
		"172.16.4.0/22":   "172.16.7.253",
		"10.10.0.128/25":  "10.10.0.253",
		"10.10.0.0/29":    "10.10.0.5",
		"192.168.24.0/24": "192.168.24.253",
	} {
		if got := Gateway(netip.MustParsePrefix(cidr)); got != netip.MustParseAddr(want) {
			t.Errorf("Gateway(%s) = %s, want %s", cidr, got, want)
		}
	}
}

// TestServiceAddrs: a VPC's stack owns its endpoints' ENIs (the replaced
// one too), its CLBs' addresses and its vSwitches' gateways; nothing of
// another VPC, even at the same addresses.
func TestServiceAddrs(t *testing.T) {
	a := netip.MustParseAddr
	s := snapshot.Empty()
	s.VSwitches["vsw-1"] = &snapshot.VSwitch{ID: "vsw-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.10.0.0/24")}
	s.VSwitches["vsw-2"] = &snapshot.VSwitch{ID: "vsw-2", VpcID: "vpc-2", CIDR: netip.MustParsePrefix("10.10.0.0/24")}
	s.VSwitches["vsw-p"] = &snapshot.VSwitch{ID: "vsw-p", VpcID: "vpc-p", CIDR: netip.MustParsePrefix("192.168.24.0/24")}
	s.LoadBalancers["lb-1"] = &snapshot.LoadBalancer{ID: "lb-1", VpcID: "vpc-p", IP: a("192.168.24.252")}
	s.Endpoints["ep-1"] = &snapshot.Endpoint{ID: "ep-1", VpcID: "vpc-1", Zones: []*snapshot.EndpointZone{{
		ENI: snapshot.ENI{ID: "eni-new", IP: a("10.10.0.3")}, Replaced: &snapshot.Binding{ENI: snapshot.ENI{ID: "eni-old", IP: a("10.10.0.2")}},
	}}}
	s.Endpoints["ep-2"] = &snapshot.Endpoint{ID: "ep-2", VpcID: "vpc-2", Zones: []*snapshot.EndpointZone{{
		ENI: snapshot.ENI{ID: "eni-2", IP: a("10.10.0.2")},
	}}}
	for vpc, want := range map[string][]netip.Addr{
		"vpc-1": {a("10.10.0.2"), a("10.10.0.3"), a("10.10.0.253")},
		"vpc-2": {a("10.10.0.2"), a("10.10.0.253")},
		"vpc-p": {a("192.168.24.252"), a("192.168.24.253")},
		"vpc-x": nil,
	} {
		if got := ServiceAddrs(s, vpc); !slices.Equal(got, want) {
			t.Errorf("ServiceAddrs(%s) = %v, want %v", vpc, got, want)
		}
	}
}

// TestOwner: a record names a running process only while that very
// process runs; a pid given to another process since does not count.
func TestOwner(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	self := os.Getpid()
	write("me", ownerRecord(self))
	write("reused", fmt.Sprintf("%d 1\n", self)) // same pid, another start time
	write("old-form", fmt.Sprintf("%d\n", self))
	write("gone", "2147483646 5\n")
	write("junk", "x\n")
	for name, want := range map[string]bool{"me": true, "reused": false, "old-form": true, "gone": false, "junk": false, "missing": false} {
		if _, live := owner(dir, name); live != want {
			t.Errorf("owner(%s) live = %v, want %v", name, live, want)
		}
	}
}

// TestRecordWrittenWhole: an owner record appears whole (no temporary file
// is left beside it), and CleanStale never takes a record still being
// written (an empty one, under its temporary dot name) for a dead owner's.
func TestRecordWrittenWhole(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "ecs01")
	// Owned by another running process (init), so CleanStale keeps it.
	if err := writeRecord(rec, ownerRecord(1)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "ecs01" {
		t.Fatalf("after writeRecord the directory holds %v, want only ecs01", entries)
	}
	if _, live := owner(dir, "ecs01"); !live {
		t.Error("the record written does not name its running owner")
	}
	half := filepath.Join(dir, ".ecs02.12345")
	if err := os.WriteFile(half, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CleanStale(dir, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{rec, half} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("CleanStale removed %s: %v", filepath.Base(p), err)
		}
	}
}

// TestVersion: the network's Version is the snapshot whose addresses its
// stacks took last; serve's demo banner waits for it before it says the
// ENI answers.
func TestVersion(t *testing.T) {
	v, err := netstack.New(netstack.Config{ID: "vpc-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	n := &Network{vpcs: map[string]*netstack.VPC{"vpc-1": v}, log: slog.New(slog.DiscardHandler)}
	if got := n.Version(); got != 0 {
		t.Fatalf("Version before any snapshot = %d", got)
	}
	s := snapshot.Empty()
	s.Version = 7
	s.VSwitches["vsw-1"] = &snapshot.VSwitch{ID: "vsw-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.10.0.0/24")}
	n.apply(s)
	if got := n.Version(); got != 7 {
		t.Fatalf("Version after applying snapshot 7 = %d", got)
	}
}
