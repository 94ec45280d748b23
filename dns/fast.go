package dns

import (
	"encoding/binary"
	"net/netip"

	mdns "github.com/miekg/dns"
)

// The UDP fast path answers the common question — A or AAAA of a name below
// the apex, class IN, at most a plain OPT — straight from the query's wire
// bytes: no Msg is unpacked or packed and nothing is allocated. The reply is
// byte for byte what ServeDNS would send (fast_test.go checks that); every
// other query, and any reply that would need truncating, takes ServeDNS.

const (
	headerLen = 12
	// optRRLen is an OPT record without options: root name, type, class
	// (UDP size), TTL (extended rcode, version, flags), rdlength.
	optRRLen = 1 + 2 + 2 + 4 + 2
	// fastMaxAddrs bounds the addresses one fast answer carries; more go
	// the general way (they would not fit 512 bytes anyway).
	fastMaxAddrs = 32
)

// scratch is one UDP reader's reusable memory.
type scratch struct {
	key [255]byte // the name, lower case, as index text ("a.b.c.")
	ips []netip.Addr
	out []byte
}

func newScratch() *scratch {
	return &scratch{ips: make([]netip.Addr, 0, fastMaxAddrs), out: make([]byte, 0, mdns.MinMsgSize)}
}

// fastReply is the reply to req, or ok=false when ServeDNS must answer it.
// rcode and qtype are for the metrics. The reply aliases sc.out.
func (s *Server) fastReply(sc *scratch, req []byte, client netip.Addr) (reply []byte, qtype uint16, rcode int, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false // ServeDNS will hit it again, log it and SERVFAIL
		}
	}()
	if len(req) < headerLen+1+4 || req[2]&0xF8 != 0 { // QR and opcode must be 0
		return nil, 0, 0, false
	}
	if be16(req[4:]) != 1 || be16(req[6:]) != 0 || be16(req[8:]) != 0 || be16(req[10:]) > 1 {
		return nil, 0, 0, false
	}

	// The question name, lower-cased into sc.key. Only plain host-name
	// bytes: anything that miekg/dns would escape in text goes the long way.
	off, klen := headerLen, 0
	for {
		if off >= len(req) {
			return nil, 0, 0, false
		}
		l := int(req[off])
		off++
		if l == 0 {
			break
		}
		if l > 63 || off+l > len(req) || klen+l+1 > len(sc.key) {
			return nil, 0, 0, false // a pointer, an extended label, too long
		}
		for _, c := range req[off : off+l] {
			switch {
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			default:
				return nil, 0, 0, false
			}
			sc.key[klen] = c
			klen++
		}
		sc.key[klen] = '.'
		klen++
		off += l
	}
	nameEnd := off
	if klen == 0 || off+4 > len(req) {
		return nil, 0, 0, false
	}
	qtype = be16(req[off:])
	if be16(req[off+2:]) != mdns.ClassINET || (qtype != mdns.TypeA && qtype != mdns.TypeAAAA) {
		return nil, 0, 0, false
	}
	off += 4

	size, edns, do := mdns.MinMsgSize, false, false
	if be16(req[10:]) == 1 {
		// A bare OPT of version 0; options (cookies…) go the long way.
		if off+optRRLen != len(req) || req[off] != 0 || be16(req[off+1:]) != mdns.TypeOPT ||
			req[off+6] != 0 || be16(req[off+9:]) != 0 {
			return nil, 0, 0, false
		}
		edns, do = true, req[off+7]&0x80 != 0
		size = max(int(be16(req[off+3:])), mdns.MinMsgSize)
		off += optRRLen
	}
	if off != len(req) {
		return nil, 0, 0, false
	}

	ix := s.idx.Load()
	key := sc.key[:klen]
	n := ix.names[string(key)] // no allocation: the compiler looks up by the bytes
	if n == nil && !ix.inZoneBytes(key) {
		return nil, 0, 0, false // outside the zone: refused or forwarded
	}
	ips := sc.ips[:0]
	rcode = mdns.RcodeSuccess
	switch {
	case n == nil:
		rcode = mdns.RcodeNameError
	case n.kind == kindEmpty:
	case n.kind == kindZone:
		if s.cfg.Served != nil && !s.cfg.Served(n.targets[0].ip) {
			rcode = mdns.RcodeNameError // as lookup: the record is gone
			break
		}
		ips = append(ips, n.targets[0].ip)
	case n.kind == kindEndpoint && len(n.targets) <= fastMaxAddrs:
		ips = n.appendPick(ips, query{client: client, health: s.cfg.Healthy, served: s.cfg.Served, rotate: s.rotate.Add(1)})
		if len(ips) == 0 {
			rcode = mdns.RcodeNameError
		}
	default:
		return nil, 0, 0, false // the apex, the name server, a huge answer
	}
	ancount := 0
	for _, ip := range ips {
		if ip.Is4() == (qtype == mdns.TypeA) {
			ancount++
		}
	}
	negative := ancount == 0
	if negative && len(ix.soaWire) == 0 {
		return nil, 0, 0, false
	}

	// Header: ID as asked; QR, AA, RD as asked; RA with an upstream, CD as
	// asked (miekg/dns SetReply).
	out := append(sc.out[:0], req[0], req[1], 0x80|0x04|req[2]&0x01, req[3]&0x10|byte(rcode))
	if s.fwd != nil {
		out[3] |= 0x80
	}
	out = binary.BigEndian.AppendUint16(out, 1)
	out = binary.BigEndian.AppendUint16(out, uint16(ancount))
	out = binary.BigEndian.AppendUint16(out, b2u16(negative))
	out = binary.BigEndian.AppendUint16(out, b2u16(edns))
	out = append(out, req[headerLen:nameEnd+4]...) // the question, its case as asked
	qname := req[headerLen:nameEnd]
	for _, ip := range ips {
		if ip.Is4() != (qtype == mdns.TypeA) {
			continue
		}
		out = append(out, qname...)
		out = binary.BigEndian.AppendUint16(out, qtype)
		out = binary.BigEndian.AppendUint16(out, mdns.ClassINET)
		out = binary.BigEndian.AppendUint32(out, ix.ttl)
		if ip.Is4() {
			a := ip.As4()
			out = binary.BigEndian.AppendUint16(out, 4)
			out = append(out, a[:]...)
		} else {
			a := ip.As16()
			out = binary.BigEndian.AppendUint16(out, 16)
			out = append(out, a[:]...)
		}
	}
	if negative {
		out = append(out, ix.soaWire...)
	}
	if edns {
		var flags byte
		if do {
			flags = 0x80
		}
		out = append(out, 0, 0, byte(mdns.TypeOPT), byte(advertisedUDPSize>>8), byte(advertisedUDPSize&0xff),
			0, 0, flags, 0, 0, 0)
	}
	sc.out = out[:0]
	if len(out) > size {
		return nil, 0, 0, false // ServeDNS truncates
	}
	return out, qtype, rcode, true
}

// inZoneBytes is inZone for the fast path's lower-cased key.
func (ix *index) inZoneBytes(key []byte) bool {
	if ix.dotZone == "" {
		return true // the root zone
	}
	return len(key) > len(ix.dotZone) && string(key[len(key)-len(ix.dotZone):]) == ix.dotZone
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

func b2u16(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}
