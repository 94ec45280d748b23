package dataplane

import (
	"testing"
)

func TestForwardEcho(t *testing.T) { onEachFrontEnd(t, testForwardEcho) }

func testForwardEcho(t *testing.T, fe frontEnd) {
	l := newLabOn(t, fe, Options{})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	c := dial(t, w.addr())
	got, err := roundTrip(c, "hello through the ENI")
	if err != nil || got != "hello through the ENI" {
		t.Fatalf("roundTrip = %q, %v", got, err)
	}
	if !l.p.Healthy("lb-a") {
		t.Errorf("Healthy(lb-a) = false")
	}
	if l.p.Healthy("lb-missing") {
		t.Errorf("Healthy(lb-missing) = true")
	}
}
