package dataplane

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"eplink/controlplane/snapshot"
)

// TestHalfClose: a FIN from either side is passed on while the other
// direction keeps flowing.
func TestHalfClose(t *testing.T) { onEachFrontEnd(t, testHalfClose) }

func testHalfClose(t *testing.T, fe frontEnd) {
	t.Run("client closes first", func(t *testing.T) {
		// The backend reads to EOF, then answers: the reply must not be
		// truncated by the client's early shutdown(SHUT_WR).
		backend := serveTCP(t, func(c *net.TCPConn) {
			n, _ := io.Copy(io.Discard, c)
			fmt.Fprintf(c, "got %d bytes", n)
			c.CloseWrite()
		})
		l := newLabOn(t, fe, Options{})
		w := newWorld(backend)
		l.publish(w.snap())
		c := dial(t, w.addr())
		io.WriteString(c, strings.Repeat("a", 100000))
		c.CloseWrite()
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		reply, err := io.ReadAll(c)
		if err != nil || string(reply) != "got 100000 bytes" {
			t.Fatalf("reply %q, %v", reply, err)
		}
	})
	t.Run("backend closes first", func(t *testing.T) {
		// The backend says hello and shuts its side; the client reads EOF
		// and can still send, and the backend still receives.
		received := make(chan string, 1)
		backend := serveTCP(t, func(c *net.TCPConn) {
			io.WriteString(c, "hello")
			c.CloseWrite()
			b, err := io.ReadAll(c)
			if err == nil && len(b) > 0 { // health checks connect and go
				received <- string(b)
			}
		})
		l := newLabOn(t, fe, Options{})
		w := newWorld(backend)
		l.publish(w.snap())
		c := dial(t, w.addr())
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		hello, err := io.ReadAll(c)
		if err != nil || string(hello) != "hello" {
			t.Fatalf("greeting %q, %v", hello, err)
		}
		io.WriteString(c, "still talking")
		c.CloseWrite()
		select {
		case got := <-received:
			if got != "still talking" {
				t.Fatalf("backend received %q", got)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("backend never saw the client's bytes and FIN")
		}
	})
}

// namedServer says "NAME\n" on every connection and then echoes.
func namedServer(t *testing.T, name string) string {
	return serveTCP(t, func(c *net.TCPConn) {
		io.WriteString(c, name+"\n")
		io.Copy(c, c)
		c.CloseWrite()
	})
}

// hello connects to addr and returns the backend's name line.
func hello(addr string) (string, net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", nil, err
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return "", nil, err
	}
	return strings.TrimSpace(line), c, nil
}

// numberedStream writes uint16 counters through c and checks that the echo
// comes back complete and in order (toxiproxy's TestNoDataDropped). It
// returns a func that stops writing and reports the outcome.
type numberedStream struct {
	c        *net.TCPConn
	echoed   atomic.Int64
	stop     chan struct{}
	writeErr chan error
	readErr  chan error
}

func startStream(c *net.TCPConn, maxBytes int) *numberedStream {
	s := &numberedStream{c: c, stop: make(chan struct{}), writeErr: make(chan error, 1), readErr: make(chan error, 1)}
	go func() {
		buf := make([]byte, 16<<10)
		var n uint16
		for written := 0; written < maxBytes; written += len(buf) {
			select {
			case <-s.stop:
				s.writeErr <- c.CloseWrite()
				return
			default:
			}
			for i := 0; i < len(buf); i += 2 {
				binary.BigEndian.PutUint16(buf[i:], n)
				n++
			}
			if _, err := c.Write(buf); err != nil {
				s.writeErr <- err
				return
			}
		}
		s.writeErr <- c.CloseWrite()
	}()
	go func() {
		buf := make([]byte, 64<<10)
		var want uint16
		var total int64
		odd, hasOdd := byte(0), false // a counter split across two reads
		for {
			n, err := c.Read(buf)
			b := buf[:n]
			if hasOdd && len(b) > 0 {
				if got := uint16(odd)<<8 | uint16(b[0]); got != want {
					s.readErr <- fmt.Errorf("at byte %d: got %d, want %d", total, got, want)
					return
				}
				want++
				b, hasOdd = b[1:], false
			}
			for len(b) >= 2 {
				if got := binary.BigEndian.Uint16(b); got != want {
					s.readErr <- fmt.Errorf("at byte %d: got %d, want %d", total, got, want)
					return
				}
				want++
				b = b[2:]
			}
			if len(b) == 1 {
				odd, hasOdd = b[0], true
			}
			total += int64(n)
			s.echoed.Store(total)
			if err != nil {
				if errors.Is(err, io.EOF) && !hasOdd {
					err = nil
				}
				s.readErr <- err
				return
			}
		}
	}()
	return s
}

func (s *numberedStream) waitEchoed(t *testing.T, n int64) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%d bytes echoed", n), func() bool { return s.echoed.Load() >= n })
}

func (s *numberedStream) finish(t *testing.T) {
	t.Helper()
	close(s.stop)
	s.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := <-s.writeErr; err != nil {
		t.Fatalf("writer: %v", err)
	}
	if err := <-s.readErr; err != nil {
		t.Fatalf("reader: %v", err)
	}
}

// TestGracefulMigrationKeepsEveryByte streams numbered bytes through the
// old ENI while the zone migrates to a new ENI and CLB and the bandwidth
// changes: nothing is lost or reordered, new clients of the new ENI reach the
// new CLB, and cleaning the replaced resource closes the old ENI.
func TestGracefulMigrationKeepsEveryByte(t *testing.T) {
	onEachFrontEnd(t, testGracefulMigrationKeepsEveryByte)
}

func testGracefulMigrationKeepsEveryByte(t *testing.T, fe frontEnd) {
	l := newLabOn(t, fe, Options{})
	w := newWorld()
	w.lbs["lb-a"] = []snapshot.Backend{{Address: namedServer(t, "A"), Weight: 100}}
	w.lbs["lb-b"] = []snapshot.Backend{{Address: namedServer(t, "B"), Weight: 100}}
	w.mbps = 400
	l.publish(w.snap())
	oldAddr := w.addr()

	name, c, err := hello(oldAddr)
	if err != nil || name != "A" {
		t.Fatalf("before migration: %q, %v", name, err)
	}
	defer c.Close()
	s := startStream(c.(*net.TCPConn), 256<<20)
	s.waitEchoed(t, 1<<20)

	// Graceful: a new ENI bound to lb-b; the old pair is Replaced.
	oldENI := w.eni
	w.replaced = &snapshot.Binding{ENI: snapshot.ENI{ID: "eni-1", IP: oldENI}, ResourceID: "lb-a"}
	w.eni, w.eniID, w.resourceID = freshIP(), "eni-2", "lb-b"
	w.zoneStatus = snapshot.ZoneMigrating
	l.publish(w.snap())
	base := s.echoed.Load()
	s.waitEchoed(t, base+1<<20)

	w.zoneStatus = snapshot.ZoneMigrated
	w.mbps = 800 // bandwidth change mid-stream
	l.publish(w.snap())
	base = s.echoed.Load()
	s.waitEchoed(t, base+1<<20)

	// Clients that re-resolve reach lb-b; clients that cached the old
	// address still reach lb-a.
	if name, c2, err := hello(w.addr()); err != nil || name != "B" {
		t.Fatalf("new ENI: %q, %v", name, err)
	} else {
		c2.Close()
	}
	if name, c3, err := hello(oldAddr); err != nil || name != "A" {
		t.Fatalf("old ENI during migration: %q, %v", name, err)
	} else {
		c3.Close()
	}
	s.finish(t)
	if s.echoed.Load() < 3<<20 {
		t.Fatalf("only %d bytes echoed", s.echoed.Load())
	}

	// A second flow on the old ENI is cut when the replaced resource is
	// cleaned, and the old address stops listening.
	_, c4, err := hello(oldAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c4.Close()
	w.replaced = nil
	l.publish(w.snap())
	expectReset(t, c4)
	if c5, err := net.DialTimeout("tcp", oldAddr, time.Second); err == nil {
		c5.Close()
		t.Fatal("old ENI still listening after cleanup")
	}
}

// TestForceMigration: rebinding the same ENI to another CLB resets the
// flows on the old CLB within a second, while new connections reach the new
// CLB and none is refused during the switch.
func TestForceMigration(t *testing.T) { onEachFrontEnd(t, testForceMigration) }

func testForceMigration(t *testing.T, fe frontEnd) {
	l := newLabOn(t, fe, Options{})
	w := newWorld()
	w.lbs["lb-a"] = []snapshot.Backend{{Address: namedServer(t, "A"), Weight: 100}}
	w.lbs["lb-b"] = []snapshot.Backend{{Address: namedServer(t, "B"), Weight: 100}}
	l.publish(w.snap())

	var old []net.Conn
	for i := 0; i < 3; i++ {
		name, c, err := hello(w.addr())
		if err != nil || name != "A" {
			t.Fatalf("flow %d: %q, %v", i, name, err)
		}
		defer c.Close()
		old = append(old, c)
	}

	// Keep connecting while the switch happens.
	var wg sync.WaitGroup
	var dialErrs, attempts atomic.Int64
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			attempts.Add(1)
			c, err := net.DialTimeout("tcp", w.addr(), 2*time.Second)
			// A reset is an attempt accepted for lb-a just before the
			// switch and cut by it, as Force promises; a refusal would
			// mean the listener went away.
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				dialErrs.Add(1)
				t.Logf("connect during the switch: %v", err)
				continue
			}
			if c != nil {
				c.Close()
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	w.resourceID = "lb-b"
	start := time.Now()
	l.publish(w.snap())
	for i, c := range old {
		c.SetReadDeadline(start.Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, net.ErrClosed) || isTimeout(err) {
			t.Errorf("old flow %d: %v, want a reset within 1s", i, err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if n := dialErrs.Load(); n > 0 {
		t.Errorf("%d of %d connection attempts refused during the switch", n, attempts.Load())
	}
	refused := 0.0
	for _, reason := range []string{"not_connected", "no_resource", "no_healthy_backend", "dial_failed", "limit"} {
		refused += value(l.m.FlowsRefused.WithLabelValues("ep-1", "epsrv-1", "cn-hangzhou-h", reason))
	}
	if refused > 0 {
		t.Errorf("%v connections refused during the switch", refused)
	}
	for i := 0; i < 3; i++ {
		name, c, err := hello(w.addr())
		if err != nil || name != "B" {
			t.Fatalf("after the switch: %q, %v", name, err)
		}
		c.Close()
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
