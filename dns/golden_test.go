package dns

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"eplink/controlplane/snapshot"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestServeGolden records whole replies, as dig would print them, for a
// walk through the names of the fixture. A change in what the server says
// shows up as a diff of testdata/serve.golden; go test -update rewrites it.
func TestServeGolden(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	s := New(Config{}, pub)
	s.nsAddr.Store(ptr(netip.MustParseAddr("127.0.0.53")))
	s.apply(pub.Load())

	type q struct {
		name   string
		qtype  uint16
		proto  string
		client string
		edns   uint16
	}
	queries := []q{
		{name: apex, qtype: mdns.TypeSOA},
		{name: apex, qtype: mdns.TypeNS, edns: 1232},
		{name: epDomain("ep-one", "epsrv-plain"), qtype: mdns.TypeA},
		{name: "EP-AFF.epsrv-aff.cn-hangzhou.PrivateLink.aliyuncs.com.", qtype: mdns.TypeA, client: "127.10.1.9"},
		{name: zoneDomain("ep-mig", zoneH, "epsrv-plain"), qtype: mdns.TypeA, proto: "tcp"},
		{name: zoneDomain("ep-failed", zoneH, "epsrv-plain"), qtype: mdns.TypeA},
		{name: epDomain("ep-six", "epsrv-plain"), qtype: mdns.TypeA},
		{name: svcDomain("epsrv-plain"), qtype: mdns.TypeA},
		{name: "example.com.", qtype: mdns.TypeA},
	}
	var out strings.Builder
	for i, qq := range queries {
		proto := qq.proto
		if proto == "" {
			proto = "udp"
		}
		client := qq.client
		if client == "" {
			client = "127.0.0.1"
		}
		m := new(mdns.Msg).SetQuestion(qq.name, qq.qtype)
		m.Id = uint16(1000 + i)
		if qq.edns != 0 {
			m.SetEdns0(qq.edns, false)
		}
		w := newRecorder(proto, client)
		s.rotate.Store(0) // the first query after Store rotates by one: fixed output
		s.ServeDNS(w, m)
		fmt.Fprintf(&out, "# %s %s over %s from %s\n%s\n", qq.name, mdns.TypeToString[qq.qtype], proto, client, w.msg)
	}

	golden := filepath.Join("testdata", "serve.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("replies differ from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

func ptr[T any](v T) *T { return &v }
