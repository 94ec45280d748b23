//go:build linux

package netns

// Rootless: without root, eplink runs itself again as root of a user
// namespace of its own (one uid mapped, the user's), with a mount namespace
// of its own, as rootless container tools do. That eplink stays in the
// host's network namespace, so its API and DNS are on the host's loopback
// as ever; inside its user namespace it may make network namespaces and
// TUNs, and run iproute2 as root of them. /run/netns, /etc/netns and
// /run/eplink are private to its mount namespace (tmpfs), so the instances'
// namespaces are not in the host's `ip netns list`: `eplink exec` enters
// them through the user and mount namespaces of that eplink.
//
// Nothing outlives it: the namespaces, mounts and TUNs are held by its
// mount namespace and descriptors, which the kernel takes down when the
// last process in them exits, kill -9 included.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// usernsEnv marks the eplink that Reexec started inside its user namespace.
const usernsEnv = "EPLINK_USERNS"

var inUserns = sync.OnceValue(func() bool {
	marked := os.Getenv(usernsEnv) == "1"
	os.Unsetenv(usernsEnv) // not for the processes it starts
	// The mark alone is not enough: PrivateMounts mounts over /run and
	// /etc, which must never happen in the host's mount namespace. The
	// initial user namespace maps every uid to itself.
	b, err := os.ReadFile("/proc/self/uid_map")
	return marked && err == nil && strings.Join(strings.Fields(string(b)), " ") != "0 0 4294967295"
})

// InUserns reports whether this process is the eplink Reexec started in a
// user namespace of its own.
func InUserns() bool { return inUserns() }

// CheckRootless says why this unprivileged process cannot run the netns
// front end in a user namespace, with what to do, or nil if it can.
func CheckRootless() error {
	return checkRootless("/proc/sys", "/dev/net/tun")
}

func checkRootless(sysctl, tun string) error {
	const asRoot = "; or run eplink as root (sudo), or use network: loopback"
	for _, c := range []struct {
		key  string // under sysctl, with dots for slashes
		off  int    // the value that forbids it
		what string
		fix  string
	}{
		{"user.max_user_namespaces", 0, "user namespaces are off", "15000"},
		{"kernel.unprivileged_userns_clone", 0, "unprivileged user namespaces are off", "1"},
		{"kernel.apparmor_restrict_unprivileged_userns", 1, "AppArmor keeps unprivileged user namespaces without capabilities", "0"},
	} {
		b, err := os.ReadFile(filepath.Join(sysctl, strings.ReplaceAll(c.key, ".", "/")))
		if err != nil {
			continue // not this kernel's knob
		}
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && v == c.off {
			return fmt.Errorf("the netns front end without root needs a user namespace, and %s here (%s = %d): sysctl -w %s=%s%s",
				c.what, c.key, v, c.key, c.fix, asRoot)
		}
	}
	f, err := os.OpenFile(tun, os.O_RDWR, 0)
	switch {
	case errors.Is(err, os.ErrPermission):
		mode := ""
		if fi, err := os.Stat(tun); err == nil {
			mode = fmt.Sprintf(" (mode %04o)", fi.Mode().Perm())
		}
		return fmt.Errorf("the netns front end without root opens %s, which uid %d may not%s: chmod 0666 %s, as most distributions ship it (udev rule KERNEL==\"tun\", MODE=\"0666\")%s",
			tun, os.Geteuid(), mode, tun, asRoot)
	case err != nil:
		return fmt.Errorf("%s: %w (load the tun module: modprobe tun; in a container, pass --device /dev/net/tun)", tun, err)
	}
	f.Close()
	for _, tool := range []struct{ cmd, pkg string }{{"ip", "iproute2"}, {"nsenter", "util-linux"}} {
		if _, err := exec.LookPath(tool.cmd); err != nil {
			return fmt.Errorf("the %s command (%s) is not installed: apt-get install %s", tool.cmd, tool.pkg, tool.pkg)
		}
	}
	return nil
}

// Reexec runs this program again with args as root of a new user namespace
// (the caller's uid and gid mapped to 0) and a new mount namespace, passes
// it the signals this process gets, and returns its exit status. If this
// process dies, even of kill -9, the other gets SIGTERM.
func Reexec(args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Env = append(os.Environ(), usernsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGTERM,
	}
	// Pdeathsig fires when the thread that started the child ends, not the
	// process: keep this goroutine on its thread until the child is done.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("cannot make a user namespace: %w (are user namespaces allowed? see sysctl user.max_user_namespaces)", err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// PrivateMounts gives the eplink in a user namespace its own /run/netns,
// /etc/netns and /run/eplink (tmpfs), where `ip netns` and the ownership
// records work as they do for root, without touching the host's. A
// directory the host does not have cannot be a mount point: its parent is
// then copied up (a tmpfs over it, with every entry bound back in place)
// and the directory made in the copy.
func PrivateMounts() error {
	if !InUserns() {
		return errors.New("not in eplink's user namespace")
	}
	// What is mounted here stays here.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	for _, dir := range []string{netnsDir, etcNetns, filepath.Dir(DefaultRunDir)} {
		if err := privateDir(dir); err != nil {
			return fmt.Errorf("private %s: %w", dir, err)
		}
	}
	return nil
}

// privateDir puts an empty tmpfs at dir, making dir in a copy-up of its
// parent if the host has no such directory.
func privateDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755")
	}
	if err := os.Mkdir(dir, 0o755); err == nil {
		return nil // the parent is already this namespace's (an earlier copy-up)
	}
	if err := copyUp(filepath.Dir(dir)); err != nil {
		return err
	}
	return os.Mkdir(dir, 0o755)
}

// copyUp puts a tmpfs over dir and binds each of dir's entries back in
// place (symbolic links are copied), so dir looks the same but new entries
// may be made in it, seen by this mount namespace only.
func copyUp(dir string) error {
	old, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer old.Close()
	entries, err := old.ReadDir(-1)
	if err != nil {
		return err
	}
	fi, err := old.Stat()
	if err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID, fmt.Sprintf("mode=%04o", fi.Mode().Perm())); err != nil {
		return fmt.Errorf("tmpfs on %s: %w", dir, err)
	}
	// The old directory stays reachable through its descriptor.
	from := fmt.Sprintf("/proc/self/fd/%d", old.Fd())
	for _, e := range entries {
		src, dst := filepath.Join(from, e.Name()), filepath.Join(dir, e.Name())
		switch {
		case e.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(src)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, dst); err != nil {
				return err
			}
			continue
		case e.IsDir():
			err = os.Mkdir(dst, 0o755)
		default:
			var f *os.File
			if f, err = os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err == nil {
				f.Close()
			}
		}
		if err != nil {
			return err
		}
		if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s back: %w", dst, err)
		}
	}
	return nil
}

// EnterCommand is the command that runs cmdline inside the instance
// namespace name of the eplink pid, which runs in a user namespace of its
// own (InUserns): through that eplink's user and mount namespaces, with
// `ip netns exec` as root uses it (the instance's resolv.conf), in the
// caller's working directory. It runs as the user who started that eplink
// (root of its user namespace): root may enter as that user, no one else
// may. Credentials are kept, not set: a user namespace made without root
// may not call setgroups.
func EnterCommand(ctx context.Context, pid int, name string, cmdline []string) *exec.Cmd {
	args := []string{"--target", strconv.Itoa(pid), "--user", "--mount", "--preserve-credentials"}
	if wd, err := os.Getwd(); err == nil {
		args = append(args, "--wd="+wd)
	}
	args = append(args, "--", "ip", "netns", "exec", name)
	cmd := exec.CommandContext(ctx, "nsenter", append(args, cmdline...)...)
	var st unix.Stat_t
	if unix.Stat(fmt.Sprintf("/proc/%d", pid), &st) == nil && int(st.Uid) != os.Geteuid() && os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: st.Uid, Gid: st.Gid}}
	}
	return cmd
}
