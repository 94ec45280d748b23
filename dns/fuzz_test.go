package dns

import (
	"encoding/binary"
	"testing"

	mdns "github.com/miekg/dns"

	"eplink/controlplane/snapshot"
)

// FuzzServeDNS feeds random packets through the path a real one takes: the
// header filter, unpacking, then the handler. The server must never panic
// (ServeDNS recovers, so a SERVFAIL here means it did), and every reply must
// pack, carry the query's id and fit the transport.
func FuzzServeDNS(f *testing.F) {
	seed := func(m *mdns.Msg) {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, name := range []string{
		epDomain("ep-aff", "epsrv-aff"), zoneDomain("ep-one", zoneH, "epsrv-plain"),
		apex, "nope." + apex, "example.com.", ".",
	} {
		for _, qt := range []uint16{mdns.TypeA, mdns.TypeAAAA, mdns.TypeANY, mdns.TypeNS, mdns.TypeSOA} {
			seed(new(mdns.Msg).SetQuestion(name, qt))
		}
		m := new(mdns.Msg).SetQuestion(name, mdns.TypeA)
		m.SetEdns0(1232, true)
		seed(m)
	}
	m := new(mdns.Msg).SetQuestion(epDomain("ep-wide", "epsrv-plain"), mdns.TypeA)
	m.SetEdns0(600, false)
	seed(m)
	two := new(mdns.Msg).SetQuestion(apex, mdns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	seed(two)
	f.Add([]byte{})
	f.Add([]byte("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"))

	snap := world()
	for id, e := range wideWorld(40).Endpoints {
		snap.Endpoints[id] = e
	}
	pub := new(snapshot.Publisher)
	pub.Publish(snap)
	s := New(Config{}, pub)

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 12 {
			return // the server drops it: no header
		}
		dh := mdns.Header{
			Id:      binary.BigEndian.Uint16(data[0:]),
			Bits:    binary.BigEndian.Uint16(data[2:]),
			Qdcount: binary.BigEndian.Uint16(data[4:]),
			Ancount: binary.BigEndian.Uint16(data[6:]),
			Nscount: binary.BigEndian.Uint16(data[8:]),
			Arcount: binary.BigEndian.Uint16(data[10:]),
		}
		if acceptQuery(dh) != mdns.MsgAccept {
			return // miekg/dns drops it or answers FORMERR/NOTIMP itself
		}
		req := new(mdns.Msg)
		if err := req.Unpack(data); err != nil {
			return // FORMERR from miekg/dns, before the handler
		}
		for _, proto := range []string{"udp", "tcp"} {
			w := newRecorder(proto, "127.10.1.7")
			s.ServeDNS(w, req)
			if w.msg == nil {
				t.Fatalf("%s: no reply", proto)
			}
			r := w.msg
			if r.Rcode == mdns.RcodeServerFailure {
				t.Fatalf("%s: SERVFAIL (a recovered panic) for %v", proto, req)
			}
			if r.Id != req.Id || !r.Response {
				t.Fatalf("%s: id %d response %v", proto, r.Id, r.Response)
			}
			b, err := r.Pack()
			if err != nil {
				t.Fatalf("%s: reply does not pack: %v\n%v", proto, err, r)
			}
			limit := mdns.MaxMsgSize
			if proto == "udp" {
				limit = mdns.MinMsgSize
				if opt := req.IsEdns0(); opt != nil {
					limit = max(limit, int(opt.UDPSize()))
				}
			}
			if len(b) > limit {
				t.Fatalf("%s: reply %d bytes, limit %d", proto, len(b), limit)
			}
		}
	})
}
