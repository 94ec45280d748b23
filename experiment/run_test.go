package experiment

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// dnsServer answers A queries for name with addrs, on loopback.
func dnsServer(t *testing.T, name string, addrs ...string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if q.Question[0].Name == dns.Fqdn(name) {
			for _, a := range addrs {
				rr, _ := dns.NewRR(fmt.Sprintf("%s 5 IN A %s", dns.Fqdn(name), a))
				m.Answer = append(m.Answer, rr)
			}
		} else {
			m.Rcode = dns.RcodeNameError
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

// listen returns a loopback listener whose accepted connections get f.
func listen(t *testing.T, f func(net.Conn)) (ip string, port int) {
	t.Helper()
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
			go f(c)
		}
	}()
	a := ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func answer(status int, body string) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 4096)
		c.Read(buf)
		fmt.Fprintf(c, "HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, len(body), body)
	}
}

// TestClientKinds checks what the built-in client records for each way a
// request can end, the name resolved through a DNS server as from eplink.
func TestClientKinds(t *testing.T) {
	refusedLn, _ := net.Listen("tcp", "127.0.0.1:0")
	refusedPort := refusedLn.Addr().(*net.TCPAddr).Port
	refusedLn.Close()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	for _, tc := range []struct {
		name    string
		serve   func(net.Conn)
		port    int
		kind    string
		backend string
	}{
		{"ok", answer(200, "Hello World ! This is ECS09.\n"), 0, "", "ECS09"},
		{"ok without name", answer(200, "hi"), 0, "", ""},
		{"bad status", answer(503, "This is ECS09."), 0, KindBad, ""},
		{"refused", nil, refusedPort, KindRefused, ""},
		{"reset", func(c net.Conn) {
			c.(*net.TCPConn).SetLinger(0) // RST, as eplink resets a refused flow
			c.Close()
		}, 0, KindReset, ""},
		{"closed mid-answer", func(c net.Conn) {
			defer c.Close()
			c.Read(make([]byte, 4096))
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nThis is")
		}, 0, KindReset, ""},
		{"timeout", func(c net.Conn) {
			<-release
			c.Close()
		}, 0, KindTimeout, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ip, port := "127.0.0.1", tc.port
			if tc.serve != nil {
				ip, port = listen(t, tc.serve)
			}
			srv := dnsServer(t, "svc.example.", ip)
			start := time.Now()
			rec := newRecorder(start, 10*time.Second)
			c := newClient(Load{Port: port, Path: "/", DNS: "per-connection", Timeout: 300 * time.Millisecond}, "svc.example", srv, rec)
			c.request(context.Background())
			bins, _ := rec.finish()
			var got Bin
			for _, b := range bins {
				got.OK += b.OK
				for k, v := range b.Failed {
					got.Failed = map[string]int{k: v}
				}
				for k := range b.Backend {
					got.Backend = map[string]int{k: 1}
				}
				if b.DNS[ip] > 0 {
					got.DNS = b.DNS
				}
			}
			if tc.kind == "" && (got.OK != 1 || got.Failed != nil) || tc.kind != "" && got.Failed[tc.kind] != 1 {
				t.Errorf("recorded ok %d, failed %v; want %q", got.OK, got.Failed, tc.kind)
			}
			if tc.backend != "" && got.Backend[tc.backend] != 1 {
				t.Errorf("backend %v, want %s", got.Backend, tc.backend)
			}
			if got.DNS == nil {
				t.Errorf("the DNS answer %s was not recorded", ip)
			}
		})
	}
	t.Run("no such name", func(t *testing.T) {
		srv := dnsServer(t, "svc.example.", "127.0.0.1")
		rec := newRecorder(time.Now(), 10*time.Second)
		c := newClient(Load{Port: 1, Path: "/", DNS: "per-connection", Timeout: time.Second}, "other.example", srv, rec)
		c.request(context.Background())
		bins, _ := rec.finish()
		if bins[0].Failed[KindDNS] != 1 {
			t.Errorf("failed %v, want dns 1", bins[0].Failed)
		}
	})
}

// TestClientDNSCache: per-connection clients ask for every connection,
// cached ones once per cache period, as a JVM does.
func TestClientDNSCache(t *testing.T) {
	var mu sync.Mutex
	asked := 0
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ip, port := listen(t, answer(200, "This is ECS01."))
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		mu.Lock()
		asked++
		mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(q)
		rr, _ := dns.NewRR("svc.example. 5 IN A " + ip)
		m.Answer = append(m.Answer, rr)
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	defer srv.Shutdown()
	for _, tc := range []struct {
		mode string
		want int
	}{{"per-connection", 5}, {"cached", 1}, {"ttl", 1}} {
		mu.Lock()
		asked = 0
		mu.Unlock()
		rec := newRecorder(time.Now(), 10*time.Second)
		c := newClient(Load{Port: port, Path: "/", DNS: tc.mode, DNSCache: time.Minute, Timeout: time.Second}, "svc.example", pc.LocalAddr().String(), rec)
		for range 5 {
			c.request(context.Background())
		}
		mu.Lock()
		if asked != tc.want {
			t.Errorf("%s: %d queries for 5 connections, want %d", tc.mode, asked, tc.want)
		}
		mu.Unlock()
	}
}

// fakeEplink serves what a run reads from eplink: /metrics and the lab's
// zone fault, which it records.
func fakeEplink(t *testing.T) (addr string, faults *[]string) {
	var mu sync.Mutex
	var got []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "# TYPE eplink_dataplane_flows_active gauge\neplink_dataplane_flows_active{resource_id=\"lb-1\"} 2\n")
	})
	mux.HandleFunc("POST /lab/zone-fault", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = append(got, r.Form.Get("EndpointId")+" "+r.Form.Get("ZoneId")+" "+r.Form.Get("Failed"))
		mu.Unlock()
		io.WriteString(w, `{"Failed":true}`)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), &got
}

func TestRun(t *testing.T) {
	api, faults := fakeEplink(t)
	refusedLn, _ := net.Listen("tcp", "127.0.0.1:0")
	refusedPort := refusedLn.Addr().(*net.TCPAddr).Port
	refusedLn.Close()
	_, port := listen(t, answer(200, "This is ECS01."))
	plan := fmt.Sprintf(`duration: 1500ms
load:
  - {host: 127.0.0.1, port: %d, rate: 40}
  - {name: broken, host: 127.0.0.1, port: %d, rate: 10}
timeline:
  - {name: down, at: 500ms, fault: zone-down ep-1 cn-hangzhou-h}
expect:
  - load1.failed == 0
  - answered_by ECS01 > 20
  - ok > 0 after down
  - load1.failed > 0 after down
  - broken.refused > 5
  - failed > 5
`, port, refusedPort)
	p, err := Parse([]byte(plan), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), p, Options{API: api})
	if err != nil {
		t.Fatal(err)
	}
	if len(*faults) != 1 || (*faults)[0] != "ep-1 cn-hangzhou-h true" {
		t.Errorf("lab faults %q", *faults)
	}
	if len(res.Events) != 1 || res.Events[0].Name != "down" || res.Events[0].T < 0.5 || res.Events[0].Err != "" {
		t.Errorf("events %+v", res.Events)
	}
	// The last expectation cannot hold: the run fails, and says which.
	if res.Pass {
		t.Error("the run passed with an expectation that cannot hold")
	}
	for i, want := range []bool{true, true, true, false, true, true} {
		if res.Outcomes[i].Pass != want {
			t.Errorf("%s: pass %v, want %v", res.Outcomes[i].Text(), res.Outcomes[i].Pass, want)
		}
	}
	if s := res.Summary(); !strings.Contains(s, "FAILED: load1.failed > 0 after down (measured 0 over 0.5s-1.5s)") {
		t.Errorf("summary:\n%s", s)
	}
	flows := 0
	for _, b := range res.Bins {
		flows = max(flows, b.Flows["lb-1"])
	}
	if flows != 2 {
		t.Errorf("flows of lb-1 never sampled as 2")
	}
	dir := t.TempDir()
	if err := res.Write(dir); err != nil {
		t.Fatal(err)
	}
}
