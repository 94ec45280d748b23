package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"eplink/dataplane/backend"
)

// demoBackend serves the demo backend on loopback behind a FaultListener.
func demoBackend(t *testing.T) (*backend.FaultListener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := backend.NewFaultListener(ln)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { backend.Serve(ctx, fl, "ECS07"); close(done) }()
	t.Cleanup(func() { fl.Impair(backend.Impairment{}); cancel(); <-done })
	return fl, ln.Addr().(*net.TCPAddr).Port
}

// latencies makes n requests with the built-in client and returns their
// latencies in ms, sorted, and what failed.
func latencies(t *testing.T, port, n int, keepAlive bool, timeout time.Duration) ([]float64, map[string]int) {
	t.Helper()
	return latenciesAt(t, "127.0.0.1", port, n, keepAlive, timeout)
}

// latenciesAt is latencies to host:port.
func latenciesAt(t *testing.T, host string, port, n int, keepAlive bool, timeout time.Duration) ([]float64, map[string]int) {
	t.Helper()
	rec := newRecorder(time.Now(), time.Minute)
	c := newClient(Load{Port: port, Path: "/", DNS: "per-connection", KeepAlive: keepAlive, Timeout: timeout}, host, "", rec)
	for range n {
		c.request(context.Background())
	}
	c.http.CloseIdleConnections()
	bins, _ := rec.finish()
	var lat []float64
	failed := map[string]int{}
	for _, b := range bins {
		lat = append(lat, b.lat...)
		add(failed, b.Failed)
	}
	sort.Float64s(lat)
	return lat, failed
}

// TestImpairLatency: a 50 ms latency on the backend adds 50 ms ± 5 to what
// the client measures (the median of 20; measured again, up to 3 times,
// should the shared machine be busy), and never less than 50.
func TestImpairLatency(t *testing.T) {
	fl, port := demoBackend(t)
	var added float64
	for try := 0; try < 3; try++ {
		fl.Impair(backend.Impairment{})
		base, _ := latencies(t, port, 20, true, 2*time.Second)
		fl.Impair(backend.Impairment{Latency: 50 * time.Millisecond})
		slow, failed := latencies(t, port, 20, true, 2*time.Second)
		if len(failed) > 0 || len(slow) != 20 {
			t.Fatalf("failed %v", failed)
		}
		if slow[0] < 50 {
			t.Fatalf("a request took %.1f ms with 50 ms latency", slow[0])
		}
		added = percentile(slow, 0.5) - percentile(base, 0.5)
		if added >= 45 && added <= 55 {
			return
		}
	}
	t.Errorf("50 ms latency added %.1f ms", added)
}

// TestImpairResetAfter: the connection is reset once the backend has sent
// exactly N bytes; the built-in client records a reset.
func TestImpairResetAfter(t *testing.T) {
	fl, port := demoBackend(t)
	const n = 100_000
	if err := fl.Impair(backend.Impairment{ResetAfter: n}); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /bytes?n=1000000 HTTP/1.1\r\nHost: x\r\n\r\n")
	got, err := io.Copy(io.Discard, c)
	if got != n || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("received %d bytes, then %v; want %d, then a reset", got, err, n)
	}
	_, failed := latencies(t, port, 1, false, 2*time.Second)
	if failed[KindReset] != 0 {
		t.Errorf("a short answer (under %d bytes) was cut: %v", n, failed)
	}
	fl.Impair(backend.Impairment{ResetAfter: 10})
	if _, failed := latencies(t, port, 1, false, 2*time.Second); failed[KindReset] != 1 {
		t.Errorf("reset after 10 bytes: the client recorded %v, want a reset", failed)
	}
}

// TestImpairBandwidth: at 100 kB/s, 60 kB (less one 16 kB burst) take at
// least 0.4 s.
func TestImpairBandwidth(t *testing.T) {
	fl, port := demoBackend(t)
	fl.Impair(backend.Impairment{Bandwidth: 100_000})
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	io.WriteString(c, "GET /bytes?n=60000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	got, err := io.Copy(io.Discard, c)
	if err != nil || got < 60000 {
		t.Fatalf("received %d bytes, %v", got, err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("60 kB at 100 kB/s took %s", d)
	}
}

// TestImpairStall: a stalled backend's answers wait (the client times out)
// until the stall is lifted.
func TestImpairStall(t *testing.T) {
	fl, port := demoBackend(t)
	fl.Impair(backend.Impairment{Stall: true})
	if _, failed := latencies(t, port, 1, false, 300*time.Millisecond); failed[KindTimeout] != 1 {
		t.Errorf("stalled: %v, want a timeout", failed)
	}
	fl.Impair(backend.Impairment{})
	if lat, failed := latencies(t, port, 1, false, 2*time.Second); len(failed) > 0 || len(lat) != 1 {
		t.Errorf("lifted: %v", failed)
	}
}

func TestParseImpairment(t *testing.T) {
	for _, tc := range []struct{ spec, want, err string }{
		{spec: "latency=50ms jitter=5ms", want: "latency=50ms jitter=5ms"},
		{spec: "bandwidth=1000,reset-after=4096,stall", want: "bandwidth=1000 reset-after=4096 stall"},
		{spec: "none", want: "none"},
		{spec: "", err: "empty impairment"},
		{spec: "loss=10%", want: "loss=10%"},
		{spec: "loss=10", err: `loss: "10" is not a valid value`},
		{spec: "loss=150%", err: "loss must be between"},
		{spec: "drop=1", err: `unknown impairment "drop"`},
		{spec: "latency=50", err: `latency: "50" is not a valid value`},
		{spec: "latency=5ms jitter=10ms", err: "jitter must not exceed"},
		{spec: "bandwidth=-1", err: "must not be negative"},
		{spec: "none stall", err: "none goes alone"},
	} {
		im, err := backend.ParseImpairment(tc.spec)
		if tc.err != "" {
			if err == nil || !containsStr(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || im.String() != tc.want {
			t.Errorf("%q: %v %v, want %s", tc.spec, im, err, tc.want)
		}
	}
}

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }

// TestStreamLoad: a stream load reads at its bandwidth, counts a reset when
// the backend cuts it, and opens the stream again.
func TestStreamLoad(t *testing.T) {
	fl, port := demoBackend(t)
	start := time.Now()
	rec := newRecorder(start, 2*time.Second)
	c := newClient(Load{Kind: "stream", Connections: 1, Bandwidth: 200_000, Port: port, DNS: "per-connection", Timeout: time.Second},
		"127.0.0.1", "", rec)
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(1500*time.Millisecond))
	defer cancel()
	go func() {
		time.Sleep(700 * time.Millisecond)
		fl.Set(backend.FaultRefuse) // resets the open stream
		time.Sleep(50 * time.Millisecond)
		fl.Set(backend.FaultNone)
	}()
	c.run(ctx)
	bins, _ := rec.finish()
	var before, after int64
	failed := map[string]int{}
	for _, b := range bins {
		add(failed, b.Failed)
		if b.T < 0.7 {
			before += b.Stream
		} else if b.T >= 0.9 {
			after += b.Stream
		}
	}
	// 200 kB/s for 0.7 s is 140 kB, plus a burst of 16 kB.
	if before == 0 || before > 160_000 {
		t.Errorf("%d bytes in 0.7 s at 200 kB/s", before)
	}
	if failed[KindReset] < 1 || after == 0 {
		t.Errorf("failed %v, %d bytes after the stream was cut", failed, after)
	}
}
