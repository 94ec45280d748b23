package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"eplink/controlplane/api"
	"eplink/controlplane/apitest"
	"eplink/controlplane/snapshot"
	"eplink/dataplane"
	"eplink/dataplane/backend"
)

func TestChooseLabKey(t *testing.T) {
	for _, tc := range []struct {
		given, addr   string
		want          string // "random" = a generated key
		wantGenerated bool
	}{
		{addr: "127.0.0.1:8080", want: ""},
		{addr: "[::1]:8080", want: ""},
		{addr: "127.9.9.9:8080", want: ""},
		{addr: "0.0.0.0:8080", want: "random", wantGenerated: true},
		{addr: "[::]:8080", want: "random", wantGenerated: true},
		{addr: "192.168.1.5:8080", want: "random", wantGenerated: true},
		{given: "mine", addr: "0.0.0.0:8080", want: "mine"},
		{given: "mine", addr: "127.0.0.1:8080", want: "mine"},
	} {
		ta, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		key, generated, err := chooseLabKey(tc.given, ta)
		if err != nil || generated != tc.wantGenerated ||
			(tc.want == "random" && len(key) != 32) || (tc.want != "random" && key != tc.want) {
			t.Errorf("%q on %s: key %q generated %v err %v, want %q", tc.given, tc.addr, key, generated, err, tc.want)
		}
	}
}

// TestFaultSendsLabKey: eplink fault sends the lab key of the server it
// calls, from the profile, from --lab-key or $EPLINK_LAB_KEY; without it
// the server's 403 is the error.
func TestFaultSendsLabKey(t *testing.T) {
	var got string
	srv := httptest.NewServer(api.RequireLabKey("k1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get(api.LabKeyHeader)
		w.Write([]byte(`{"EndpointId":"ep-1","ZoneId":"z","Failed":true}` + "\n"))
	})))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	t.Setenv("EPLINK_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	t.Setenv("EPLINK_LAB_KEY", "")
	args := []string{"fault", "--endpoint", addr, "--endpoint-id", "ep-1", "--zone-id", "z"}

	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "Forbidden.LabKey") {
		t.Errorf("no key: exit %d, stderr %s", code, stderr.String())
	}
	pf := &profileFile{Profiles: map[string]profile{"consumer": {Endpoint: addr, LabKey: "k1"}, "other": {Endpoint: "127.0.0.1:1", LabKey: "k2"}}}
	if _, err := saveProfile(pf); err != nil {
		t.Fatal(err)
	}
	if code := run(args, &stdout, &stderr); code != 0 || got != "k1" {
		t.Errorf("key from the profile: exit %d, sent %q, stderr %s", code, got, stderr.String())
	}
	t.Setenv("EPLINK_LAB_KEY", "wrong")
	stderr.Reset()
	if code := run(args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "not this server's") {
		t.Errorf("$EPLINK_LAB_KEY beats the profile: exit %d, stderr %s", code, stderr.String())
	}
	if code := run(append(args, "--lab-key", "k1"), &stdout, &stderr); code != 0 || got != "k1" {
		t.Errorf("--lab-key: exit %d, sent %q", code, got)
	}
}

// TestFaultCLBZone: `eplink fault --clb-zone-id` switches the CLBs of a
// zone to their backup zone through the lab API, and --recover brings them
// back; bad flags are usage errors.
func TestFaultCLBZone(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	fault := func(code int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if got := run(append([]string{"fault", "--endpoint", env.Addr}, args...), &out, &errOut); got != code {
			t.Fatalf("eplink fault %v: exit %d, want %d; stderr: %s", args, got, code, errOut.String())
		}
		return out.String() + errOut.String()
	}
	lb := func(id string) (string, bool) {
		x := env.Publisher.Load().LoadBalancers[id]
		return x.ActiveZone, x.Unavailable
	}

	out := fault(0, "--clb-zone-id", apitest.ZoneH)
	if !strings.Contains(out, `"ActiveZoneId":"`+apitest.ZoneI+`"`) {
		t.Errorf("fault output: %s", out)
	}
	if z, down := lb(apitest.CLB1); z != apitest.ZoneI || down {
		t.Errorf("CLB1 (backup i) after the fault: active %q unavailable %v", z, down)
	}
	if _, down := lb(apitest.CLB2); !down {
		t.Error("CLB2 (no backup) after the fault: still available")
	}
	fault(0, "--clb-zone-id", apitest.ZoneH, "--recover")
	if z, down := lb(apitest.CLB1); z != "" || down {
		t.Errorf("CLB1 after recovery: active %q unavailable %v", z, down)
	}

	fault(1, "--clb-zone-id", "cn-hangzhou-x")
	fault(2, "--clb-zone-id", apitest.ZoneH, "--zone-id", apitest.ZoneH)
}

// TestFaultBackend: `eplink fault --backend` fails a builtin backend
// through the lab API (the demo server stops answering as asked) and
// --recover brings it back; an unknown backend or mode is the API's error
// and changes nothing.
func TestFaultBackend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := backend.NewFaultListener(ln)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go backend.Serve(ctx, fl, "ECS09")
	faults := map[string]*backend.FaultListener{ln.Addr().String(): fl}
	mux := http.NewServeMux()
	mux.Handle("POST /lab/backend-fault", api.BackendFault(func(a, m string) error { return setBackendFault(faults, a, m) }))
	mux.Handle("POST /lab/backend-impair", api.BackendImpair(func(a, spec string) (string, error) { return impairBackend(faults, a, spec) }))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	t.Setenv("EPLINK_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	fault := func(code int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if got := run(append([]string{"fault", "--endpoint", strings.TrimPrefix(srv.URL, "http://")}, args...), &out, &errOut); got != code {
			t.Fatalf("eplink fault %v: exit %d, want %d; stderr: %s", args, got, code, errOut.String())
		}
		return out.String() + errOut.String()
	}
	addr := ln.Addr().String()
	refused := func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	if out := fault(0, "--backend", addr); !strings.Contains(out, `"Mode":"stop"`) || !refused() || fl.Mode() != "stop" {
		t.Errorf("stop: %s, mode %s", out, fl.Mode())
	}
	fault(0, "--backend", addr, "--recover")
	if refused() || fl.Mode() != "none" {
		t.Errorf("after --recover: refused %v, mode %s", refused(), fl.Mode())
	}
	if out := fault(1, "--backend", "127.0.0.1:1"); !strings.Contains(out, "InvalidBackend.NotFound") {
		t.Errorf("unknown backend: %s", out)
	}
	if out := fault(1, "--backend", addr, "--mode", "crash"); !strings.Contains(out, "400 Bad Request") || fl.Mode() != "none" {
		t.Errorf("unknown mode: %s, mode %s", out, fl.Mode())
	}
	fault(2, "--backend", addr, "--zone-id", "z")

	if out := fault(0, "--backend", addr, "--impair", "latency=50ms,jitter=5ms"); !strings.Contains(out, `"Impairment":"latency=50ms jitter=5ms"`) ||
		fl.Impairment() != (backend.Impairment{Latency: 50 * time.Millisecond, Jitter: 5 * time.Millisecond}) {
		t.Errorf("impair: %s, now %v", out, fl.Impairment())
	}
	if out := fault(1, "--backend", addr, "--impair", "drop=10%"); !strings.Contains(out, "InvalidParameter") || fl.Impairment().Latency == 0 {
		t.Errorf("bad impairment: %s, now %v", out, fl.Impairment())
	}
	fault(0, "--backend", addr, "--impair", "none")
	if fl.Impairment() != (backend.Impairment{}) {
		t.Errorf("after none: %v", fl.Impairment())
	}
	fault(2, "--impair", "stall")
}

// TestFaultImpairRoute: `eplink fault --clb/--eni/--endpoint-id --zone-id
// --impair` reaches the data plane through POST /lab/impair; an unknown
// target is the API's 404, a bad spec or target 400, and neither changes
// anything.
func TestFaultImpairRoute(t *testing.T) {
	s := snapshot.Empty()
	s.Version = 1
	s.LoadBalancers["lb-a"] = &snapshot.LoadBalancer{ID: "lb-a", Zone: "cn-hangzhou-h"}
	pub := &snapshot.Publisher{}
	pub.Publish(s)
	proxy := dataplane.New(dataplane.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proxy.Run(ctx, pub) }()
	defer func() { cancel(); <-done }()
	for proxy.Version() < 1 {
		time.Sleep(time.Millisecond)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /lab/impair", api.Impair(func(t api.ImpairTarget, spec string) (string, error) {
		return impairRoute(proxy, t, spec)
	}))
	mux.Handle("POST /lab/dataplane-restart", api.DataplaneRestart(proxy.Restart))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	t.Setenv("EPLINK_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	fault := func(code int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if got := run(append([]string{"fault", "--endpoint", strings.TrimPrefix(srv.URL, "http://")}, args...), &out, &errOut); got != code {
			t.Fatalf("eplink fault %v: exit %d, want %d; stderr: %s", args, got, code, errOut.String())
		}
		return out.String() + errOut.String()
	}
	if out := fault(0, "--clb", "lb-a", "--impair", "latency=5ms loss=1%"); !strings.Contains(out, `"Impairment":"latency=5ms loss=1%"`) ||
		!strings.Contains(out, `"ResourceId":"lb-a"`) {
		t.Errorf("impair: %s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--clb", "lb-b", "--impair", "stall"}, "InvalidResourceId.NotFound"},
		{[]string{"--eni", "eni-x", "--impair", "stall"}, "InvalidEniId.NotFound"},
		{[]string{"--endpoint-id", "ep-x", "--zone-id", "cn-hangzhou-h", "--impair", "stall"}, "EndpointZoneNotFound"},
		{[]string{"--clb", "lb-a", "--impair", "loss=5"}, "InvalidParameter"},
	} {
		if out := fault(1, tc.args...); !strings.Contains(out, tc.want) {
			t.Errorf("%v: %s, want %s", tc.args, out, tc.want)
		}
	}
	fault(0, "--clb", "lb-b", "--impair", "none") // lifting needs no target
	fault(2, "--eni", "eni-x")
	fault(2, "--endpoint-id", "ep-x", "--impair", "stall")
	fault(2, "--clb", "lb-a", "--eni", "eni-x", "--impair", "stall")

	// The data plane restarts and answers once it serves again, its
	// impairments kept.
	if out := fault(0, "--dataplane-restart", "--downtime", "20ms"); !strings.Contains(out, `"Downtime":"20ms"`) {
		t.Errorf("restart: %s", out)
	}
	if out := fault(1, "--clb", "lb-b", "--impair", "stall"); !strings.Contains(out, "InvalidResourceId.NotFound") {
		t.Errorf("after the restart: %s", out)
	}
	fault(2, "--dataplane-restart", "--clb", "lb-a")
	for form, want := range map[string]string{
		"Impairment=stall":                         "400 MissingParameter",
		"ResourceId=lb-a&EniId=e&Impairment=stall": "400 InvalidParameter",
		"EndpointId=ep-1&Impairment=stall":         "400 MissingParameter",
		"ResourceId=lb-a":                          "400 MissingParameter",
	} {
		resp, err := http.Post(srv.URL+"/lab/impair", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if got := fmt.Sprint(resp.StatusCode, " ", body["Code"]); got != want {
			t.Errorf("%s: %s, want %s", form, got, want)
		}
	}
}
