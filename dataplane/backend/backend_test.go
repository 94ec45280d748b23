package backend

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	tests := []struct {
		target   string
		status   int
		body     string
		bodySize int64
	}{
		{"/", 200, "Hello World ! This is ECS01.\n", -1},
		{"/bytes?n=0", 200, "", 0},
		{"/bytes?n=100000", 200, "", 100000},
		{"/bytes?n=-1", 400, "", -1},
		{"/bytes?n=x", 400, "", -1},
		{"/bytes", 400, "", -1},
		{"/bytes?n=" + strconv.FormatInt(MaxBytes+1, 10), 400, "", -1},
		{"/nope", 404, "", -1},
	}
	h := Handler("ECS01")
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.target, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Errorf("body %q, want %q", rec.Body.String(), tt.body)
			}
			if tt.bodySize >= 0 {
				if int64(rec.Body.Len()) != tt.bodySize {
					t.Errorf("body %d bytes, want %d", rec.Body.Len(), tt.bodySize)
				}
				if cl := rec.Header().Get("Content-Length"); cl != strconv.FormatInt(tt.bodySize, 10) {
					t.Errorf("Content-Length %q", cl)
				}
			}
		})
	}
}

func TestServeWithRealClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, "ECS02") }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "Hello World ! This is ECS02.\n" {
		t.Errorf("body %q", body)
	}
	resp, err = http.Get("http://" + ln.Addr().String() + "/bytes?n=5000000")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != 5000000 {
		t.Errorf("streamed %d, %v", n, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve's Accept fails at once
	if err := Serve(context.Background(), ln, "x"); err == nil {
		t.Error("Serve on a closed listener returned nil")
	}
}
