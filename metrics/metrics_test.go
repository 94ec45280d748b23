package metrics_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"eplink/controlplane/snapshot"
	"eplink/dataplane"
	"eplink/metrics"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden")

// TestExpositionGolden runs a scripted set of flows through a real data
// plane and compares /metrics with testdata/metrics.golden: the names,
// labels and help texts other tools rely on change only on purpose.
func TestExpositionGolden(t *testing.T) {
	echo := echoServer(t)
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	p := dataplane.New(dataplane.Options{Metrics: m})
	pub := &snapshot.Publisher{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, pub) }()
	defer func() { cancel(); <-done }()

	// A zone in the middle of a Graceful migration: the new ENI goes to
	// lb-b, the old one still carries flows to lb-a. A second zone's ENI
	// address cannot be bound (not on this host).
	oldENI := netip.MustParseAddr("127.202.0.1")
	newENI := netip.MustParseAddr("127.202.0.2")
	s := snapshot.Empty()
	s.Version = 1
	s.SecurityGroups["sg-1"] = &snapshot.SecurityGroup{ID: "sg-1", Rules: []snapshot.Rule{
		{Protocol: "tcp", PortFrom: 1, PortTo: 65535, SourceCIDR: netip.MustParsePrefix("127.0.0.2/32"), Accept: false, Priority: 1},
		{Protocol: "tcp", PortFrom: 1, PortTo: 65535, SourceCIDR: netip.MustParsePrefix("0.0.0.0/0"), Accept: true, Priority: 1},
	}}
	for _, id := range []string{"lb-a", "lb-b"} {
		s.LoadBalancers[id] = &snapshot.LoadBalancer{ID: id, Zone: "cn-hangzhou-h", Listeners: []snapshot.Listener{
			{Port: 18090, Backends: []snapshot.Backend{{Name: "ECS01", Address: echo, Weight: 100}}}}}
	}
	// lb-b runs in its backup zone: its primary zone failed.
	s.LoadBalancers["lb-b"].BackupZone, s.LoadBalancers["lb-b"].ActiveZone = "cn-hangzhou-i", "cn-hangzhou-i"
	s.Endpoints["ep-1"] = &snapshot.Endpoint{
		ID: "ep-1", ServiceID: "epsrv-1", ConnectionStatus: snapshot.ConnConnected,
		SecurityGroupIDs: []string{"sg-1"},
		Zones: []*snapshot.EndpointZone{
			{ZoneID: "cn-hangzhou-h", Status: snapshot.ZoneMigrating,
				ENI: snapshot.ENI{ID: "eni-new", IP: newENI}, ResourceID: "lb-b",
				Replaced: &snapshot.Binding{ENI: snapshot.ENI{ID: "eni-old", IP: oldENI}, ResourceID: "lb-a"}},
			{ZoneID: "cn-hangzhou-i", Status: snapshot.ZoneConnected,
				ENI: snapshot.ENI{ID: "eni-far", IP: netip.MustParseAddr("192.0.2.1")}, ResourceID: "lb-b"},
		},
	}
	pub.Publish(s)
	waitFor(t, "listeners", func() bool { return len(p.Errors()) == 1 })

	// Two flows to lb-a on the old ENI (5 and 7 bytes each way), one
	// finished and one held open; one finished flow to lb-b (3 bytes); one
	// client denied by the security group.
	exchange(t, "127.202.0.1:18090", "hello", true)
	held := exchange(t, "127.202.0.1:18090", "still 7", false)
	defer held.Close()
	exchange(t, "127.202.0.2:18090", "abc", true)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 2 * time.Second}
	if c, err := d.Dial("tcp", "127.202.0.2:18090"); err == nil {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		c.Read(make([]byte, 1))
		c.Close()
	}

	var got []byte
	waitFor(t, "all counters", func() bool {
		got = scrape(t, reg, echo)
		return bytes.Contains(got, []byte(`flows_refused_total{endpoint_id="ep-1",reason="sg_denied",service_id="epsrv-1",zone_id="cn-hangzhou-h"} 1`)) &&
			bytes.Contains(got, []byte(`flows_active{endpoint_id="ep-1",resource_id="lb-a",service_id="epsrv-1",zone_id="cn-hangzhou-h"} 1`)) &&
			bytes.Contains(got, []byte(`flow_bytes_total{direction="backend_to_client",endpoint_id="ep-1",resource_id="lb-b",service_id="epsrv-1",zone_id="cn-hangzhou-h"} 3`)) &&
			bytes.Contains(got, []byte(`flow_bytes_total{direction="backend_to_client",endpoint_id="ep-1",resource_id="lb-a",service_id="epsrv-1",zone_id="cn-hangzhou-h"} 12`)) &&
			!bytes.Contains(got, []byte(`flows_active{endpoint_id="ep-1",resource_id="lb-b"`))
	})
	const golden = "testdata/metrics.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("exposition differs from %s (run with -update if intended):\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}

// exchange sends msg through addr and reads the echo; close ends the flow
// (and waits until the backend's side closed too).
func exchange(t *testing.T, addr, msg string, close bool) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, msg)
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("echo via %s: %q, %v", addr, buf, err)
	}
	if !close {
		c.SetDeadline(time.Time{})
		return c
	}
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c)
	c.Close()
	return nil
}

// scrape returns the eplink_ part of the exposition, with the backend's
// ephemeral address made stable.
func scrape(t *testing.T, reg *prometheus.Registry, backend string) []byte {
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var out []string
	for _, line := range strings.SplitAfter(rec.Body.String(), "\n") {
		if strings.Contains(line, "eplink_") {
			out = append(out, strings.ReplaceAll(line, backend, "BACKEND"))
		}
	}
	return []byte(strings.Join(out, ""))
}

func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return ln.Addr().String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
