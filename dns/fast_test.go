package dns

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"eplink/controlplane/snapshot"
)

// slowReply is the packed reply ServeDNS gives to the packet req over UDP.
func slowReply(t testing.TB, s *Server, req []byte, client string) []byte {
	t.Helper()
	m := new(mdns.Msg)
	if err := m.Unpack(req); err != nil {
		t.Fatalf("the fast path answered a packet miekg/dns cannot unpack: %v", err)
	}
	w := newRecorder("udp", client)
	s.ServeDNS(w, m)
	if w.msg == nil {
		t.Fatal("ServeDNS wrote nothing")
	}
	b, err := w.msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSame asks both paths with the same rotation counter and wants the
// same bytes whenever the fast path answers.
func checkSame(t testing.TB, s *Server, sc *scratch, req []byte, client string) bool {
	t.Helper()
	s.rotate.Store(7)
	fast, _, _, ok := s.fastReply(sc, req, netip.MustParseAddr(client))
	if !ok {
		return false
	}
	fast = bytes.Clone(fast)
	s.rotate.Store(7)
	if slow := slowReply(t, s, req, client); !bytes.Equal(fast, slow) {
		fm, sm := new(mdns.Msg), new(mdns.Msg)
		ferr, serr := fm.Unpack(fast), sm.Unpack(slow)
		t.Errorf("fast and slow replies differ\nfast (%v):\n%v\nslow (%v):\n%v\nfast % x\nslow % x", ferr, fm, serr, sm, fast, slow)
	}
	return true
}

func fastWorld() *snapshot.Snapshot {
	snap := world()
	for id, e := range wideWorld(40).Endpoints {
		snap.Endpoints[id] = e
	}
	return snap
}

// TestFastPathSameAsServeDNS: for the questions the fast path takes, its
// reply is byte for byte ServeDNS's; the others it leaves alone.
func TestFastPathSameAsServeDNS(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(fastWorld())
	down := map[string]bool{}
	gone := map[netip.Addr]bool{} // ENI addresses the data plane cannot serve
	for _, upstream := range []bool{false, true} {
		cfg := Config{Healthy: func(id string) bool { return !down[id] },
			Served: func(ip netip.Addr) bool { return !gone[ip] }}
		if upstream {
			cfg.Upstream = "127.0.0.1:9" // never reached: only sets RA
		}
		s := New(cfg, pub)
		sc := newScratch()
		for _, tc := range []struct {
			name  string
			qtype uint16
			fast  bool // the fast path should take it
		}{
			{epDomain("ep-one", "epsrv-plain"), mdns.TypeA, true},
			{epDomain("ep-one", "epsrv-plain"), mdns.TypeAAAA, true}, // NODATA
			{strings.ToUpper(epDomain("ep-aff", "epsrv-aff")), mdns.TypeA, true},
			{"Ep-Aff.EPSRV-aff.cn-hangzhou.privatelink.ALIYUNCS.com.", mdns.TypeA, true},
			{zoneDomain("ep-mig", zoneH, "epsrv-plain"), mdns.TypeA, true},
			{zoneDomain("ep-failed", zoneH, "epsrv-plain"), mdns.TypeA, true}, // NXDOMAIN
			{epDomain("ep-failed", "epsrv-plain"), mdns.TypeA, true},
			{epDomain("ep-disc", "epsrv-plain"), mdns.TypeA, true},
			{epDomain("ep-pending", "epsrv-plain"), mdns.TypeA, true},
			{epDomain("ep-six", "epsrv-plain"), mdns.TypeAAAA, true},
			{epDomain("ep-six", "epsrv-plain"), mdns.TypeA, true},
			{svcDomain("epsrv-plain"), mdns.TypeA, true}, // NODATA
			{"cn-hangzhou." + apex, mdns.TypeAAAA, true},
			{"nope." + apex, mdns.TypeA, true},
			{"ns1." + apex, mdns.TypeA, false},
			{apex, mdns.TypeA, false},
			{apex, mdns.TypeSOA, false},
			{epDomain("ep-one", "epsrv-plain"), mdns.TypeANY, false},
			{epDomain("ep-one", "epsrv-plain"), mdns.TypeTXT, false},
			{"example.com.", mdns.TypeA, false},
			{`we\.ird.` + apex, mdns.TypeA, false},
			{epDomain("ep-wide", "epsrv-plain"), mdns.TypeA, false}, // 40 ENIs: over 512 bytes
		} {
			for _, variant := range []struct {
				desc   string
				edns   uint16
				do, rd bool
				cd     bool
			}{{desc: "plain"}, {desc: "rd", rd: true}, {desc: "edns", edns: 1232}, {desc: "edns-do-cd", edns: 4096, do: true, cd: true}, {desc: "edns-small", edns: 100}} {
				for _, client := range []string{"127.0.0.1", "127.10.1.9", "127.10.0.9"} {
					for i, health := range []map[string]bool{{}, {"lb-clb1": true}, {"lb-clb1": true, "lb-clb2": true}, {}} {
						down = health
						gone = map[netip.Addr]bool{}
						if i == 3 {
							gone = map[netip.Addr]bool{netip.MustParseAddr("127.10.0.10"): true, netip.MustParseAddr("127.10.0.31"): true}
						}
						m := new(mdns.Msg).SetQuestion(tc.name, tc.qtype)
						m.Id = 0xbeef
						m.RecursionDesired = variant.rd
						m.CheckingDisabled = variant.cd
						if variant.edns != 0 {
							m.SetEdns0(variant.edns, variant.do)
						}
						req, err := m.Pack()
						if err != nil {
							t.Fatal(err)
						}
						if took := checkSame(t, s, sc, req, client); took != tc.fast {
							t.Errorf("%s %s %s from %s (upstream %v): fast path took it: %v, want %v",
								tc.name, mdns.TypeToString[tc.qtype], variant.desc, client, upstream, took, tc.fast)
						}
					}
				}
			}
		}
	}
	// EDNS with an option, version 1, a response, two questions, trailing
	// bytes: all for ServeDNS.
	s := New(Config{}, pub)
	sc := newScratch()
	base := new(mdns.Msg).SetQuestion(epDomain("ep-one", "epsrv-plain"), mdns.TypeA)
	for desc, mod := range map[string]func(m *mdns.Msg){
		"option": func(m *mdns.Msg) {
			m.SetEdns0(1232, false).IsEdns0().Option = []mdns.EDNS0{&mdns.EDNS0_NSID{Code: mdns.EDNS0NSID}}
		},
		"version":  func(m *mdns.Msg) { m.SetEdns0(1232, false).IsEdns0().SetVersion(1) },
		"response": func(m *mdns.Msg) { m.Response = true },
		"notify":   func(m *mdns.Msg) { m.Opcode = mdns.OpcodeNotify },
		"two":      func(m *mdns.Msg) { m.Question = append(m.Question, m.Question[0]) },
		"class":    func(m *mdns.Msg) { m.Question[0].Qclass = mdns.ClassCHAOS },
	} {
		m := base.Copy()
		mod(m)
		req, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, ok := s.fastReply(sc, req, netip.MustParseAddr("127.0.0.1")); ok {
			t.Errorf("%s: the fast path took it", desc)
		}
	}
	req, _ := base.Pack()
	if _, _, _, ok := s.fastReply(sc, append(req, 0), netip.MustParseAddr("127.0.0.1")); ok {
		t.Error("trailing byte: the fast path took it")
	}
}

// TestFastPathNoAllocs: the common answer allocates nothing.
func TestFastPathNoAllocs(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(fastWorld())
	s := New(Config{Healthy: func(string) bool { return true }}, pub)
	sc := newScratch()
	client := netip.MustParseAddr("127.0.0.1")
	for _, name := range []string{epDomain("ep-one", "epsrv-plain"), zoneDomain("ep-one", zoneH, "epsrv-plain"), "nope." + apex} {
		req, _ := new(mdns.Msg).SetQuestion(name, mdns.TypeA).Pack()
		if allocs := testing.AllocsPerRun(100, func() {
			if _, _, _, ok := s.fastReply(sc, req, client); !ok {
				t.Fatalf("%s: not on the fast path", name)
			}
		}); allocs != 0 {
			t.Errorf("%s: %v allocations per query", name, allocs)
		}
	}
}

// FuzzFastPath: whatever packet the fast path answers, miekg/dns unpacks
// and ServeDNS answers with the same bytes.
func FuzzFastPath(f *testing.F) {
	for _, name := range []string{
		epDomain("ep-aff", "epsrv-aff"), zoneDomain("ep-one", zoneH, "epsrv-plain"),
		"EP-SIX.epsrv-plain.cn-hangzhou." + apex, "nope." + apex, apex, "example.com.",
	} {
		for _, qt := range []uint16{mdns.TypeA, mdns.TypeAAAA} {
			m := new(mdns.Msg).SetQuestion(name, qt)
			b, _ := m.Pack()
			f.Add(b)
			m.SetEdns0(1232, true)
			b, _ = m.Pack()
			f.Add(b)
		}
	}
	pub := new(snapshot.Publisher)
	pub.Publish(fastWorld())
	s := New(Config{Healthy: func(id string) bool { return id != "lb-clb2" }}, pub)
	sc := newScratch()
	f.Fuzz(func(t *testing.T, req []byte) {
		checkSame(t, s, sc, req, "127.10.1.9")
	})
}

// TestServeIPv6Loopback: the batched UDP reader serves an IPv6 socket too.
func TestServeIPv6Loopback(t *testing.T) {
	probe, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	s := New(Config{}, pub)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "[::1]:0") }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	}()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("ListenAndServe: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	addr := s.Addr().String()
	if r := ask(t, "udp", addr, epDomain("ep-one", "epsrv-plain"), mdns.TypeA); len(r.Answer) != 2 {
		t.Errorf("A over IPv6: %v", r)
	}
	if r := ask(t, "udp", addr, epDomain("ep-six", "epsrv-plain"), mdns.TypeAAAA); len(r.Answer) != 1 {
		t.Errorf("AAAA over IPv6: %v", r)
	}
	if r := ask(t, "udp", addr, apex, mdns.TypeSOA); len(r.Answer) != 1 {
		t.Errorf("SOA (general path) over IPv6: %v", r)
	}
}
