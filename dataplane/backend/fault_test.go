package backend

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// get makes one HTTP request on a new connection and says how it ended:
// the greeting, "refused", "reset" or "timeout".
func get(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "refused"
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return "reset" // the reset came before the dialer looked
	}
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b, err := io.ReadAll(c)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case err != nil || len(b) == 0:
		return "reset"
	}
	return string(b[strings.Index(string(b), "Hello"):])
}

func TestFaultListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := NewFaultListener(ln)
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Serve(ctx, fl, "ECS09") }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	const hello = "Hello World ! This is ECS09.\n"
	for _, tc := range []struct{ mode, want string }{
		{FaultNone, hello},
		{FaultStop, "refused"},
		{FaultNone, hello},
		{FaultRefuse, "reset"},
		{FaultBlackhole, "timeout"},
		{FaultNone, hello},
	} {
		if err := fl.Set(tc.mode); err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		if got := get(t, addr); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.mode, got, tc.want)
		}
	}
	if err := fl.Set("crash"); err == nil {
		t.Error("an unknown mode was accepted")
	}
	fl.Set(FaultStop)
	if err := fl.Set(FaultRefuse); err == nil {
		t.Error("a stopped backend could refuse")
	}
	if fl.Mode() != FaultStop {
		t.Errorf("mode %s after a refused change, want stop", fl.Mode())
	}
}
