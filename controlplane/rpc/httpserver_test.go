package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestNewHTTPServerBounds(t *testing.T) {
	hs := NewHTTPServer("127.0.0.1:0", &Server{})
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 ||
		hs.IdleTimeout <= 0 || hs.MaxHeaderBytes <= 0 {
		t.Fatalf("unbounded server: %+v", hs)
	}
}

// TestSlowClientCutOff trickles a request a few bytes at a time and checks
// the server hangs up on it instead of waiting for ever.
func TestSlowClientCutOff(t *testing.T) {
	ts := newTestServer(t)
	hs := NewHTTPServer("", ts.Server)
	// Short timeouts so the test is fast; the defaults are tested above.
	hs.ReadHeaderTimeout = 200 * time.Millisecond
	hs.ReadTimeout = 400 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	q := baseParams("Nil").Encode()
	tests := []struct {
		name   string
		head   string // sent at once
		drip   string // then repeated, one every 20ms
		answer string // what the server says before hanging up, "" = nothing
	}{
		{"headers", "POST /?" + q + " HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n", ""},
		{"body", "POST /?" + q + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
			"Content-Length: 100000\r\n\r\n", "a=1&", "HTTP/1.1 408"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				if _, err := io.WriteString(c, tt.head); err != nil {
					return
				}
				for range 250 { // at most 5s
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					if _, err := io.WriteString(c, tt.drip); err != nil {
						return
					}
				}
			}()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("server still holding the connection after %v", time.Since(start))
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("cut off after %v", d)
			}
			if !strings.HasPrefix(string(got), tt.answer) {
				t.Errorf("answer %q, want prefix %q", got, tt.answer)
			}
		})
	}
}

// TestHugeHeaderRefused checks the request line (where the query is) is
// bounded by MaxHeaderBytes.
func TestHugeHeaderRefused(t *testing.T) {
	ts := newTestServer(t)
	hs := NewHTTPServer("", ts.Server)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	go fmt.Fprintf(c, "GET /?A=%s HTTP/1.1\r\nHost: x\r\n\r\n", strings.Repeat("x", 2*MaxHeaderBytes))
	got, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(got), "HTTP/1.1 431") {
		t.Errorf("answer %.80q, want 431", got)
	}
	// Like every other error of the API, as JSON with a Code.
	_, body, _ := strings.Cut(string(got), "\r\n\r\n")
	var e struct{ RequestId, Code, Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != "RequestHeaderFieldsTooLarge" || e.RequestId == "" ||
		!strings.Contains(string(got), "Content-Type: application/json") {
		t.Errorf("431 body %.200q: %v", got, err)
	}

	// Past what net/http reads at all, it still refuses (in its own words).
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(5 * time.Second))
	go fmt.Fprintf(c2, "GET /?A=%s HTTP/1.1\r\nHost: x\r\n\r\n", strings.Repeat("x", 2*hardHeaderBytes))
	if got, _ := io.ReadAll(c2); !strings.HasPrefix(string(got), "HTTP/1.1 431") {
		t.Errorf("answer %.80q, want 431", got)
	}
}
