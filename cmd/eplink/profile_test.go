package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"eplink/controlplane/lab"
)

// deadPID is the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestProfilesOfTwoServers: a second eplink adds its profiles beside the
// first's instead of taking them over, says so, and removes them when it
// stops; a profile whose server has exited is reported as such by
// `eplink api` rather than sending the call to a dead (or reused) port.
func TestProfilesOfTwoServers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	t.Setenv("EPLINK_CONFIG", path)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
	l := lab.Demo(18081, 18082)
	first, second := os.Getpid(), os.Getppid() // two live processes
	env := func(string) string { return "" }

	w1, err := writeProfile(l, startInfo{API: "127.0.0.1:8080", DNS: "127.0.0.1:5353"}, first)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(w1.Names, ",") != "provider,consumer" || !w1.Current || w1.Others != "" || w1.Path != path {
		t.Fatalf("first server: %+v", w1)
	}
	w2, err := writeProfile(l, startInfo{API: "127.0.0.1:8081", DNS: "127.0.0.1:5354"}, second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(w2.Names, ",") != "provider-2,consumer-2" || w2.Current || w2.Others != "127.0.0.1:8080" || w2.Suffix != "-2" {
		t.Fatalf("second server: %+v", w2)
	}
	if d := w2.describe(); !strings.Contains(d, "provider-2, consumer-2 written to "+path) ||
		!strings.Contains(d, "eplink at 127.0.0.1:8080") || !strings.Contains(d, "pass --profile") {
		t.Errorf("describe: %s", d)
	}
	for _, tc := range []struct{ profile, url string }{
		{"consumer", "http://127.0.0.1:8080"}, {"consumer-2", "http://127.0.0.1:8081"}, {"", "http://127.0.0.1:8080"},
	} {
		c, err := newAPIClient("", "", tc.profile, "", "", env)
		if err != nil || c.baseURL != tc.url {
			t.Errorf("--profile %q: %v, %v; want %s", tc.profile, c, err, tc.url)
		}
	}

	// The second server stops: its profiles go, the first's stay.
	if err := removeProfiles(second); err != nil {
		t.Fatal(err)
	}
	pf, _ := loadProfile()
	if strings.Join(profileNames(pf), ",") != "consumer,provider" || pf.Current != "provider" || pf.Endpoint != "127.0.0.1:8080" {
		t.Fatalf("after the second stopped: %+v", pf)
	}

	// The first is killed (no cleanup): eplink api says so.
	gone := deadPID(t)
	pf.Profiles["consumer"] = profile{AccessKeyID: "k", AccessKeySecret: "s", Endpoint: "127.0.0.1:8080", PID: gone}
	pf.Profiles["provider"] = profile{AccessKeyID: "k", AccessKeySecret: "s", Endpoint: "127.0.0.1:8080", PID: gone}
	if _, err := saveProfile(pf); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"consumer", ""} {
		_, err := newAPIClient("", "", name, "", "", env)
		if err == nil || !strings.Contains(err.Error(), "has stopped") || !strings.Contains(err.Error(), "127.0.0.1:8080") {
			t.Errorf("--profile %q of a stopped server: %v", name, err)
		}
	}
	if _, err := newAPIClient("", "", "consumer", "127.0.0.1:9", "", env); err != nil {
		t.Errorf("--endpoint given: %v", err)
	}
	// A new server replaces the dead server's profiles under their names.
	w3, err := writeProfile(l, startInfo{API: "127.0.0.1:8082"}, second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(w3.Names, ",") != "provider,consumer" || !w3.Current || w3.Others != "" {
		t.Fatalf("after the first died: %+v", w3)
	}

	// The last server stops: eplink api says that none is running.
	if err := removeProfiles(second); err != nil {
		t.Fatal(err)
	}
	if _, err := newAPIClient("", "", "", "", "", env); err == nil || !strings.Contains(err.Error(), "no 'eplink serve' is running") {
		t.Errorf("no profiles left: %v", err)
	}
}

// TestProfilesFromOlderEplink: a file written by an older eplink (no server
// per profile) is replaced, not kept as someone else's.
func TestProfilesFromOlderEplink(t *testing.T) {
	t.Setenv("EPLINK_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	old := &profileFile{Endpoint: "127.0.0.1:8080", Current: "consumer", Profiles: map[string]profile{
		"consumer": {AccessKeyID: "a", AccessKeySecret: "b"},
		"mine":     {AccessKeyID: "c", AccessKeySecret: "d", Endpoint: "127.0.0.1:9999"}, // written by hand
	}}
	if _, err := saveProfile(old); err != nil {
		t.Fatal(err)
	}
	w, err := writeProfile(lab.Demo(1, 2), startInfo{API: "127.0.0.1:8090"}, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	pf, _ := loadProfile()
	if strings.Join(w.Names, ",") != "provider,consumer" || pf.Profiles["mine"].Endpoint != "127.0.0.1:9999" ||
		pf.Profiles["consumer"].Endpoint != "127.0.0.1:8090" || pf.Endpoint != "127.0.0.1:8090" {
		t.Fatalf("wrote %+v, file %+v", w, pf)
	}
}

// TestProfilesWrittenAtOnce: servers starting at the same moment each keep
// their profiles (the file is read, changed and rewritten under a lock).
func TestProfilesWrittenAtOnce(t *testing.T) {
	t.Setenv("EPLINK_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	l := lab.Demo(1, 2)
	// Live process ids that are not ours: a few sleeping children.
	var pids []int
	for range 4 {
		cmd := exec.Command("sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Skip("no sleep command:", err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		pids = append(pids, cmd.Process.Pid)
	}
	var wg sync.WaitGroup
	for i, pid := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := writeProfile(l, startInfo{API: fmt.Sprintf("127.0.0.1:%d", 9000+i)}, pid); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	pf, err := loadProfile()
	if err != nil {
		t.Fatal(err)
	}
	if len(pf.Profiles) != 2*len(pids) {
		t.Fatalf("%d profiles after %d servers wrote theirs at once: %v", len(pf.Profiles), len(pids), profileNames(pf))
	}
}
