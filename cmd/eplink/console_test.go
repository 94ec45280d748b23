package main

import (
	"net"
	"testing"

	"eplink/controlplane/lab"
)

// TestConsoleOffersDemoKeysOnLoopbackOnly: the sign-in page lists the
// demo's AccessKeys only when the API is reachable from this machine alone,
// and never a lab file's.
func TestConsoleOffersDemoKeysOnLoopbackOnly(t *testing.T) {
	l := lab.Demo(1, 2)
	for _, c := range []struct {
		addr string
		demo bool
		want int
	}{
		{"127.0.0.1:8080", true, 2}, {"[::1]:8080", true, 2},
		{"0.0.0.0:8080", true, 0}, {"192.168.1.10:8080", true, 0},
		{"127.0.0.1:8080", false, 0},
	} {
		ta, err := net.ResolveTCPAddr("tcp", c.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := consoleAccounts(c.demo, ta, l); len(got) != c.want {
			t.Errorf("API on %s (demo %v): %d accounts offered, want %d", c.addr, c.demo, len(got), c.want)
		}
	}
}
