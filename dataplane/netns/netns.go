//go:build linux

// Package netns makes the netns front end's hosts: each ECS instance is a
// named network namespace, <prefix><instance id> under /run/netns, whose
// eth0 is a TUN device eplink holds the other end of (a NIC of the VPC's
// stack, see dataplane/netstack). Inside: lo up, eth0 with the instance's
// address in its vSwitch, a default route via the vSwitch gateway, and
// /etc/netns/<name>/resolv.conf naming the VPC resolver, so that
//
//	ip netns exec eplink-ecs03 curl http://<zone domain>/
//
// resolves and connects through the VPC. The TUN goes with eplink's
// descriptor (even on kill -9); the namespace and its files are removed on
// Close, and a record under RunDir names the owner, so that the next start
// removes what a killed eplink left.
//
// Namespaces are made and configured with iproute2 (`ip netns add`, `ip -n
// NAME …`), the tool `ip netns exec` users have anyway; only the TUN is
// opened here, on a thread switched into the namespace for the call.
package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Defaults.
const (
	DefaultPrefix = "eplink-"
	DefaultRunDir = "/run/eplink/netns"
	DefaultMTU    = 1500
	netnsDir      = "/run/netns"
	etcNetns      = "/etc/netns"
)

// Spec is one instance's host.
type Spec struct {
	// Name is the namespace's name (<prefix><instance id>).
	Name string
	// Addr is eth0's address with the vSwitch's prefix length.
	Addr netip.Prefix
	// Gateway is the default route's next hop (the vSwitch gateway).
	Gateway netip.Addr
	// Resolver goes into resolv.conf.
	Resolver netip.Addr
	// MTU of eth0; 0 means DefaultMTU.
	MTU int
	// RunDir holds the ownership records; "" means DefaultRunDir.
	RunDir string
	// Offload opens eth0 with IFF_VNET_HDR and turns on its TSO and
	// checksum offloads: the instance's kernel then hands eplink 64 KiB
	// TCP segments (see netstack's TUN link).
	Offload bool
}

// Namespace is a made instance host.
type Namespace struct {
	Name string
	// TUN is eplink's end of eth0 (IFF_TUN|IFF_NO_PI, and IFF_VNET_HDR
	// with Offload); whoever takes it (the VPC's stack) closes it.
	TUN    int
	runDir string
}

// Check says why this process cannot make namespaces, with what to do, or
// nil if it can.
func Check() error {
	if os.Geteuid() != 0 {
		return errors.New("the netns front end needs root, or a user namespace of its own (eplink serve makes one when run without root): run eplink as root (sudo), or use network: loopback")
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("/dev/net/tun: %w (load the tun module: modprobe tun; in a container, pass --device /dev/net/tun)", err)
	}
	f.Close()
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the ip command (iproute2) is not installed: apt-get install iproute2")
	}
	return nil
}

// Create makes the namespace and its eth0. On failure nothing is left.
func Create(ctx context.Context, sp Spec) (_ *Namespace, err error) {
	if sp.MTU == 0 {
		sp.MTU = DefaultMTU
	}
	if sp.RunDir == "" {
		sp.RunDir = DefaultRunDir
	}
	if err := validName(sp.Name); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(sp.RunDir, 0o755); err != nil {
		return nil, err
	}
	n := &Namespace{Name: sp.Name, TUN: -1, runDir: sp.RunDir}
	// The record comes first: a kill between here and the end still leaves
	// something the next start finds.
	if err := writeRecord(n.record(), ownerRecord(os.Getpid())); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			if n.TUN >= 0 {
				unix.Close(n.TUN)
			}
			n.Close()
		}
	}()
	if err := addNetns(ctx, sp.Name); err != nil {
		return nil, err
	}
	if n.TUN, err = openTUN(filepath.Join(netnsDir, sp.Name), "eth0", sp.Offload); err != nil {
		return nil, fmt.Errorf("netns %s: tun: %w", sp.Name, err)
	}
	dev := filepath.Join(etcNetns, sp.Name)
	if err := os.MkdirAll(dev, 0o755); err != nil {
		return nil, err
	}
	resolv := fmt.Sprintf("# written by eplink: the VPC resolver\nnameserver %s\noptions timeout:2 attempts:2\n", sp.Resolver)
	if err := os.WriteFile(filepath.Join(dev, "resolv.conf"), []byte(resolv), 0o644); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", sp.Addr.String(), "dev", "eth0"},
		// A longer queue than the TUN's 500 packets: bursts wait for
		// eplink's reader instead of being dropped and resent.
		{"link", "set", "eth0", "mtu", strconv.Itoa(sp.MTU), "txqueuelen", "10000", "up"},
		{"route", "add", "default", "via", sp.Gateway.String(), "dev", "eth0"},
	} {
		if err := ipCmd(ctx, append([]string{"-n", sp.Name}, args...)...); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func validName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, "/ \t\n") || name == "." || name == ".." {
		return fmt.Errorf("netns: %q is not a namespace name", name)
	}
	return nil
}

func (n *Namespace) record() string { return filepath.Join(n.runDir, n.Name) }

// Close removes the namespace, its /etc/netns directory and its record.
// The TUN closes with its holder. Processes still inside keep their
// network until they exit; the name is gone at once.
func (n *Namespace) Close() error {
	return remove(n.Name, n.runDir)
}

func remove(name, runDir string) error {
	var errs []error
	if _, err := os.Stat(filepath.Join(netnsDir, name)); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, ipCmd(ctx, "netns", "delete", name))
		cancel()
	}
	if err := os.RemoveAll(filepath.Join(etcNetns, name)); err != nil {
		errs = append(errs, err)
	}
	if err := os.Remove(filepath.Join(runDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Exists reports whether a namespace of that name is there.
func Exists(name string) bool {
	_, err := os.Stat(filepath.Join(netnsDir, name))
	return err == nil
}

// CleanStale removes what an eplink that is gone left (it was killed before
// it could clean up): every recorded namespace whose owner is not running.
// A namespace that a running eplink owns is an error: two eplinks cannot
// share instance names (use another --netns-prefix).
func CleanStale(runDir string, names []string) error {
	if runDir == "" {
		runDir = DefaultRunDir
	}
	entries, err := os.ReadDir(runDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue // a record being written (writeRecord)
		}
		if pid, live := owner(runDir, name); live && pid != os.Getpid() {
			continue
		}
		errs = append(errs, remove(name, runDir))
	}
	for _, name := range names {
		if !Exists(name) {
			continue
		}
		if pid, live := owner(runDir, name); live && pid != os.Getpid() {
			errs = append(errs, fmt.Errorf("namespace %s belongs to a running eplink (pid %d); stop it or choose another --netns-prefix", name, pid))
			continue
		}
		errs = append(errs, fmt.Errorf("namespace %s exists and was not made by eplink; remove it (ip netns delete %s) or choose another --netns-prefix", name, name))
	}
	return errors.Join(errs...)
}

// writeRecord writes an owner record whole or not at all: another eplink
// starting at the same moment reads records to clean up the dead ones, and
// a half-written (empty) record would read as dead.
func writeRecord(path, rec string) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(tmp, []byte(rec), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// A record names its owner by pid and start time (field 22 of
// /proc/PID/stat), so that a pid the kernel gave to another process since
// does not pass for a running eplink.
func ownerRecord(pid int) string {
	return fmt.Sprintf("%d %s\n", pid, startTime(pid))
}

// owner returns the pid a record names and whether that process still runs.
func owner(runDir, name string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(runDir, name))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	pid, _ := strconv.Atoi(f[0])
	if pid <= 0 {
		return 0, false
	}
	st := startTime(pid)
	return pid, st != "" && (len(f) < 2 || f[1] == st)
}

// startTime is the process's start time in clock ticks since boot, "" if
// there is no such process.
func startTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 { // field 3 is f[0]; field 22 is f[19]
		return ""
	}
	return f[19]
}

// ipCmd runs `ip ARGS…`, bounded in time.
func ipCmd(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Listen opens a TCP listener inside the namespace (a builtin server of the
// instance). The socket stays in the namespace it was made in.
func (n *Namespace) Listen(addr string) (net.Listener, error) {
	var ln net.Listener
	err := in(filepath.Join(netnsDir, n.Name), func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	return ln, err
}

// in runs fn on a thread switched into the namespace at path, then
// switches back. A thread that cannot switch back is left locked, so that
// the runtime ends it rather than reuse it in the wrong namespace: in a
// user namespace of eplink's own (rootless), the host's network namespace
// is not eplink's to enter again, so there every call ends its thread.
// (A child started with Pdeathsig from such a thread would get its signal:
// start those from a thread locked for the child's lifetime.)
func in(path string, fn func() error) error {
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(target)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else the thread stays locked and ends with this goroutine
		errc <- ferr
	}()
	return <-errc
}

// addNetns is `ip netns add name`, run from a network namespace made for
// the call: ip goes back to the namespace it started in when it is done,
// which from a user namespace cannot be the host's.
func addNetns(ctx context.Context, name string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // for good: the thread ends in the new namespace
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		// ip is forked from this thread and starts in its namespace.
		errc <- ipCmd(ctx, "netns", "add", name)
	}()
	return <-errc
}

// openTUN creates the TUN device name inside the namespace at path and
// returns eplink's descriptor for it. It is not persistent: it goes when
// the descriptor is closed, by eplink or by the kernel when eplink dies.
// With offload, packets carry a virtio_net_hdr and the device may pass
// TSO segments and partial checksums both ways.
func openTUN(path, name string, offload bool) (int, error) {
	fd := -1
	err := in(path, func() error {
		var err error
		fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("/dev/net/tun: %w", err)
		}
		var ifr [unix.IFNAMSIZ + 64]byte
		copy(ifr[:unix.IFNAMSIZ-1], name)
		flags := uint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if offload {
			flags |= unix.IFF_VNET_HDR
		}
		*(*uint16)(unsafe.Pointer(&ifr[unix.IFNAMSIZ])) = flags
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&ifr[0]))); errno != 0 {
			unix.Close(fd)
			fd = -1
			return fmt.Errorf("TUNSETIFF: %w", errno)
		}
		if offload {
			const offloads = unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6
			if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETOFFLOAD, offloads); errno != 0 {
				unix.Close(fd)
				fd = -1
				return fmt.Errorf("TUNSETOFFLOAD: %w", errno)
			}
		}
		return nil
	})
	return fd, err
}

// Dial connects to addr from inside the namespace called name, as a
// process of the instance would (tests and benchmarks use it).
func Dial(ctx context.Context, name, addr string) (net.Conn, error) {
	var c net.Conn
	err := in(filepath.Join(netnsDir, name), func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		return err
	})
	return c, err
}

// Do runs fn with the calling goroutine's thread inside the namespace
// called name; sockets fn opens stay there (tests use it for raw ICMP).
func Do(name string, fn func() error) error {
	return in(filepath.Join(netnsDir, name), fn)
}
