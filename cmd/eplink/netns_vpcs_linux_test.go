//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"eplink/dataplane/netns"
)

// vpcsLab has three consumer VPCs of the same CIDR, each with an instance
// at the same address: c1 and c2 with an endpoint of the demo service, c3
// without. c1's security group drops one instance (ecs04). The echo service
// has two host backends to migrate between (A, then B).
const vpcsLab = `network: netns
region: cn-hangzhou
zones: [cn-hangzhou-h]
accounts:
  - {uid: "1000000000000001", name: provider, access_keys: [{id: LTAIprovider000001, secret: provider-secret-1}]}
  - {uid: "1000000000000002", name: consumer, access_keys: [{id: LTAIconsumer000002, secret: consumer-secret-2}]}
vpcs:
  - id: vpc-c1
    owner: "1000000000000002"
    cidr: 10.10.0.0/16
    vswitches: [{id: vsw-c1, zone: cn-hangzhou-h, cidr: 10.10.0.0/24}]
    security_groups:
      - id: sg-c1
        rules:
          - {protocol: tcp, port_range: 1/65535, source_cidr: 10.10.0.191/32, policy: drop, priority: 1}
          - {protocol: tcp, port_range: 1/65535, source_cidr: 0.0.0.0/0, policy: accept, priority: 2}
          - {protocol: icmp, source_cidr: 10.10.0.190/32, policy: accept}
  - id: vpc-c2
    owner: "1000000000000002"
    cidr: 10.10.0.0/16
    vswitches: [{id: vsw-c2, zone: cn-hangzhou-h, cidr: 10.10.0.0/24}]
    security_groups:
      - id: sg-c2
        rules: [{protocol: tcp, port_range: 1/65535, source_cidr: 0.0.0.0/0}]
  - id: vpc-c3
    owner: "1000000000000002"
    cidr: 10.10.0.0/16
    vswitches: [{id: vsw-c3, zone: cn-hangzhou-h, cidr: 10.10.0.0/24}]
  - id: vpc-p
    owner: "1000000000000001"
    cidr: 192.168.0.0/16
    vswitches: [{id: vsw-p, zone: cn-hangzhou-h, cidr: 192.168.24.0/24}]
instances:
  - {id: ecs01, name: ECS01, vswitch: vsw-p, ip: 192.168.24.246, builtin: http}
  - {id: ecs03, vswitch: vsw-c1, ip: 10.10.0.190}
  - {id: ecs04, vswitch: vsw-c1, ip: 10.10.0.191}
  - {id: ecs13, vswitch: vsw-c2, ip: 10.10.0.190}
  - {id: ecs23, vswitch: vsw-c3, ip: 10.10.0.190}
load_balancers:
  - {id: lb-clb1, owner: "1000000000000001", vswitch: vsw-p, privatelink: true,
     listeners: [{port: 80, backends: [{instance: ecs01, port: 80}]}]}
  - {id: lb-ea, owner: "1000000000000001", vswitch: vsw-p, privatelink: true,
     listeners: [{port: 9000, backends: [{name: A, address: "ECHO_A"}]}]}
  - {id: lb-eb, owner: "1000000000000001", vswitch: vsw-p, privatelink: true,
     listeners: [{port: 9000, backends: [{name: B, address: "ECHO_B"}]}]}
services:
  - {id: epsrv-demo1, owner: "1000000000000001", resources: [lb-clb1], auto_accept: true, whitelist: ["1000000000000002"]}
  - {id: epsrv-echo, owner: "1000000000000001", resources: [lb-ea], auto_accept: true, whitelist: ["1000000000000002"]}
endpoints:
  - {id: ep-c1, owner: "1000000000000002", service: epsrv-demo1, vpc: vpc-c1, security_groups: [sg-c1], zones: [{vswitch: vsw-c1}], accept: true}
  - {id: ep-c2, owner: "1000000000000002", service: epsrv-demo1, vpc: vpc-c2, security_groups: [sg-c2], zones: [{vswitch: vsw-c2}], accept: true}
  - {id: ep-echo, owner: "1000000000000002", service: epsrv-echo, vpc: vpc-c1, security_groups: [sg-c1], zones: [{vswitch: vsw-c1}], accept: true}
`

const (
	zoneC1   = "ep-c1-cn-hangzhou-h.epsrv-demo1.cn-hangzhou.privatelink.aliyuncs.com"
	zoneC2   = "ep-c2-cn-hangzhou-h.epsrv-demo1.cn-hangzhou.privatelink.aliyuncs.com"
	zoneEcho = "ep-echo-cn-hangzhou-h.epsrv-echo.cn-hangzhou.privatelink.aliyuncs.com"
)

// namedEcho is a host backend that says its name, then echoes.
func namedEcho(t *testing.T, name string) string {
	return hostBackend(t, func(c *net.TCPConn) {
		defer c.Close()
		io.WriteString(c, name+"\n")
		io.Copy(c, c)
	})
}

// hostBackend listens on the host's loopback until the test ends and
// serves each connection on a goroutine of its own; it returns the address.
func hostBackend(t *testing.T, serve func(*net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c.(*net.TCPConn))
		}
	}()
	return ln.Addr().String()
}

// startLab runs eplink serve on the lab text and waits until ecs03 reaches
// ECS01 at url.
func startLab(t *testing.T, prefix, text, url string) *netnsServer {
	t.Helper()
	file := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "config.json")
	cmd := exec.Command(os.Args[0], "serve", "--lab", file, "--data-dir", t.TempDir(), "--netns-prefix", prefix,
		"--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--transition-delay", "50ms")
	cmd.Env = append(os.Environ(), "EPLINK_TEST_AS_MAIN=1", "EPLINK_CONFIG="+config)
	cmd.Stdout = io.Discard
	cmd.Stderr = &testLogWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &netnsServer{t: t, prefix: prefix, cmd: cmd, done: make(chan error, 1), config: config}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		s.stop(syscall.SIGTERM)
		removeLeftovers(prefix)
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := s.in("ecs03", "curl", "-sS", "-m", "2", url)
		if err == nil && out == "Hello World ! This is ECS01." {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("ecs03 cannot reach ECS01 within 30s: %q, %v", out, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// curlStatus runs curl in an instance and returns curl's exit status.
func (s *netnsServer) curlStatus(instance, url string) (string, int) {
	out, err := s.in(instance, "curl", "-sS", "-m", "3", url)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out, ee.ExitCode()
	}
	if err != nil {
		return err.Error(), -1
	}
	return out, 0
}

// TestNetnsVPCs: overlapping VPCs at the same time, a VPC without an
// endpoint, and a security group that drops exactly one instance.
func TestNetnsVPCs(t *testing.T) {
	needRoot(t)
	lab := strings.NewReplacer("ECHO_A", namedEcho(t, "A"), "ECHO_B", namedEcho(t, "B")).Replace(vpcsLab)
	s := startLab(t, testPrefix("v"), lab, "http://"+zoneC1+"/")

	eni, err := s.in("ecs03", "dig", "+short", "+time=2", zoneC1)
	if err != nil || eni == "" {
		t.Fatalf("dig in ecs03: %q, %v", eni, err)
	}
	// vpc-c2 has the same CIDR and ecs13 the same address as ecs03; its
	// endpoint's ENI may well have the same address too. Both work at once.
	eni2, err := s.in("ecs13", "dig", "+short", "+time=2", zoneC2)
	if err != nil || eni2 == "" {
		t.Fatalf("dig in ecs13: %q, %v", eni2, err)
	}
	t.Logf("ENIs: vpc-c1 %s, vpc-c2 %s", eni, eni2)
	errc := make(chan error, 2)
	for _, c := range [][2]string{{"ecs03", zoneC1}, {"ecs13", zoneC2}} {
		go func() {
			for i := 0; i < 20; i++ {
				if out, code := s.curlStatus(c[0], "http://"+c[1]+"/"); code != 0 || out != "Hello World ! This is ECS01." {
					errc <- fmt.Errorf("%s request %d: %q, curl status %d", c[0], i, out, code)
					return
				}
			}
			errc <- nil
		}()
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}

	// vpc-c3 has no endpoint: nothing there answers at the ENI address.
	if out, code := s.curlStatus("ecs23", "http://"+eni+"/"); code == 0 {
		t.Errorf("ecs23 (a VPC without an endpoint) reached %s: %q", eni, out)
	}

	// sg-c1 drops 10.10.0.191 (ecs04) only: its SYN gets no answer (curl
	// times out, status 28), while ecs03 next to it goes through.
	if out, code := s.curlStatus("ecs04", "http://"+eni+"/"); code != 28 {
		t.Errorf("ecs04 through the dropping security group: %q, curl status %d, want 28 (timeout)", out, code)
	}
	if out, code := s.curlStatus("ecs03", "http://"+eni+"/"); code != 0 {
		t.Errorf("ecs03 next to the dropped instance: %q, curl status %d", out, code)
	}
	// ICMP echo to the ENI: sg-c1 accepts it from ecs03 only.
	if err := s.ping("ecs03", eni); err != nil {
		t.Errorf("ping %s from ecs03: %v", eni, err)
	}
	if err := s.ping("ecs04", eni); err == nil {
		t.Errorf("ping %s from ecs04 answered; its security group has no ICMP rule for it", eni)
	}
	if err := s.ping("ecs04", "10.10.0.253"); err != nil {
		t.Errorf("ping of the gateway from ecs04: %v", err)
	}
}

// ping sends one ICMP echo request from inside instance to dst and waits
// a second for the reply.
func (s *netnsServer) ping(instance, dst string) error {
	var conn *icmp.PacketConn
	err := netns.Do(s.prefix+instance, func() error {
		var err error
		conn, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: os.Getpid() & 0xffff, Seq: 1, Data: []byte("eplink")}}
	b, _ := msg.Marshal(nil)
	if _, err := conn.WriteTo(b, &net.IPAddr{IP: net.ParseIP(dst)}); err != nil {
		return err
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return err
		}
		m, err := icmp.ParseMessage(1, buf[:n])
		if err == nil && m.Type == ipv4.ICMPTypeEchoReply && from.String() == dst {
			return nil
		}
	}
}

// stream is a flow from inside an instance that sends numbered words and
// checks they come back in order.
type stream struct {
	c      net.Conn
	sent   atomic.Int64
	echoed atomic.Int64
	errc   chan error
	stop   chan struct{}
}

func startStreamIn(t *testing.T, c net.Conn) *stream {
	s := &stream{c: c, errc: make(chan error, 2), stop: make(chan struct{})}
	go func() {
		var buf [8]byte
		for i := uint64(0); ; i++ {
			select {
			case <-s.stop:
				s.errc <- nil
				return
			default:
			}
			binary.BigEndian.PutUint64(buf[:], i)
			if _, err := c.Write(buf[:]); err != nil {
				s.errc <- err
				return
			}
			s.sent.Add(8)
		}
	}()
	go func() {
		r := bufio.NewReader(c)
		var buf [8]byte
		for i := uint64(0); ; i++ {
			if _, err := io.ReadFull(r, buf[:]); err != nil {
				s.errc <- err
				return
			}
			if got := binary.BigEndian.Uint64(buf[:]); got != i {
				s.errc <- fmt.Errorf("word %d came back as %d", i, got)
				return
			}
			s.echoed.Add(8)
		}
	}()
	return s
}

func (s *stream) waitEchoed(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.echoed.Load() < n {
		select {
		case err := <-s.errc:
			t.Fatalf("stream broke after %d bytes: %v", s.echoed.Load(), err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d bytes echoed", s.echoed.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hello connects from inside instance to addr and reads the backend's name.
func (s *netnsServer) hello(t *testing.T, instance, addr string) (string, net.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := netns.Dial(ctx, s.prefix+instance, addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, instance, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(c, 2)).ReadString('\n')
	if err != nil {
		t.Fatalf("hello from %s: %v", addr, err)
	}
	c.SetReadDeadline(time.Time{})
	return strings.TrimSpace(line), c
}

// TestNetnsMigration: Graceful keeps a stream on the old ENI byte for byte
// while new flows to the new ENI reach the new CLB; Force resets the
// stream at once and new flows reach the new CLB.
func TestNetnsMigration(t *testing.T) {
	needRoot(t)
	lab := strings.NewReplacer("ECHO_A", namedEcho(t, "A"), "ECHO_B", namedEcho(t, "B")).Replace(vpcsLab)
	s := startLab(t, testPrefix("m"), lab, "http://"+zoneC1+"/")
	api := func(args ...string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, err := s.eplink(append([]string{"api"}, args...)...)
			if err == nil {
				return
			}
			// The zone is still in a transition (Migrated → Connected).
			if !strings.Contains(out, "EndpointLocked") || time.Now().After(deadline) {
				t.Fatalf("eplink api %v: %v\n%s", args, err, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	resolve := func() string {
		t.Helper()
		eni, err := s.in("ecs03", "dig", "+short", "+time=2", zoneEcho)
		if err != nil || eni == "" {
			t.Fatalf("dig %s in ecs03: %q, %v", zoneEcho, eni, err)
		}
		return net.JoinHostPort(eni, "9000")
	}
	oldAddr := resolve()
	name, c := s.hello(t, "ecs03", oldAddr)
	if name != "A" {
		t.Fatalf("before migration: %q, want A", name)
	}
	st := startStreamIn(t, c)
	st.waitEchoed(t, 1<<20)

	api("AttachResourceToVpcEndpointService", "--profile", "provider", "--ServiceId", "epsrv-echo",
		"--ResourceId", "lb-eb", "--ResourceType", "slb", "--ZoneId", "cn-hangzhou-h")
	// The guide's order: the resource being replaced stops taking automatic
	// allocations first.
	autoAllocated := func(lb, on string) {
		api("UpdateVpcEndpointServiceResourceAttribute", "--profile", "provider", "--ServiceId", "epsrv-echo",
			"--ResourceId", lb, "--ZoneId", "cn-hangzhou-h", "--AutoAllocatedEnabled", on)
	}
	autoAllocated("lb-ea", "false")
	api("UpdateVpcEndpointZoneConnectionResourceAttribute", "--profile", "provider", "--ServiceId", "epsrv-echo",
		"--EndpointId", "ep-echo", "--ZoneId", "cn-hangzhou-h", "--ResourceId", "lb-eb", "--ResourceType", "slb",
		"--ResourceReplaceMode", "Graceful")
	var newAddr string
	deadline := time.Now().Add(15 * time.Second)
	for newAddr = resolve(); newAddr == oldAddr; newAddr = resolve() {
		if time.Now().After(deadline) {
			t.Fatal("the zone domain still answers the old ENI 15s after a Graceful replacement")
		}
		time.Sleep(100 * time.Millisecond)
	}
	base := st.echoed.Load()
	st.waitEchoed(t, base+1<<20)
	if name, _ := s.hello(t, "ecs03", newAddr); name != "B" {
		t.Errorf("new ENI %s: %q, want B", newAddr, name)
	}
	if name, _ := s.hello(t, "ecs03", oldAddr); name != "A" {
		t.Errorf("old ENI %s during the migration: %q, want A", oldAddr, name)
	}
	close(st.stop)
	if err := <-st.errc; err != nil {
		t.Fatalf("stream: %v", err)
	}
	st.c.(interface{ CloseWrite() error }).CloseWrite()
	// The reader sees every byte sent, then the backend's EOF.
	deadline = time.Now().Add(10 * time.Second)
	for st.echoed.Load() < st.sent.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st.echoed.Load() != st.sent.Load() {
		t.Fatalf("Graceful: %d bytes sent, %d echoed", st.sent.Load(), st.echoed.Load())
	}
	t.Logf("Graceful: %d bytes through the old ENI, in order", st.echoed.Load())

	// Force back to lb-ea on the zone's current ENI: the flow on lb-eb is
	// reset, new ones reach A.
	_, cb := s.hello(t, "ecs03", newAddr)
	api("DisableVpcEndpointZoneConnection", "--profile", "provider", "--ServiceId", "epsrv-echo",
		"--EndpointId", "ep-echo", "--ZoneId", "cn-hangzhou-h", "--ReplacedResource", "true")
	autoAllocated("lb-ea", "true")
	autoAllocated("lb-eb", "false")
	api("UpdateVpcEndpointZoneConnectionResourceAttribute", "--profile", "provider", "--ServiceId", "epsrv-echo",
		"--EndpointId", "ep-echo", "--ZoneId", "cn-hangzhou-h", "--ResourceId", "lb-ea", "--ResourceType", "slb",
		"--ResourceReplaceMode", "Force")
	cb.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := cb.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("flow on lb-eb after Force: %v, want a reset", err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		name, _ := s.hello(t, "ecs03", newAddr)
		if name == "A" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Force, %s still answers %q", newAddr, name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// affinityLab: an endpoint with ENIs in two zones of a service with zone
// affinity, and a client instance in each zone.
const affinityLab = `network: netns
region: cn-hangzhou
zones: [cn-hangzhou-h, cn-hangzhou-i]
accounts:
  - {uid: "1000000000000001", name: provider, access_keys: [{id: LTAIprovider000001, secret: provider-secret-1}]}
  - {uid: "1000000000000002", name: consumer, access_keys: [{id: LTAIconsumer000002, secret: consumer-secret-2}]}
vpcs:
  - id: vpc-c1
    owner: "1000000000000002"
    cidr: 10.10.0.0/16
    vswitches:
      - {id: vsw-h, zone: cn-hangzhou-h, cidr: 10.10.0.0/24}
      - {id: vsw-i, zone: cn-hangzhou-i, cidr: 10.10.1.0/24}
    security_groups: [{id: sg-c1, rules: [{protocol: tcp, port_range: 1/65535, source_cidr: 0.0.0.0/0}]}]
  - id: vpc-p
    owner: "1000000000000001"
    cidr: 192.168.0.0/16
    vswitches:
      - {id: vsw-ph, zone: cn-hangzhou-h, cidr: 192.168.24.0/24}
      - {id: vsw-pi, zone: cn-hangzhou-i, cidr: 192.168.25.0/24}
instances:
  - {id: ecs01, name: ECS01, vswitch: vsw-ph, builtin: http}
  - {id: ecs02, name: ECS02, vswitch: vsw-pi, builtin: http}
  - {id: ecs03, vswitch: vsw-h, ip: 10.10.0.190}
  - {id: ecs05, vswitch: vsw-i, ip: 10.10.1.190}
load_balancers:
  - {id: lb-h, owner: "1000000000000001", vswitch: vsw-ph, privatelink: true, listeners: [{port: 80, backends: [{instance: ecs01, port: 80}]}]}
  - {id: lb-i, owner: "1000000000000001", vswitch: vsw-pi, privatelink: true, listeners: [{port: 80, backends: [{instance: ecs02, port: 80}]}]}
services:
  - {id: epsrv-aff, owner: "1000000000000001", resources: [lb-h, lb-i], auto_accept: true, zone_affinity: true, whitelist: ["1000000000000002"]}
endpoints:
  - {id: ep-aff, owner: "1000000000000002", service: epsrv-aff, vpc: vpc-c1, security_groups: [sg-c1],
     zones: [{vswitch: vsw-h, ip: 10.10.0.10}, {vswitch: vsw-i, ip: 10.10.1.10}], accept: true}
`

// TestNetnsZoneAffinity: with zone affinity the VPC resolver answers each
// instance with its own zone's ENI first, by the instance's real address,
// and the endpoint domain leads each to its zone's CLB.
func TestNetnsZoneAffinity(t *testing.T) {
	needRoot(t)
	const domain = "ep-aff.epsrv-aff.cn-hangzhou.privatelink.aliyuncs.com"
	s := startLab(t, testPrefix("z"), affinityLab, "http://10.10.0.10/")
	for _, c := range []struct{ instance, eni, backend string }{
		{"ecs03", "10.10.0.10", "ECS01"},
		{"ecs05", "10.10.1.10", "ECS02"},
	} {
		for i := 0; i < 4; i++ { // not the luck of a rotation
			out, err := s.in(c.instance, "dig", "+short", "+time=2", domain)
			if first, _, _ := strings.Cut(out, "\n"); err != nil || first != c.eni {
				t.Fatalf("dig %s in %s = %q, %v; want %s first", domain, c.instance, out, err, c.eni)
			}
		}
		want := "Hello World ! This is " + c.backend + "."
		if out, code := s.curlStatus(c.instance, "http://"+domain+"/"); code != 0 || out != want {
			t.Errorf("curl %s in %s = %q (status %d), want %q", domain, c.instance, out, code, want)
		}
	}
}

// TestNetnsFINOnAnswer: a host backend that answers and closes at once
// (its FIN in the answer's packet) costs the instance three packets per
// connection: the SYN-ACK, the answer with the FIN, the ACK of its own
// FIN. The stack sends a FIN on its own; the link puts it on the answer.
func TestNetnsFINOnAnswer(t *testing.T) {
	needRoot(t)
	answer := strings.Repeat("answer ", 200)
	answering := hostBackend(t, func(c *net.TCPConn) {
		// Corked, the kernel sends the answer with the FIN of the close
		// (health checks take theirs and go).
		rc, _ := c.SyscallConn()
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, unix.TCP_CORK, 1) })
		io.WriteString(c, answer)
		c.Close()
	})
	lab := strings.NewReplacer("ECHO_A", answering, "ECHO_B", namedEcho(t, "B")).Replace(vpcsLab)
	s := startLab(t, testPrefix("f"), lab, "http://"+zoneC1+"/")
	eni, err := s.in("ecs03", "dig", "+short", "+time=2", zoneEcho)
	if err != nil || eni == "" {
		t.Fatalf("dig in ecs03: %q, %v", eni, err)
	}
	rx := func() int64 { return s.eth0Stat(t, "ecs03", "rx_packets") }
	const n = 50
	before := rx()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := netns.Dial(ctx, s.prefix+"ecs03", net.JoinHostPort(eni, "9000"))
		cancel()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != answer {
			t.Fatalf("connection %d: %d bytes of %d, %v", i, len(got), len(answer), err)
		}
	}
	// The last connection's final ACK may still be on its way.
	time.Sleep(100 * time.Millisecond)
	got := rx() - before
	t.Logf("%d connections: %d packets to the instance", n, got)
	if got > 3*n+n/5 {
		t.Errorf("%d packets to the instance for %d answered connections, want about %d: the FIN comes on its own", got, n, 3*n)
	}
}
