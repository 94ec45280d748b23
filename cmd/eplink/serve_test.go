package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// TestMain lets the test binary act as eplink itself, so that tests can
// start the real command as a child process without building it first.
func TestMain(m *testing.M) {
	if os.Getenv("EPLINK_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startEplink runs `eplink ARGS…` as a child process and returns its stdout
// lines as they come; the child is stopped with SIGTERM at the end of t.
func startEplink(t *testing.T, env []string, args ...string) (<-chan string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append(env, "EPLINK_TEST_AS_MAIN=1")...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &testLogWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("eplink did not exit cleanly on SIGTERM: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("eplink did not stop within 10s of SIGTERM")
		}
	})
	return lines, cmd
}

type testLogWriter struct{ t *testing.T }

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Logf("eplink: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// field returns the value printed after label in the demo's banner.
func waitBanner(t *testing.T, lines <-chan string) map[string]string {
	t.Helper()
	got := map[string]string{}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("eplink exited before printing its banner; saw %v", got)
			}
			f := strings.Fields(l)
			switch {
			case len(f) >= 2 && f[0] == "DNS":
				got["dns"] = f[1]
			case len(f) >= 2 && f[0] == "OpenAPI":
				got["api"] = strings.TrimPrefix(f[1], "http://")
			case len(f) >= 2 && f[0] == "Console":
				got["console"] = f[1]
			case len(f) >= 3 && f[0] == "zone" && f[1] == "domain":
				got["zone"] = f[2]
			case len(f) >= 3 && f[0] == "ENI":
				got["eni"] = f[2]
			case strings.Contains(l, "eplink api ") && strings.Contains(l, "--profile ") && got["api-cmd"] == "":
				got["api-cmd"] = strings.TrimSpace(l)
			case len(f) >= 2 && f[0] == "profiles":
				got["profiles"] = strings.Join(f[1:], " ")
			case len(f) >= 5 && f[0] == "ip" && f[1] == "netns" && f[4] == "curl" && got["netns curl"] == "":
				got["netns curl"] = strings.TrimSpace(l)
			case len(f) >= 5 && f[0] == "eplink" && f[1] == "exec" && f[4] == "curl" && got["exec curl"] == "":
				got["exec curl"] = strings.TrimSpace(l)
			case strings.HasPrefix(l, "Ctrl-C"):
				return got
			case strings.HasPrefix(l, "eplink: "):
				t.Fatalf("the demo reports a problem: %s", l)
			}
		case <-deadline:
			t.Fatalf("no banner within 30s; saw %v", got)
		}
	}
}

// TestDemoServesZoneDomain starts `eplink serve --demo` as a user would and
// follows its banner: the zone domain resolves through eplink's DNS to the
// ENI, and HTTP through that address reaches ECS01 behind CLB1.
func TestDemoServesZoneDomain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	// The demo's ENI addresses are fixed (it is the guide's scenario); a demo
	// someone runs on this machine holds them.
	for _, a := range []string{"127.10.0.2:80", "127.10.0.2:10080"} {
		if ln, err := net.Listen("tcp", a); err != nil && !errors.Is(err, syscall.EACCES) {
			t.Skipf("%s is taken (an eplink demo running here?): %v", a, err)
		} else if err == nil {
			ln.Close()
		}
	}
	cfg := filepath.Join(t.TempDir(), "config.json")
	lines, _ := startEplink(t, []string{"EPLINK_CONFIG=" + cfg},
		"serve", "--demo", "--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--transition-delay", "50ms")
	b := waitBanner(t, lines)
	for _, k := range []string{"api", "dns", "zone", "eni"} {
		if b[k] == "" {
			t.Fatalf("banner lacks %s: %v", k, b)
		}
	}

	// DNS: the zone domain answers the ENI address, authoritatively.
	m := new(mdns.Msg).SetQuestion(mdns.Fqdn(b["zone"]), mdns.TypeA)
	r, err := mdns.Exchange(m, b["dns"])
	if err != nil {
		t.Fatal(err)
	}
	if !r.Authoritative || len(r.Answer) != 1 {
		t.Fatalf("answer: %v", r)
	}
	ip := r.Answer[0].(*mdns.A).A.String()
	if ip != b["eni"] {
		t.Fatalf("zone domain answers %s, banner says ENI %s", ip, b["eni"])
	}

	// HTTP through the ENI, by the zone domain, like curl --resolve.
	port := "80"
	if ln, err := net.Listen("tcp", "127.10.0.1:80"); err != nil {
		port = "10080" // the demo could not bind 80 either (unprivileged)
	} else {
		ln.Close()
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(ip, port))
		},
	}}
	resp, err := client.Get("http://" + b["zone"] + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.TrimSpace(string(body)); got != "Hello World ! This is ECS01." {
		t.Fatalf("body %q", got)
	}

	// The API answers on the printed address and serves /metrics beside it.
	mresp, err := http.Get("http://" + b["api"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mbody, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(mbody), "eplink_dataplane_") {
		t.Fatalf("/metrics lacks data-plane metrics")
	}
	// The web console is on the same address, and the banner says where.
	cresp, err := http.Get("http://" + b["api"] + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	cbody, _ := io.ReadAll(cresp.Body)
	cresp.Body.Close()
	if cresp.StatusCode != http.StatusOK || !strings.Contains(string(cbody), "/console/static/app.js") {
		t.Fatalf("/console/: %d %.200s", cresp.StatusCode, cbody)
	}
	if b["console"] != "http://"+b["api"]+"/console/" {
		t.Fatalf("banner's console address %q, want http://%s/console/", b["console"], b["api"])
	}
	// The CLI profile was written where EPLINK_CONFIG points.
	if _, err := os.Stat(cfg); err != nil {
		t.Fatalf("profile: %v", err)
	}
}

// TestDemoBesideAnotherServer: when another live eplink holds the plain
// profile names, the demo writes provider-2 and consumer-2, and the
// commands it prints use them, so that they reach the demo.
func TestDemoBesideAnotherServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	for _, a := range []string{"127.10.0.2:80", "127.10.0.2:10080"} {
		if ln, err := net.Listen("tcp", a); err != nil && !errors.Is(err, syscall.EACCES) {
			t.Skipf("%s is taken (an eplink demo running here?): %v", a, err)
		} else if err == nil {
			ln.Close()
		}
	}
	other := exec.Command("sleep", "60") // stands for the other eplink
	if err := other.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	cfg := filepath.Join(t.TempDir(), "config.json")
	t.Setenv("EPLINK_CONFIG", cfg)
	pf := &profileFile{Current: "provider", Profiles: map[string]profile{
		"provider": {AccessKeyID: "LTAIprovider000001", AccessKeySecret: "provider-secret-1", Endpoint: "127.0.0.1:1", PID: other.Process.Pid},
		"consumer": {AccessKeyID: "LTAIconsumer000002", AccessKeySecret: "consumer-secret-2", Endpoint: "127.0.0.1:1", PID: other.Process.Pid},
	}}
	if _, err := saveProfile(pf); err != nil {
		t.Fatal(err)
	}
	lines, _ := startEplink(t, []string{"EPLINK_CONFIG=" + cfg},
		"serve", "--demo", "--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--transition-delay", "50ms")
	b := waitBanner(t, lines)
	if !strings.HasPrefix(b["profiles"], "provider-2, consumer-2 in "+cfg) || !strings.Contains(b["api-cmd"], "--profile provider-2 ") {
		t.Errorf("banner: profiles %q, first command %q", b["profiles"], b["api-cmd"])
	}
	c, err := newAPIClient("", "", "provider-2", "", "", func(string) string { return "" })
	if err != nil || c.baseURL != "http://"+b["api"] {
		t.Errorf("--profile provider-2: %v %v, want the demo at %s", c, err, b["api"])
	}
	if c, err := newAPIClient("", "", "provider", "", "", func(string) string { return "" }); err != nil || c.baseURL != "http://127.0.0.1:1" {
		t.Errorf("--profile provider must stay with the other server: %v %v", c, err)
	}
}

func TestServeRefusesNonLoopbackLab(t *testing.T) {
	data, err := os.ReadFile("../../examples/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lab.yaml")
	os.WriteFile(path, []byte(strings.ReplaceAll(string(data), "127.11.", "10.11.")), 0o644)
	var stderr strings.Builder
	code := run([]string{"serve", "--lab", path, "--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--no-profile"}, io.Discard, &stderr)
	// file:line: path, as the lab's own errors.
	want := path + ":34: vpcs[0].vswitches[0].cidr: 10.11.0.0/24 (vswitch vsw-consumer1-h of vpc-consumer1) is outside 127.0.0.0/8"
	if code != 1 || !strings.Contains(stderr.String(), want) {
		t.Fatalf("exit %d, stderr %q\nwant %q", code, stderr.String(), want)
	}
}

func TestServeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		bad  string
	}{
		{args: []string{}, bad: "exactly one of --demo or --lab"},
		{args: []string{"--demo", "--lab", "x.yaml"}, bad: "exactly one of --demo or --lab"},
		{args: []string{"--demo", "--transition-delay", "-1s"}, bad: "must not be negative"},
		{args: []string{"--demo", "extra"}, bad: "unexpected argument"},
		{args: []string{"--demo", "--nope"}, bad: "flag provided but not defined"},
		{args: []string{"--demo", "--transition-delay", "0"}},
	} {
		_, _, err := parseServeFlags(tc.args, io.Discard)
		if tc.bad == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.args, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.bad) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.bad)
		}
		if _, ok := err.(*usageError); !ok {
			t.Errorf("%v: %T is not a usage error", tc.args, err)
		}
	}
}

// TestServeRefusesBadLab: a lab that does not validate stops eplink before it
// binds anything, with the file, line and field in the message.
func TestServeRefusesBadLab(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab.yaml")
	os.WriteFile(path, []byte("region: cn-hangzhou\nzones: [cn-hangzhou-h]\nbogus: 1\n"), 0o644)
	var stderr strings.Builder
	code := run([]string{"serve", "--lab", path, "--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--no-profile"}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "lab.yaml:3") || !strings.Contains(stderr.String(), "bogus") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestServeUnservedENI: when another process holds an endpoint's ENI
// address, the zone says so in its StatusInfo and DNS does not hand the
// address out; once the address is free, eplink serves it by itself.
func TestServeUnservedENI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	// An address range of this test's own, and a port free on it.
	ip := fmt.Sprintf("127.77.%d.10", os.Getpid()%250)
	squatter, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	port := squatter.Addr().(*net.TCPAddr).Port
	lab := fmt.Sprintf(`region: cn-hangzhou
zones: [cn-hangzhou-h]
accounts:
  - {uid: "1000000000000001", name: provider, access_keys: [{id: LTAIprovider000001, secret: provider-secret-1}]}
  - {uid: "1000000000000002", name: consumer, access_keys: [{id: LTAIconsumer000002, secret: consumer-secret-2}]}
vpcs:
  - id: vpc-consumer1
    owner: "1000000000000002"
    cidr: %[1]s/24
    vswitches: [{id: vsw-consumer1-h, zone: cn-hangzhou-h, cidr: %[1]s/24}]
    security_groups:
      - {id: sg-consumer1, rules: [{protocol: tcp, port_range: 1/65535, source_cidr: 0.0.0.0/0, policy: accept, priority: 1}]}
  - id: vpc-provider2
    owner: "1000000000000001"
    cidr: 127.192.0.0/16
    vswitches: [{id: vsw-provider2-h, zone: cn-hangzhou-h, cidr: 127.192.24.0/24}]
load_balancers:
  - id: lb-clb1
    owner: "1000000000000001"
    vswitch: vsw-provider2-h
    zone: cn-hangzhou-h
    privatelink: true
    listeners: [{port: %[2]d, backends: [{name: ECS01, address: "127.0.0.1:9", weight: 100}]}]
services:
  - {id: epsrv-t1, owner: "1000000000000001", resources: [lb-clb1], auto_accept: true, whitelist: ["1000000000000002"]}
endpoints:
  - id: ep-t1
    owner: "1000000000000002"
    service: epsrv-t1
    vpc: vpc-consumer1
    security_groups: [sg-consumer1]
    zones: [{vswitch: vsw-consumer1-h, ip: %[3]s}]
    accept: true
`, netip.MustParsePrefix(ip+"/24").Masked().Addr(), port, ip)
	dir := t.TempDir()
	labPath := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(labPath, []byte(lab), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.json")
	startEplink(t, []string{"EPLINK_CONFIG=" + cfg}, "serve", "--lab", labPath, "--data-dir", filepath.Join(dir, "data"),
		"--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--transition-delay", "0")

	// The profile file says where the server listens.
	t.Setenv("EPLINK_CONFIG", cfg)
	var pf *profileFile
	waitUntil(t, 30*time.Second, "the profile file", func() bool {
		pf, _ = loadProfile()
		return pf != nil
	})
	c, err := newAPIClient("LTAIconsumer000002", "consumer-secret-2", "", pf.Endpoint, "", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	zone := func() zoneInfo {
		var out struct{ Zones []zoneInfo }
		if err := c.callJSON(context.Background(), "ListVpcEndpointZones", map[string]string{"EndpointId": "ep-t1"}, &out); err != nil || len(out.Zones) != 1 {
			t.Fatalf("ListVpcEndpointZones: %v %+v", err, out)
		}
		return out.Zones[0]
	}
	resolve := func(name string) *mdns.Msg {
		r, err := mdns.Exchange(new(mdns.Msg).SetQuestion(mdns.Fqdn(name), mdns.TypeA), pf.DNS)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	var z zoneInfo
	waitUntil(t, 30*time.Second, "StatusInfo to say the ENI is not served", func() bool {
		z = zone()
		return strings.Contains(z.StatusInfo, "EniNotServed")
	})
	if z.ZoneStatus != "Connected" || !strings.Contains(z.StatusInfo, net.JoinHostPort(ip, fmt.Sprint(port))) {
		t.Errorf("zone %+v", z)
	}
	if r := resolve(z.ZoneDomain); r.Rcode != mdns.RcodeNameError || len(r.Answer) != 0 {
		t.Errorf("the zone domain of an unserved ENI answers %s %v", mdns.RcodeToString[r.Rcode], r.Answer)
	}

	squatter.Close()
	waitUntil(t, 30*time.Second, "the ENI to be served", func() bool { return zone().StatusInfo == "" })
	if r := resolve(z.ZoneDomain); len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != ip {
		t.Errorf("served again: %v", r)
	}
}

// waitUntil polls cond every 50ms until it holds, or fails the test.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestProcs: the loopback front end keeps a spare P beside its loops; the
// netns front end runs on half the cores' Ps, at least one, unless the
// user set GOMAXPROCS.
func TestProcs(t *testing.T) {
	for _, tc := range []struct {
		loops          int
		netns, userSet bool
		want           int
	}{
		{2, false, false, 3},
		{2, false, true, 3},
		{1, false, false, 2},
		{2, true, false, 1},
		{1, true, false, 1},
		{8, true, false, 4},
		{3, true, true, 3},
	} {
		if got := procs(tc.loops, tc.netns, tc.userSet); got != tc.want {
			t.Errorf("procs(%d, netns %v, GOMAXPROCS set %v) = %d, want %d", tc.loops, tc.netns, tc.userSet, got, tc.want)
		}
	}
}
