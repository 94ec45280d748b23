package dns

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

const (
	// readersPerSocket read each UDP socket.
	readersPerSocket = 1
	// udpBatch is how many queries one read takes at most.
	udpBatch = 32
)

// serveUDP answers UDP queries on conns (sockets sharing one port with
// SO_REUSEPORT, or a single one) until they are closed. It replaces
// miekg/dns's UDP server, which starts a goroutine and unpacks and packs a
// Msg per query: the fast path (fast.go) answers the common question inline,
// and everything else goes through ServeDNS as before.
func (s *Server) serveUDP(conns []*net.UDPConn) error {
	var readers, slow sync.WaitGroup
	errc := make(chan error, len(conns)*readersPerSocket)
	for _, c := range conns {
		local := c.LocalAddr().(*net.UDPAddr)
		for range readersPerSocket {
			readers.Go(func() { errc <- s.readUDP(c, local, &slow) })
		}
	}
	readers.Wait()
	slow.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

// batchConn reads and writes many datagrams per system call (recvmmsg and
// sendmmsg on Linux, one at a time elsewhere).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func newBatchConn(c *net.UDPConn) batchConn {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		return ipv6.NewPacketConn(c)
	}
	return ipv4.NewPacketConn(c)
}

// readUDP is one reader's loop: read what has arrived (up to udpBatch
// queries), answer the fast ones in one write, hand the rest to ServeDNS in
// their own goroutines. It returns nil once c is closed.
func (s *Server) readUDP(c *net.UDPConn, local *net.UDPAddr, slow *sync.WaitGroup) error {
	bc := newBatchConn(c)
	in := make([]ipv4.Message, udpBatch)
	out := make([]ipv4.Message, udpBatch)
	scs := make([]*scratch, udpBatch)
	type done struct {
		qtype uint16
		rcode int
	}
	answered := make([]done, udpBatch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, readUDPSize)}
		out[i].Buffers = [][]byte{nil}
		scs[i] = newScratch()
	}
	for {
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		start := time.Now()
		k := 0
		for i := range n {
			m := &in[i]
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			from := ua.AddrPort()
			pkt := m.Buffers[0][:m.N]
			if reply, qtype, rcode, ok := s.fastReply(scs[i], pkt, from.Addr().Unmap()); ok {
				out[k].Buffers[0], out[k].Addr = reply, m.Addr
				answered[k] = done{qtype, rcode}
				k++
				continue
			}
			// The general path may forward upstream and wait: not on the reader.
			pkt = bytes.Clone(pkt)
			slow.Go(func() { s.serveUDPSlow(&udpWriter{conn: c, local: local, remote: from}, pkt) })
		}
		sent := 0
		for sent < k {
			n, err := bc.WriteBatch(out[sent:k], 0)
			if err != nil {
				s.log.Debug("dns: write", "client", out[sent].Addr, "err", err)
				sent++ // drop the one that failed, send the others
				continue
			}
			took := time.Since(start) // one clock read per write, not per reply
			for _, d := range answered[sent : sent+n] {
				s.metrics.observeAddr(d.qtype == mdns.TypeAAAA, d.rcode, took)
			}
			sent += n
		}
	}
}

// serveUDPSlow filters, unpacks and answers one query the way miekg/dns's
// server does (with acceptQuery as its MsgAcceptFunc), then ServeDNS.
func (s *Server) serveUDPSlow(w *udpWriter, m []byte) {
	if len(m) < headerLen {
		s.invalid(m, mdns.ErrShortRead)
		return // no reply: it could only amplify junk
	}
	dh := mdns.Header{
		Id: be16(m[0:]), Bits: be16(m[2:]),
		Qdcount: be16(m[4:]), Ancount: be16(m[6:]), Nscount: be16(m[8:]), Arcount: be16(m[10:]),
	}
	action := acceptQuery(dh)
	if action == mdns.MsgIgnore {
		return
	}
	if action == mdns.MsgAccept {
		req := new(mdns.Msg)
		err := req.Unpack(m)
		if err == nil {
			s.ServeDNS(w, req)
			return
		}
		s.invalid(m, err)
	}
	// FORMERR, or NOTIMP for other opcodes: the header alone, flags as
	// the query had them, as miekg/dns replies.
	hdr := make([]byte, headerLen)
	copy(hdr, m[:4])
	req := new(mdns.Msg)
	if err := req.Unpack(hdr); err != nil {
		return
	}
	opcode := req.Opcode
	req.SetRcodeFormatError(req)
	req.Zero = false
	if action == mdns.MsgRejectNotImplemented {
		req.Opcode = opcode
		req.Rcode = mdns.RcodeNotImplemented
	}
	if err := w.WriteMsg(req); err != nil {
		s.log.Debug("dns: write", "client", w.remote, "err", err)
	}
}

func (s *Server) invalid(m []byte, err error) {
	s.log.Debug("dns: malformed query", "bytes", len(m), "err", err)
}

// udpWriter is the mdns.ResponseWriter of a query on the general path.
type udpWriter struct {
	conn   *net.UDPConn
	local  *net.UDPAddr
	remote netip.AddrPort
}

func (w *udpWriter) LocalAddr() net.Addr  { return w.local }
func (w *udpWriter) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(w.remote) }

func (w *udpWriter) WriteMsg(m *mdns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func (w *udpWriter) Write(b []byte) (int, error) { return w.conn.WriteToUDPAddrPort(b, w.remote) }
func (w *udpWriter) Close() error                { return nil }
func (w *udpWriter) TsigStatus() error           { return nil }
func (w *udpWriter) TsigTimersOnly(bool)         {}
func (w *udpWriter) Hijack()                     {}
