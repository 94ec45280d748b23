package rpc

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSignedCall measures whole signed calls through the real HTTP
// server on loopback: client signing, HTTP, parameter parsing, signature
// check, replay table, handler, JSON out. Clients run in parallel over
// keep-alive connections, as the SDK does.
func BenchmarkSignedCall(b *testing.B) {
	type vpc struct {
		VpcId  string
		Status string
	}
	s := &Server{
		Version: testVersion,
		Actions: map[string]Handler{"DescribeThing": func(_ context.Context, c *Call) (any, error) {
			return struct {
				Vpcs       []vpc
				TotalCount int
			}{[]vpc{{c.Params.Get("VpcId"), "Available"}}, 1}, nil
		}},
		Credentials: func(string) (string, string, bool) { return testSecret, testUID, true },
		MaxNonces:   1 << 24,
	}
	hs := NewHTTPServer("", s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String() + "/?"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()

	var seq atomic.Int64
	b.SetParallelism(8) // 16 clients on 2 cores: keep the server busy
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			q := url.Values{
				"Action": {"DescribeThing"}, "Version": {testVersion}, "Format": {"JSON"},
				"AccessKeyId": {testAK}, "SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"},
				"SignatureType": {""}, "SignatureNonce": {fmt.Sprintf("%032x", seq.Add(1))},
				"Timestamp": {time.Now().UTC().Format("2006-01-02T15:04:05Z")}, "RegionId": {"cn-hangzhou"},
				"VpcId": {"vpc-bench"},
			}
			q.Set("Signature", Sign("POST", q, testSecret))
			resp, err := client.Post(base+q.Encode(), "application/x-www-form-urlencoded", strings.NewReader(""))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkServeHTTP is the server's own share of a call, without sockets:
// parsing, signature check, replay table, handler, JSON out.
func BenchmarkServeHTTP(b *testing.B) {
	newServer := func() *Server {
		return &Server{
			Version:     testVersion,
			Actions:     map[string]Handler{"Nil": func(context.Context, *Call) (any, error) { return struct{ Ok bool }{true}, nil }},
			Credentials: func(string) (string, string, bool) { return testSecret, testUID, true },
			Now:         func() time.Time { return testNow },
		}
	}
	// A bounded set of signed requests, replayed to a fresh server (a fresh
	// replay table) each round.
	reqs := make([]*http.Request, 4096)
	for i := range reqs {
		q := baseParams("Nil")
		q.Set("VpcId", "vpc-bench")
		q.Set("Signature", Sign("POST", q, testSecret))
		reqs[i], _ = http.NewRequest("POST", "/?"+q.Encode(), nil)
	}
	w := &discardWriter{h: http.Header{}}
	var s *Server
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%len(reqs) == 0 {
			b.StopTimer()
			s = newServer()
			b.StartTimer()
		}
		s.ServeHTTP(w, reqs[i%len(reqs)])
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
