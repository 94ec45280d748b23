package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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
			case len(f) >= 3 && f[0] == "zone" && f[1] == "domain":
				got["zone"] = f[2]
			case len(f) >= 3 && f[0] == "ENI":
				got["eni"] = f[2]
			case len(f) >= 5 && f[0] == "ip" && f[1] == "netns" && f[4] == "curl" && got["netns curl"] == "":
				got["netns curl"] = strings.TrimSpace(l)
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
	// The CLI profile was written where EPLINK_CONFIG points.
	if _, err := os.Stat(cfg); err != nil {
		t.Fatalf("profile: %v", err)
	}
}

func TestServeRefusesNonLoopbackLab(t *testing.T) {
	data, err := os.ReadFile("../../examples/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lab.yaml")
	os.WriteFile(path, []byte(strings.ReplaceAll(string(data), "127.10.", "10.10.")), 0o644)
	var stderr strings.Builder
	code := run([]string{"serve", "--lab", path, "--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--no-profile"}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "outside 127.0.0.0/8") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
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
