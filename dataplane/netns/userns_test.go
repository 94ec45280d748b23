//go:build linux

package netns

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRootless: each system setting that keeps an unprivileged
// eplink from its user namespace is named, with the command that changes
// it; a missing TUN device says to load the module.
func TestCheckRootless(t *testing.T) {
	for _, tool := range []string{"ip", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	ok := map[string]string{
		"user/max_user_namespaces":                     "15000",
		"kernel/unprivileged_userns_clone":             "1",
		"kernel/apparmor_restrict_unprivileged_userns": "0",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range ok {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name   string
		sysctl map[string]string
		noTUN  bool
		want   []string // in the error; none: no error
	}{
		{"allowed", ok, false, nil},
		{"older kernel, no knobs", map[string]string{}, false, nil},
		{"max_user_namespaces", with("user/max_user_namespaces", "0"), false,
			[]string{"user namespaces are off", "user.max_user_namespaces = 0", "sysctl -w user.max_user_namespaces=15000", "run eplink as root"}},
		{"unprivileged_userns_clone", with("kernel/unprivileged_userns_clone", "0\n"), false,
			[]string{"kernel.unprivileged_userns_clone = 0", "sysctl -w kernel.unprivileged_userns_clone=1"}},
		{"apparmor", with("kernel/apparmor_restrict_unprivileged_userns", "1"), false,
			[]string{"AppArmor", "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"}},
		{"no tun", ok, true, []string{"modprobe tun"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for k, v := range tc.sysctl {
				p := filepath.Join(dir, "sys", k)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tun := filepath.Join(dir, "tun")
			if !tc.noTUN {
				os.WriteFile(tun, nil, 0o666) // a file that opens stands in for the device
			}
			err := checkRootless(filepath.Join(dir, "sys"), tun)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("checkRootless = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkRootless = nil, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("checkRootless = %q, lacks %q", err, w)
				}
			}
		})
	}
}

// TestPrivateMounts runs in a mount namespace of its own (a child process
// under unshare): a directory the host has gets an empty tmpfs, and a
// copy-up keeps every entry of its directory (files, directories, links)
// while new entries stay in the copy. The host's tree is checked after.
func TestPrivateMounts(t *testing.T) {
	if dir := os.Getenv("EPLINK_TEST_MOUNTS"); dir != "" {
		privateMountsChild(t, dir)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare (util-linux)")
	}
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	for _, d := range []string{"sub", "netns"} {
		if err := os.MkdirAll(filepath.Join(etc, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(etc, "hosts"), []byte("127.0.0.1 localhost\n"), 0o644)
	os.WriteFile(filepath.Join(etc, "netns", "host-only"), nil, 0o644)
	os.Symlink("hosts", filepath.Join(etc, "link"))
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", os.Args[0], "-test.run=^TestPrivateMounts$", "-test.v")
	cmd.Env = append(os.Environ(), "EPLINK_TEST_MOUNTS="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestPrivateMounts") {
		t.Fatalf("in a mount namespace: %v\n%s", err, out)
	}
	// The host's tree: what was made in the copy is not here; what was
	// written through a bound directory is; what the tmpfs hid is intact.
	if _, err := os.Stat(filepath.Join(etc, "made-in-copy")); err == nil {
		t.Error("an entry made in the copy-up is in the host's directory")
	}
	if _, err := os.Stat(filepath.Join(etc, "sub", "through-bind")); err != nil {
		t.Errorf("a write into a bound directory did not reach the host's: %v", err)
	}
	if _, err := os.Stat(filepath.Join(etc, "netns", "host-only")); err != nil {
		t.Errorf("the host's netns directory lost its entry: %v", err)
	}
	if _, err := os.Stat(filepath.Join(etc, "netns", "private")); err == nil {
		t.Error("an entry made in the private tmpfs is in the host's directory")
	}
}

func privateMountsChild(t *testing.T, dir string) {
	etc := filepath.Join(dir, "etc")
	if err := privateDir(filepath.Join(etc, "netns")); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(filepath.Join(etc, "netns")); len(es) != 0 {
		t.Errorf("privateDir left the host's entries visible: %v", es)
	}
	os.WriteFile(filepath.Join(etc, "netns", "private"), nil, 0o644)
	if err := copyUp(etc); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(etc, "hosts")); err != nil || string(b) != "127.0.0.1 localhost\n" {
		t.Errorf("hosts after copy-up = %q, %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(etc, "link")); err != nil || l != "hosts" {
		t.Errorf("link after copy-up = %q, %v", l, err)
	}
	if _, err := os.Stat(filepath.Join(etc, "netns", "private")); err != nil {
		t.Errorf("copy-up lost the mount under it: %v", err)
	}
	if err := os.WriteFile(filepath.Join(etc, "sub", "through-bind"), nil, 0o644); err != nil {
		t.Error(err)
	}
	if err := os.Mkdir(filepath.Join(etc, "made-in-copy"), 0o755); err != nil {
		t.Error(err)
	}
}

// TestInUsernsNeedsAUserNamespace: the mark Reexec sets is not enough in
// the host's user namespace (PrivateMounts would mount over the host's
// /run and /etc there), and the processes it starts do not inherit it.
func TestInUsernsNeedsAUserNamespace(t *testing.T) {
	if os.Getenv(usernsEnv) != "" {
		if InUserns() {
			t.Error("InUserns in the host's user namespace, from the mark alone")
		}
		if err := PrivateMounts(); err == nil {
			t.Error("PrivateMounts ran outside eplink's user namespace")
		}
		if v, ok := os.LookupEnv(usernsEnv); ok {
			t.Errorf("%s=%s is passed on to what eplink starts", usernsEnv, v)
		}
		return
	}
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil || strings.Join(strings.Fields(string(b)), " ") != "0 0 4294967295" {
		t.Skip("not in the initial user namespace")
	}
	if os.Geteuid() != 0 {
		t.Skip("runs the check in a mount namespace of its own, which needs root")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare (util-linux)")
	}
	// In a mount namespace of its own (still the initial user namespace):
	// should the check ever fail, its mounts must not land on this host.
	cmd := exec.Command("unshare", "--mount", "--propagation", "private",
		os.Args[0], "-test.run=^TestInUsernsNeedsAUserNamespace$", "-test.v")
	cmd.Env = append(os.Environ(), usernsEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("with the mark in the host's namespace: %v\n%s", err, out)
	}
}
