package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"eplink/controlplane/lab"
)

// instanceInfos lists the instances of a netns lab for the profile.
func instanceInfos(l *lab.Lab, prefix string) []instanceInfo {
	if !l.Netns() {
		return nil
	}
	out := make([]instanceInfo, 0, len(l.Instances))
	for _, in := range l.Instances {
		vpc, _ := l.VPCOf(in.VSwitch)
		out = append(out, instanceInfo{ID: in.ID, Name: in.Name, VpcID: vpc.ID, VSwitchID: in.VSwitch,
			IP: in.IP, Namespace: prefix + in.ID, UsernsPID: usernsPID()})
	}
	return out
}

// execCmd runs a command inside an instance's network namespace, with
// /etc/resolv.conf naming the VPC resolver (ip netns exec does that from
// /etc/netns/<name>/), and exits with its status. A rootless eplink's
// instances are entered through its user and mount namespaces, as the
// user who started it.
func execCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("netns", "", "namespace `NAME` (default: the instance's, from the running eplink's profile)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: eplink exec [--netns NAME] INSTANCE -- CMD [ARG...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &usageError{err.Error()}
	}
	rest := fs.Args()
	if len(rest) < 2 {
		return &usageError{"want INSTANCE -- CMD [ARG...]"}
	}
	id, cmdline := rest[0], rest[1:]
	if cmdline[0] == "--" {
		cmdline = cmdline[1:]
	}
	if len(cmdline) == 0 {
		return &usageError{"no command to run"}
	}
	// The profile says where the namespace is: the host's /run/netns, or
	// (rootless) the mount namespace of the eplink that made it.
	name, usernsPID := *ns, 0
	pf, err := loadProfile()
	if err != nil && name == "" {
		return fmt.Errorf("%w (is eplink serve with network: netns running?)", err)
	}
	if pf == nil && name == "" {
		return errors.New("no profile: start eplink serve with network: netns first, or give --netns NAME")
	}
	var known []string
	if pf != nil {
		for _, in := range liveInstances(pf) {
			known = append(known, in.ID)
			if (name == "" && in.ID == id) || (name != "" && in.Namespace == name) {
				name, usernsPID = in.Namespace, in.UsernsPID
			}
		}
	}
	if name == "" {
		if len(known) == 0 {
			return fmt.Errorf("the running eplink has no instances (they need network: netns)")
		}
		return fmt.Errorf("no instance %q; the lab has %v", id, known)
	}
	var c *exec.Cmd
	if usernsPID != 0 {
		if c, err = enterCommand(ctx, usernsPID, name, cmdline); err != nil {
			return err
		}
	} else {
		if os.Geteuid() != 0 {
			return errors.New("the instance's namespace is the host's: entering it needs root (sudo eplink exec …)")
		}
		if _, err := os.Stat("/run/netns/" + name); err != nil {
			return fmt.Errorf("instance %s: namespace %s is not there (is eplink serve running?)", id, name)
		}
		c = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", name}, cmdline...)...)
	}
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, stdout, stderr
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
	err = c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &exitStatus{code: ee.ExitCode()}
	}
	return err
}

// exitStatus is a command's exit status that eplink passes on.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// liveInstances are the instances of the running servers' profiles, each
// namespace once.
func liveInstances(pf *profileFile) []instanceInfo {
	var out []instanceInfo
	seen := map[string]bool{}
	for _, name := range profileNames(pf) {
		p := pf.Profiles[name]
		if p.gone() {
			continue
		}
		for _, in := range p.Instances {
			if !seen[in.Namespace] {
				seen[in.Namespace] = true
				out = append(out, in)
			}
		}
	}
	return out
}
