package dns

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// readersPerSocket read each UDP socket: while one waits in recvmsg or
// writes its reply, the other answers.
const readersPerSocket = 2

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

// readUDP is one reader's loop. It returns nil once c is closed.
func (s *Server) readUDP(c *net.UDPConn, local *net.UDPAddr, slow *sync.WaitGroup) error {
	buf := make([]byte, readUDPSize)
	sc := newScratch()
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
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
		if reply, qtype, rcode, ok := s.fastReply(sc, buf[:n], from.Addr().Unmap()); ok {
			if _, err := c.WriteToUDPAddrPort(reply, from); err != nil {
				s.log.Debug("dns: write", "client", from, "err", err)
				continue
			}
			s.metrics.observe(typeLabel(qtype), rcode, time.Since(start))
			continue
		}
		// The general path may forward upstream and wait: not on the reader.
		pkt := bytes.Clone(buf[:n])
		slow.Go(func() { s.serveUDPSlow(&udpWriter{conn: c, local: local, remote: from}, pkt) })
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
