package dns

import (
	"context"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"eplink/controlplane/snapshot"
)

// startServer runs a Server on 127.0.0.1:0 until the test ends and returns
// it once both sockets are bound.
func startServer(t testing.TB, cfg Config, pub *snapshot.Publisher) (*Server, string) {
	t.Helper()
	s := New(cfg, pub)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0") }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ListenAndServe: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("ListenAndServe did not return after cancel")
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("ListenAndServe: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	return s, s.Addr().String()
}

func ask(t testing.TB, proto, addr, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg).SetQuestion(name, qtype)
	return exchange(t, &mdns.Client{Net: proto}, m, addr)
}

func exchange(t testing.TB, c *mdns.Client, m *mdns.Msg, addr string) *mdns.Msg {
	t.Helper()
	c.Timeout = 3 * time.Second
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %v: %v", c.Net, m.Question, err)
	}
	if r.Id != m.Id {
		t.Fatalf("reply id %d, query id %d", r.Id, m.Id)
	}
	return r
}

// ips lists the A/AAAA addresses of an answer section in order.
func ips(m *mdns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *mdns.A:
			out = append(out, rr.A.String())
		case *mdns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	return out
}

// eventually polls cond for up to 5s: the index follows a Publish on its
// own goroutine, so the next answer after it may still be the old one for
// an instant.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestServeUDPAndTCP(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{}, pub)
	one := epDomain("ep-one", "epsrv-plain")
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			r := ask(t, proto, addr, one, mdns.TypeA)
			if !r.Authoritative || r.Rcode != mdns.RcodeSuccess || r.RecursionAvailable {
				t.Errorf("flags: aa=%v rcode=%s ra=%v", r.Authoritative, mdns.RcodeToString[r.Rcode], r.RecursionAvailable)
			}
			if got := strings.Join(ips(r), ","); !strings.Contains(got, "127.10.0.10") || !strings.Contains(got, "127.10.1.10") {
				t.Errorf("answer %v", got)
			}
			if r.Answer[0].Header().Ttl != DefaultTTL {
				t.Errorf("ttl %d", r.Answer[0].Header().Ttl)
			}

			r = ask(t, proto, addr, apex, mdns.TypeNS)
			if len(r.Answer) != 1 || r.Answer[0].(*mdns.NS).Ns != "ns1."+apex {
				t.Fatalf("NS answer %v", r.Answer)
			}
			if len(r.Extra) != 1 || r.Extra[0].(*mdns.A).A.String() != "127.0.0.1" {
				t.Errorf("glue %v, want ns1 A 127.0.0.1 (the bound address)", r.Extra)
			}

			r = ask(t, proto, addr, "nope."+apex, mdns.TypeA)
			if r.Rcode != mdns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != mdns.TypeSOA {
				t.Errorf("NXDOMAIN: rcode %s ns %v", mdns.RcodeToString[r.Rcode], r.Ns)
			}
			r = ask(t, proto, addr, one, mdns.TypeTXT)
			if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
				t.Errorf("NODATA: rcode %s answer %v ns %v", mdns.RcodeToString[r.Rcode], r.Answer, r.Ns)
			}
			r = ask(t, proto, addr, "example.com.", mdns.TypeA)
			if r.Rcode != mdns.RcodeRefused || r.Authoritative {
				t.Errorf("outside: rcode %s aa %v", mdns.RcodeToString[r.Rcode], r.Authoritative)
			}
		})
	}
}

// TestSnapshotChanges walks an endpoint through its life: each control-plane
// change shows in the answers that follow it.
func TestSnapshotChanges(t *testing.T) {
	pub := new(snapshot.Publisher)
	s := world()
	pending := s.Endpoints["ep-pending"]
	pub.Publish(s)
	srv, addr := startServer(t, Config{}, pub)
	epName := epDomain("ep-pending", "epsrv-plain")
	zoneName := zoneDomain("ep-pending", zoneH, "epsrv-plain")
	version := s.Version

	// publish applies change to a copy of the endpoint (snapshots are
	// immutable) and waits until the server has indexed it.
	publish := func(change func(e *snapshot.Endpoint)) {
		t.Helper()
		next := *s
		next.Endpoints = make(map[string]*snapshot.Endpoint, len(s.Endpoints))
		for id, e := range s.Endpoints {
			next.Endpoints[id] = e
		}
		e := *pending
		e.Zones = nil
		for _, z := range pending.Zones {
			zc := *z
			e.Zones = append(e.Zones, &zc)
		}
		change(&e)
		version++
		next.Version = version
		next.Endpoints[e.ID] = &e
		s, pending = &next, &e
		pub.Publish(s)
		eventually(t, "the new snapshot", func() bool { return srv.idx.Load().version == version })
	}
	check := func(step, name string, rcode int, want ...string) {
		t.Helper()
		r := ask(t, "udp", addr, name, mdns.TypeA)
		got := ips(r)
		slices.Sort(got) // the order rotates; want is sorted
		if r.Rcode != rcode || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %s → %s %v, want %s %v", step, name, mdns.RcodeToString[r.Rcode], ips(r),
				mdns.RcodeToString[rcode], want)
		}
		if soa := r.Ns; rcode != mdns.RcodeSuccess && (len(soa) != 1 || soa[0].(*mdns.SOA).Serial != uint32(version)) {
			t.Errorf("%s: SOA serial should follow the snapshot version %d: %v", step, version, soa)
		}
	}
	ok := mdns.RcodeSuccess
	nx := mdns.RcodeNameError

	check("pending", epName, nx)
	check("pending", zoneName, nx)

	publish(func(e *snapshot.Endpoint) { // the provider accepts the connection
		e.ConnectionStatus = snapshot.ConnConnected
		e.Zones[0].Status = snapshot.ZoneConnected
	})
	check("accepted", epName, ok, "127.10.0.40")
	check("accepted", zoneName, ok, "127.10.0.40")

	publish(func(e *snapshot.Endpoint) { // a second zone joins
		e.Zones = append(e.Zones, zoneOf("ep-pending", "epsrv-plain", zoneI, "127.10.1.40", "lb-clb2"))
	})
	check("zone added", epName, ok, "127.10.0.40", "127.10.1.40")

	publish(func(e *snapshot.Endpoint) { // Graceful migration of zone h to lb-clb2
		z := e.Zones[0]
		z.Replaced = &snapshot.Binding{ENI: z.ENI, ResourceID: z.ResourceID}
		z.ENI = snapshot.ENI{ID: "eni-new", IP: netip.MustParseAddr("127.10.0.41")}
		z.ResourceID = "lb-clb2"
		z.Status = snapshot.ZoneMigrated
	})
	check("migrated", zoneName, ok, "127.10.0.41")
	check("migrated", epName, ok, "127.10.0.41", "127.10.1.40")

	publish(func(e *snapshot.Endpoint) { e.Zones[0].Replaced = nil; e.Zones[0].Status = snapshot.ZoneConnected })
	check("replaced resource cleaned", zoneName, ok, "127.10.0.41")

	publish(func(e *snapshot.Endpoint) { e.Zones[1].Status = snapshot.ZoneDisconnected })
	check("zone i disconnected", epName, ok, "127.10.0.41")
	check("zone i disconnected", zoneDomain("ep-pending", zoneI, "epsrv-plain"), nx)

	publish(func(e *snapshot.Endpoint) { e.Zones[0].Failed = true })
	check("zone h failed", epName, nx)
	check("zone h failed", zoneName, nx)

	publish(func(e *snapshot.Endpoint) { e.Zones[0].Failed = false; e.Zones[1].Status = snapshot.ZoneConnected })
	check("recovered", epName, ok, "127.10.0.41", "127.10.1.40")

	publish(func(e *snapshot.Endpoint) { e.ConnectionStatus = "Disconnected" })
	check("connection rejected", epName, nx)
	check("connection rejected", zoneName, nx)
}

// TestAffinityOverTheWire asks from addresses inside each consumer vSwitch:
// loopback's whole 127/8 is local, so a client can bind any of them.
func TestAffinityOverTheWire(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{}, pub)
	aff := epDomain("ep-aff", "epsrv-aff")
	for _, tc := range []struct{ client, first string }{
		{"127.10.0.9", "127.10.0.20"},
		{"127.10.1.9", "127.10.1.20"},
	} {
		for _, proto := range []string{"udp", "tcp"} {
			var local net.Addr = &net.UDPAddr{IP: net.ParseIP(tc.client)}
			if proto == "tcp" {
				local = &net.TCPAddr{IP: net.ParseIP(tc.client)}
			}
			c := &mdns.Client{Net: proto, Dialer: &net.Dialer{LocalAddr: local}}
			// Several times: affinity must win over the rotation every time.
			for range 4 {
				r := exchange(t, c, new(mdns.Msg).SetQuestion(aff, mdns.TypeA), addr)
				if got := ips(r); len(got) != 2 || got[0] != tc.first {
					t.Errorf("%s from %s: %v, want %s first", proto, tc.client, got, tc.first)
				}
			}
		}
	}
}

// TestRotation: without affinity the order rotates, so clients that take the
// first address spread over the zones.
func TestRotation(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{}, pub)
	firsts := map[string]int{}
	for range 10 {
		firsts[ips(ask(t, "udp", addr, epDomain("ep-one", "epsrv-plain"), mdns.TypeA))[0]]++
	}
	if firsts["127.10.0.10"] != 5 || firsts["127.10.1.10"] != 5 {
		t.Errorf("first addresses over 10 queries: %v, want 5 each", firsts)
	}
}

// TestHealth: the data plane's verdict is read per query; no snapshot is
// published between the answers.
func TestHealth(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	var down sync.Map
	healthy := func(id string) bool { _, bad := down.Load(id); return !bad }
	_, addr := startServer(t, Config{Healthy: healthy}, pub)
	one := epDomain("ep-one", "epsrv-plain")
	sorted := func() string {
		got := ips(ask(t, "udp", addr, one, mdns.TypeA))
		if len(got) == 2 && got[0] > got[1] {
			got[0], got[1] = got[1], got[0]
		}
		return strings.Join(got, ",")
	}
	if got := sorted(); got != "127.10.0.10,127.10.1.10" {
		t.Fatalf("all healthy: %s", got)
	}
	down.Store("lb-clb2", true)
	if got := sorted(); got != "127.10.0.10" {
		t.Errorf("lb-clb2 down: %s", got)
	}
	down.Store("lb-clb1", true)
	if r := ask(t, "udp", addr, one, mdns.TypeA); r.Rcode != mdns.RcodeNameError {
		t.Errorf("all down: %s %v", mdns.RcodeToString[r.Rcode], ips(r))
	}
	down.Delete("lb-clb2")
	if got := sorted(); got != "127.10.1.10" {
		t.Errorf("lb-clb2 back: %s", got)
	}
	down.Delete("lb-clb1")
	if got := sorted(); got != "127.10.0.10,127.10.1.10" {
		t.Errorf("all back: %s", got)
	}
}

// TestServed: an ENI address the data plane cannot serve (another process
// holds it) is not handed out, over UDP (the fast path) and TCP, and comes
// back once it is served; no snapshot is published in between.
func TestServed(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	var gone sync.Map
	served := func(ip netip.Addr) bool { _, bad := gone.Load(ip); return !bad }
	_, addr := startServer(t, Config{Served: served}, pub)
	one := epDomain("ep-one", "epsrv-plain")
	hName := zoneDomain("ep-one", zoneH, "epsrv-plain")
	gone.Store(netip.MustParseAddr("127.10.0.10"), true)
	for _, network := range []string{"udp", "tcp"} {
		if got := ips(ask(t, network, addr, one, mdns.TypeA)); len(got) != 1 || got[0] != "127.10.1.10" {
			t.Errorf("%s: endpoint domain with zone h unserved: %v", network, got)
		}
		if r := ask(t, network, addr, hName, mdns.TypeA); r.Rcode != mdns.RcodeNameError || len(r.Answer) != 0 {
			t.Errorf("%s: unserved zone domain: %s %v", network, mdns.RcodeToString[r.Rcode], ips(r))
		}
	}
	gone.Delete(netip.MustParseAddr("127.10.0.10"))
	if got := ips(ask(t, "udp", addr, hName, mdns.TypeA)); len(got) != 1 || got[0] != "127.10.0.10" {
		t.Errorf("served again: %v", got)
	}
}

// TestZoneTransferRefused: AXFR and IXFR over TCP get REFUSED, not an
// empty zone (NOERROR with the SOA).
func TestZoneTransferRefused(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{}, pub)
	for _, qt := range []uint16{mdns.TypeAXFR, mdns.TypeIXFR} {
		r := ask(t, "tcp", addr, apex, qt)
		if r.Rcode != mdns.RcodeRefused || len(r.Answer) != 0 {
			t.Errorf("%s: %s %v", mdns.TypeToString[qt], mdns.RcodeToString[r.Rcode], r.Answer)
		}
	}
}

func TestTTLSettable(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{TTL: 42}, pub)
	r := ask(t, "udp", addr, epDomain("ep-one", "epsrv-plain"), mdns.TypeA)
	if r.Answer[0].Header().Ttl != 42 {
		t.Errorf("answer ttl %d", r.Answer[0].Header().Ttl)
	}
	r = ask(t, "udp", addr, "nope."+apex, mdns.TypeA)
	if soa := r.Ns[0].(*mdns.SOA); soa.Minttl != 42 || soa.Hdr.Ttl != 42 {
		t.Errorf("negative ttl: %v", soa)
	}
}

func TestTruncation(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(wideWorld(60)) // 60 A records: ~1.2 kB uncompressed names, ~1 kB compressed
	_, addr := startServer(t, Config{}, pub)
	name := epDomain("ep-wide", "epsrv-plain")

	r := ask(t, "udp", addr, name, mdns.TypeA)
	if !r.Truncated || len(r.Answer) >= 60 {
		t.Errorf("plain UDP: tc=%v with %d answers, want truncated", r.Truncated, len(r.Answer))
	}
	r.Compress = true // as it went over the wire
	if packed, _ := r.Pack(); len(packed) > mdns.MinMsgSize {
		t.Errorf("plain UDP reply is %d bytes", len(packed))
	}

	m := new(mdns.Msg).SetQuestion(name, mdns.TypeA)
	m.SetEdns0(4096, false)
	r = exchange(t, &mdns.Client{Net: "udp", UDPSize: 4096}, m, addr)
	if r.Truncated || len(r.Answer) != 60 {
		t.Errorf("EDNS0 4096: tc=%v with %d answers, want all 60", r.Truncated, len(r.Answer))
	}
	if opt := r.IsEdns0(); opt == nil || opt.UDPSize() != advertisedUDPSize {
		t.Errorf("OPT not echoed: %v", opt)
	}

	m = new(mdns.Msg).SetQuestion(name, mdns.TypeA)
	m.SetEdns0(700, false) // honoured: a bigger reply than 512, still cut
	r = exchange(t, &mdns.Client{Net: "udp", UDPSize: 700}, m, addr)
	r.Compress = true
	packed, _ := r.Pack()
	if !r.Truncated || len(packed) > 700 || len(r.Answer) <= 20 {
		t.Errorf("EDNS0 700: tc=%v, %d bytes, %d answers", r.Truncated, len(packed), len(r.Answer))
	}

	r = ask(t, "tcp", addr, name, mdns.TypeA)
	if r.Truncated || len(r.Answer) != 60 {
		t.Errorf("TCP: tc=%v with %d answers, want all 60", r.Truncated, len(r.Answer))
	}
}

func TestEDNS(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{}, pub)
	m := new(mdns.Msg).SetQuestion(epDomain("ep-one", "epsrv-plain"), mdns.TypeA)
	m.SetEdns0(1400, true)
	r := exchange(t, &mdns.Client{Net: "udp"}, m, addr)
	if opt := r.IsEdns0(); opt == nil || !opt.Do() || opt.Version() != 0 {
		t.Errorf("OPT echo: %v", opt)
	}
	if len(r.Answer) != 2 {
		t.Errorf("answers %v", r.Answer)
	}

	m = new(mdns.Msg).SetQuestion(epDomain("ep-one", "epsrv-plain"), mdns.TypeA)
	m.SetEdns0(1400, false)
	m.IsEdns0().SetVersion(1)
	r = exchange(t, &mdns.Client{Net: "udp"}, m, addr)
	if r.Rcode != mdns.RcodeBadVers || len(r.Answer) != 0 || r.IsEdns0() == nil {
		t.Errorf("EDNS version 1: rcode %s answers %v opt %v", mdns.RcodeToString[r.Rcode], r.Answer, r.IsEdns0())
	}
}

func TestFormErr(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{}, pub)
	for _, n := range []int{0, 2} {
		m := new(mdns.Msg)
		m.Id = mdns.Id()
		for i := range n {
			m.Question = append(m.Question, mdns.Question{Name: epDomain("ep-one", "epsrv-plain"),
				Qtype: mdns.TypeA + uint16(i), Qclass: mdns.ClassINET})
		}
		r := exchange(t, &mdns.Client{Net: "udp"}, m, addr)
		if r.Rcode != mdns.RcodeFormatError || len(r.Answer) != 0 {
			t.Errorf("%d questions: rcode %s", n, mdns.RcodeToString[r.Rcode])
		}
	}
}

// TestMalformed sends junk over UDP and TCP; the server answers nothing or
// FORMERR, and the next proper query is still answered.
func TestMalformed(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{}, pub)
	good, _ := new(mdns.Msg).SetQuestion(epDomain("ep-one", "epsrv-plain"), mdns.TypeA).Pack()
	junk := [][]byte{
		{},
		{0x12},
		good[:11], // a short header
		append(append([]byte{}, good[:12]...), 0xff, 0xff),                     // a header, then a broken name
		append(append([]byte{}, good[:2]...), 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0), // a response (QR set)
		[]byte(strings.Repeat("\xc0\x0c", 100)),                                // compression pointer loop
	}
	uc, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	for _, b := range junk {
		uc.Write(b)
	}
	tc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tc.Write([]byte{0x00, 0x05, 1, 2, 3, 4, 5}) // a length-prefixed 5-byte message
	tc.Close()

	uc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 1500)
	for {
		n, err := uc.Read(buf)
		if err != nil {
			break // no more replies
		}
		r := new(mdns.Msg)
		if err := r.Unpack(buf[:n]); err != nil || r.Rcode != mdns.RcodeFormatError {
			t.Errorf("reply to junk: %v rcode %d", err, r.Rcode)
		}
	}
	for _, proto := range []string{"udp", "tcp"} {
		if r := ask(t, proto, addr, epDomain("ep-one", "epsrv-plain"), mdns.TypeA); len(r.Answer) != 2 {
			t.Errorf("%s after junk: %v", proto, r)
		}
	}
}

func TestPanicRecovered(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	var boom atomic.Bool
	boom.Store(true)
	healthy := func(string) bool {
		if boom.Load() {
			panic("health table broken")
		}
		return true
	}
	_, addr := startServer(t, Config{Healthy: healthy}, pub)
	one := epDomain("ep-one", "epsrv-plain")
	if r := ask(t, "udp", addr, one, mdns.TypeA); r.Rcode != mdns.RcodeServerFailure {
		t.Errorf("panic: rcode %s", mdns.RcodeToString[r.Rcode])
	}
	boom.Store(false)
	if r := ask(t, "udp", addr, one, mdns.TypeA); len(r.Answer) != 2 {
		t.Errorf("after the panic: %v", r)
	}
}

// upstream runs a tiny resolver that knows one name.
func upstream(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg).SetReply(r)
		m.RecursionAvailable = true
		if strings.EqualFold(r.Question[0].Name, "www.example.com.") {
			rr, _ := mdns.NewRR("www.example.com. 300 IN A 127.0.0.99")
			m.Answer = append(m.Answer, rr)
		} else {
			m.Rcode = mdns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestForward(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{Upstream: upstream(t)}, pub)

	r := ask(t, "udp", addr, "WWW.example.com.", mdns.TypeA)
	if r.Rcode != mdns.RcodeSuccess || strings.Join(ips(r), ",") != "127.0.0.99" || r.Authoritative {
		t.Errorf("forwarded: %v", r)
	}
	if r.Question[0].Name != "WWW.example.com." {
		t.Errorf("question not echoed as asked: %v", r.Question)
	}
	if r := ask(t, "tcp", addr, "nope.example.com.", mdns.TypeA); r.Rcode != mdns.RcodeNameError {
		t.Errorf("upstream NXDOMAIN: %v", r)
	}
	// The zone is still ours.
	if r := ask(t, "udp", addr, epDomain("ep-one", "epsrv-plain"), mdns.TypeA); !r.Authoritative ||
		!r.RecursionAvailable || len(r.Answer) != 2 {
		t.Errorf("in zone with upstream: %v", r)
	}
}

func TestForwardFailure(t *testing.T) {
	// A bound socket that never answers: the forward times out.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	pub := new(snapshot.Publisher)
	_, addr := startServer(t, Config{Upstream: silent.LocalAddr().String(), UpstreamTimeout: 200 * time.Millisecond}, pub)
	start := time.Now()
	r := ask(t, "udp", addr, "www.example.com.", mdns.TypeA)
	if r.Rcode != mdns.RcodeServerFailure {
		t.Errorf("silent upstream: %v", r)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v, the timeout is 200ms", d)
	}
}

func TestMetrics(t *testing.T) {
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	reg := prometheus.NewPedanticRegistry()
	_, addr := startServer(t, Config{Registerer: reg}, pub)
	one := epDomain("ep-one", "epsrv-plain")
	ask(t, "udp", addr, one, mdns.TypeA)
	ask(t, "tcp", addr, one, mdns.TypeA)
	ask(t, "udp", addr, "nope."+apex, mdns.TypeAAAA)
	ask(t, "udp", addr, "example.com.", mdns.TypeA)
	ask(t, "udp", addr, one, 65280) // a private type: no series of its own

	// A query is counted once its reply is written, so the client can have
	// the reply a moment before the count moves.
	var mfs []*dto.MetricFamily
	eventually(t, "5 queries counted", func() bool {
		var err error
		if mfs, err = reg.Gather(); err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "eplink_dns_request_duration_seconds" {
				return mf.GetMetric()[0].GetHistogram().GetSampleCount() >= 5
			}
		}
		return false
	})
	got := map[string]float64{}
	histograms := 0
	for _, mf := range mfs {
		switch mf.GetName() {
		case "eplink_dns_requests_total":
			for _, m := range mf.GetMetric() {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
				got[strings.Join(labels, ",")] = m.GetCounter().GetValue()
			}
		case "eplink_dns_request_duration_seconds":
			histograms = len(mf.GetMetric())
			if c := mf.GetMetric()[0].GetHistogram().GetSampleCount(); c != 5 {
				t.Errorf("duration samples %d, want 5", c)
			}
		}
	}
	want := map[string]float64{
		"rcode=NOERROR,type=A":     2,
		"rcode=NOERROR,type=other": 1,
		"rcode=NXDOMAIN,type=AAAA": 1,
		"rcode=REFUSED,type=A":     1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("eplink_dns_requests_total:\n got  %v\n want %v", got, want)
	}
	if histograms != 1 {
		t.Errorf("duration histogram: %d series", histograms)
	}
}

func TestListenErrors(t *testing.T) {
	s := New(Config{}, nil)
	if err := s.ListenAndServe(context.Background(), "not-an-address"); err == nil {
		t.Error("bad address: no error")
	}
	// The port is taken for UDP: a clear error, not a hang.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := s.ListenAndServe(context.Background(), pc.LocalAddr().String()); err == nil {
		t.Error("taken port: no error")
	}
}
