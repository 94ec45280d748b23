package apitest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// The crash test re-executes the test binary as a server: TestMain sees
// these variables, serves the API on the data dir and prints its address.
const (
	envChildDataDir = "EPLINK_APITEST_CHILD_DATADIR"
	envChildDelay   = "EPLINK_APITEST_CHILD_DELAY"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envChildDataDir); dir != "" {
		os.Exit(serveChild(dir, os.Getenv(envChildDelay)))
	}
	// The SDK fills this package global on first use without a lock;
	// fill it before parallel tests make clients concurrently.
	privatelink.GetEndpointMap()
	os.Exit(m.Run())
}

// serveChild runs a server until stdin closes (the parent went away) or
// the process is killed.
func serveChild(dir, delay string) int {
	d, err := time.ParseDuration(delay)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad delay:", err)
		return 2
	}
	s, err := StartServer(Options{DataDir: dir, TransitionDelay: d})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 1
	}
	fmt.Printf("ADDR %s\n", s.Addr)
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		return 1
	}
	return 0
}

// child is a server process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

func startChild(t testing.TB, dir string, delay time.Duration) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChildDataDir+"="+dir, envChildDelay+"="+delay.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	c := &child{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { c.kill() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				line <- a
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case c.addr = <-line:
	case <-time.After(20 * time.Second):
		t.Fatal("child did not print its address")
	}
	return c
}

// kill sends SIGKILL and reaps the process.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// isTransport reports whether err is not an answer from the server (the
// server died under the call).
func isTransport(err error) bool {
	var se *sdkerrors.ServerError
	return err != nil && !errors.As(err, &se)
}

// TestCrashRecovery takes acknowledged writes from parallel SDK clients,
// kills the server with SIGKILL mid-stream, restarts it on the same data
// dir, and checks every acknowledged change is there and that a transition
// interrupted by the kill completes.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	t.Parallel() // another process does the work
	dir := t.TempDir()
	const delay = 500 * time.Millisecond
	c1 := startChild(t, dir, delay)
	e := &Env{
		Provider: NewClient(c1.addr, ProviderAK, ProviderSK),
		Consumer: NewClient(c1.addr, ConsumerAK, ConsumerSK),
	}

	svc := e.CreateService(t, false, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	// Create the endpoints without waiting in between (the transitions
	// overlap), then wait for all of them.
	const writers = 4
	create := func(ep EP) string {
		resp, err := e.Consumer.CreateVpcEndpoint(e.EndpointRequest(svc, ep))
		if err != nil {
			t.Fatalf("CreateVpcEndpoint: %v", err)
		}
		return resp.EndpointId
	}
	e0 := create(EP{Name: "interrupted", Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	e1 := create(EP{Name: "migrating", Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	e2 := create(EP{Name: "deleting"})
	ws := make([]string, writers)
	for i := range ws {
		ws[i] = create(EP{Name: fmt.Sprintf("writer-%d", i)})
	}
	for _, id := range append([]string{e0, e1, e2}, ws...) {
		e.WaitEndpointStable(t, e.Consumer, id, "Disconnected")
	}
	e.WaitZone(t, e.Consumer, e0, ZoneH, "Wait")
	e.Accept(t, svc, e1, e.Consumer)
	z1 := e.WaitZone(t, e.Consumer, e1, ZoneH, "Connected")

	// Stream: each writer rewrites its endpoint's description with a rising
	// sequence; a creator makes endpoints. Only answered successes count.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lastAck := make([]int, writers) // -1 = none
	var acked atomic.Int64
	var createdMu sync.Mutex
	var created []string
	var createdN []int // the n (name and token) of each created endpoint
	for i := 0; i < writers; i++ {
		lastAck[i] = -1
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := NewClient(c1.addr, ConsumerAK, ConsumerSK)
			for n := 0; n < 5000 && ctx.Err() == nil; {
				r := privatelink.CreateUpdateVpcEndpointAttributeRequest()
				r.EndpointId, r.EndpointDescription = ws[i], fmt.Sprintf("desc-%d-%d", i, n)
				_, err := c.UpdateVpcEndpointAttribute(r)
				switch {
				case err == nil:
					lastAck[i] = n
					n++
					acked.Add(1)
				case isTransport(err):
					return
				default: // refused (e.g. locked): not written, try again
					time.Sleep(2 * time.Millisecond)
				}
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := NewClient(c1.addr, ConsumerAK, ConsumerSK)
		for n := 0; n < 2000 && ctx.Err() == nil; n++ {
			r := e.EndpointRequest(svc, EP{Name: fmt.Sprintf("created-%d", n)})
			r.ClientToken = fmt.Sprintf("crash-token-%d", n)
			resp, err := c.CreateVpcEndpoint(r)
			if err != nil {
				if isTransport(err) {
					return
				}
				continue
			}
			createdMu.Lock()
			created = append(created, resp.EndpointId)
			createdN = append(createdN, n)
			createdMu.Unlock()
			acked.Add(1)
		}
	}()

	// Let the stream run until enough writes are acknowledged (bounded in
	// time), then accept e0 and kill before its transition can complete.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && acked.Load() < 100; {
		time.Sleep(10 * time.Millisecond)
	}
	en := privatelink.CreateEnableVpcEndpointConnectionRequest()
	en.ServiceId, en.EndpointId = svc, e0
	e.AllowReplace(t, svc, z1.ResourceId, otherCLB(z1.ResourceId))
	rr := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	rr.ServiceId, rr.EndpointId, rr.ZoneId = svc, e1, ZoneH
	rr.ResourceReplaceMode, rr.ResourceId, rr.ResourceType = "Graceful", otherCLB(z1.ResourceId), "slb"
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr); err != nil {
		t.Fatalf("Graceful replace: %v", err)
	}
	enabled := time.Now()
	if _, err := e.Provider.EnableVpcEndpointConnection(en); err != nil {
		t.Fatalf("EnableVpcEndpointConnection: %v", err)
	}
	del := privatelink.CreateDeleteVpcEndpointRequest()
	del.EndpointId = e2
	if _, err := e.Consumer.DeleteVpcEndpoint(del); err != nil {
		t.Fatalf("DeleteVpcEndpoint: %v", err)
	}
	c1.kill()
	interrupted := time.Since(enabled) < delay
	stop()
	wg.Wait()
	acks := len(created)
	for _, n := range lastAck {
		acks += n + 1
	}
	t.Logf("killed after %d acknowledged writes (%d creates)", acks, len(created))
	if acks < 20 {
		t.Errorf("only %d acknowledged writes before the kill; the stream did not run", acks)
	}

	c2 := startChild(t, dir, delay)
	e.Provider = NewClient(c2.addr, ProviderAK, ProviderSK)
	e.Consumer = NewClient(c2.addr, ConsumerAK, ConsumerSK)
	for i, id := range ws {
		r, err := e.GetEndpoint(e.Consumer, id)
		if err != nil {
			t.Errorf("writer endpoint %s after restart: %v", id, err)
			continue
		}
		// The acknowledged value, or the one in flight at the kill.
		ok := r.EndpointDescription == fmt.Sprintf("desc-%d-%d", i, lastAck[i]) ||
			r.EndpointDescription == fmt.Sprintf("desc-%d-%d", i, lastAck[i]+1)
		if lastAck[i] < 0 && (r.EndpointDescription == "" || r.EndpointDescription == "desc-"+fmt.Sprint(i)+"-0") {
			ok = true
		}
		if !ok {
			t.Errorf("writer %d: description %q after restart, last acknowledged desc-%d-%d", i, r.EndpointDescription, i, lastAck[i])
		}
	}
	for _, id := range created {
		if _, err := e.GetEndpoint(e.Consumer, id); err != nil {
			t.Errorf("acknowledged endpoint %s lost: %v", id, err)
		}
	}
	// The accept interrupted by the kill completes after restart.
	if !interrupted {
		t.Log("the kill came after the accept's transition was due; checking it completed anyway")
	}
	e.WaitEndpointStable(t, e.Consumer, e0, "Connected")
	z := e.WaitZone(t, e.Consumer, e0, ZoneH, "Connected")
	// e1's replacement left only its new resource auto-allocatable.
	if z.ResourceId != rr.ResourceId {
		t.Errorf("interrupted accept: zone on %q, want %s", z.ResourceId, rr.ResourceId)
	}
	// So does the interrupted Graceful replacement, keeping the old pair.
	m := e.WaitZone(t, e.Consumer, e1, ZoneH, "Migrated")
	if m.ResourceId != rr.ResourceId || m.ReplacedResourceId != z1.ResourceId || m.ReplacedEniId != z1.EniId || m.EniId == z1.EniId {
		t.Errorf("interrupted Graceful replacement ended as %+v; was %+v", m, z1)
	}
	// And the interrupted deletion.
	e.WaitEndpointGone(t, e.Consumer, e2)
	// Created endpoints caught in Creating finish too.
	for _, id := range created {
		e.WaitEndpoint(t, e.Consumer, id, "Active", func(r *privatelink.GetVpcEndpointAttributeResponse) bool {
			return r.EndpointStatus == "Active"
		})
	}
	// ClientTokens were persisted with their changes: replaying the last
	// acknowledged creates answers the same endpoints and makes none.
	count := must(e.Consumer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())).TotalCount
	for i := max(0, len(created)-3); i < len(created); i++ {
		r := e.EndpointRequest(svc, EP{Name: fmt.Sprintf("created-%d", createdN[i])})
		r.ClientToken = fmt.Sprintf("crash-token-%d", createdN[i])
		resp, err := e.Consumer.CreateVpcEndpoint(r)
		if err != nil || resp.EndpointId != created[i] {
			t.Errorf("replay of acknowledged create %d after the kill = %+v, %v; want %s", createdN[i], resp, err, created[i])
		}
	}
	if n := must(e.Consumer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())).TotalCount; n != count {
		t.Errorf("%d endpoints after replays, %d before", n, count)
	}
	// And the restarted server takes writes.
	r := privatelink.CreateUpdateVpcEndpointAttributeRequest()
	r.EndpointId, r.EndpointName = ws[0], "after-restart"
	if _, err := e.Consumer.UpdateVpcEndpointAttribute(r); err != nil {
		t.Errorf("write after restart: %v", err)
	}
	_ = c2.stdin.Close()
}
