package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"eplink/controlplane/lab"
	"eplink/controlplane/snapshot"
	"eplink/dataplane"
)

// startInfo is what a user needs to talk to a running eplink.
type startInfo struct {
	API, DNS, DataDir string
	Profiles          writtenProfiles // none with --no-profile
	LabKey            string          // what /lab/ requires; "" = nothing
	Lab               *lab.Lab
	NetnsPrefix       string // netns front end only
}

// demoLab builds the guide's scenario. The two ECS backends are bound on
// free loopback ports first, so the demo never collides with what runs on
// the machine. The CLBs listen on port 80 when eplink may bind it (root),
// else on 10080: the demo must work unprivileged too.
func demoLab() (*lab.Lab, []builtinBackend, error) {
	var bs []builtinBackend
	for _, name := range []string{"ECS01", "ECS02"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, b := range bs {
				b.ln.Close()
			}
			return nil, nil, err
		}
		bs = append(bs, builtinBackend{name: name, ln: ln})
	}
	l := lab.Demo(bs[0].ln.Addr().(*net.TCPAddr).Port, bs[1].ln.Addr().(*net.TCPAddr).Port)
	port := 80
	if probe, err := net.Listen("tcp", "127.10.0.1:80"); err != nil {
		port = 10080
	} else {
		probe.Close()
	}
	for i := range l.LoadBalancers {
		for j := range l.LoadBalancers[i].Listeners {
			l.LoadBalancers[i].Listeners[j].Port = port
		}
	}
	return l, bs, nil
}

// printDemo waits (bounded) until the demo endpoint carries traffic, then
// prints what to paste next. applied is the Version of the last snapshot
// the data plane (and, netns, the VPC stacks) put into effect.
func printDemo(ctx context.Context, w io.Writer, pub *snapshot.Publisher, proxy *dataplane.Proxy, applied func() uint64, info startInfo) {
	const epID, svcID = "ep-demo1", "epsrv-demo1"
	deadline := time.Now().Add(15 * time.Second)
	var ep *snapshot.Endpoint
	var zone *snapshot.EndpointZone
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ch := pub.Changed()
		snap := pub.Load()
		if e := snap.Endpoints[epID]; e != nil {
			for _, z := range e.Zones {
				if z.CarriesTraffic(e) {
					ep, zone = e, z
				}
			}
		}
		if zone != nil {
			break
		}
		select {
		case <-ch:
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
	if zone == nil {
		fmt.Fprintf(w, "eplink: the demo endpoint %s did not become Connected in time; see the log above\n", epID)
		return
	}
	// The data plane (and the VPC stacks, which own the ENI and CLB
	// addresses on the netns front end) apply snapshots on goroutines of
	// their own: wait for them to catch up, then say so if the ENI could not
	// be bound (another eplink on the same addresses, most likely) rather
	// than claim the demo works.
	for want := pub.Load().Version; applied() < want && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if errs := proxy.Errors(); len(errs) > 0 {
		fmt.Fprintf(w, "eplink: the demo is up but its data plane cannot serve: %v\n"+
			"Another process holds the demo's ENI addresses (127.10.0.0/16): most likely another eplink demo, "+
			"or a lab of yours on that range. 'ss -ltnp src 127.10.0.0/16' shows which; stop it, and eplink "+
			"serves the addresses within seconds. Until then the zones say EniNotServed in StatusInfo and DNS leaves them out.\n",
			errors.Join(errs...))
		return
	}
	port := 80
	if lbs := info.Lab.LoadBalancers; len(lbs) > 0 && len(lbs[0].Listeners) > 0 {
		port = lbs[0].Listeners[0].Port
	}
	host, dnsPort, _ := net.SplitHostPort(info.DNS)
	ip := zone.ENI.IP.String()
	url := "http://" + zone.Domain + "/"
	if port != 80 {
		url = "http://" + zone.Domain + ":" + strconv.Itoa(port) + "/"
	}
	if sfx := info.Profiles.Suffix; sfx != "" {
		// Another eplink holds the plain profile names: the commands below
		// must name this server's.
		w = replacingWriter{w, strings.NewReplacer("--profile provider", "--profile provider"+sfx,
			"--profile consumer", "--profile consumer"+sfx)}
	}
	try := fmt.Sprintf(`Try it:
  dig @%[1]s -p %[2]s +short %[3]s
  curl --resolve %[3]s:%[4]d:%[5]s %[6]s
  wrk -t2 -c50 -d10s http://%[5]s:%[4]d/
`, host, dnsPort, zone.Domain, port, ip, url)
	after := fmt.Sprintf(`  dig @%[1]s -p %[2]s +short %[3]s        # the new ENI
  curl --resolve %[3]s:%[4]d:$(dig @%[1]s -p %[2]s +short %[3]s) %[5]s
`, host, dnsPort, zone.Domain, port, url)
	if p := info.NetnsPrefix; p != "" {
		// The ENI lives in VPC1's network: clients run inside ECS03, whose
		// resolv.conf names the VPC resolver.
		in, as := "ip netns exec "+p+"ecs03", "root"
		if usernsPID() != 0 {
			// Rootless: the namespaces are this eplink's, not the host's.
			in, as = "eplink exec ecs03 --", "rootless: enter it with eplink exec"
		}
		try = fmt.Sprintf(`Try it inside VPC1's ECS03 (10.10.0.190), as the guide does (`+as+`):
  %[1]s curl %[2]s
  %[1]s dig +short %[3]s        # asks 100.100.2.136
  eplink exec ecs03 -- wrk -t1 -c100 -d10s %[2]s
`, in, url, zone.Domain)
		after = fmt.Sprintf(`  %[1]s dig +short %[2]s        # the new ENI
  %[1]s curl %[3]s
`, in, zone.Domain, url)
	}
	fmt.Fprintf(w, `
eplink demo is up: the product guide's scenario, endpoint %[1]s connected to service %[2]s.

  OpenAPI    http://%[3]s   region %[4]s   (metrics: http://%[3]s/metrics)
  Console    http://%[3]s/console/   (sign in as provider or consumer)
  DNS        %[5]s (UDP and TCP)
  provider   AccessKey LTAIprovider000001 / provider-secret-1   (uid 1000000000000001)
  consumer   AccessKey LTAIconsumer000002 / consumer-secret-2   (uid 1000000000000002)
  profiles   %[6]s

  endpoint domain  %[7]s
  zone domain      %[8]s
  ENI              %[9]s %[10]s  → %[11]s (CLB1 → ECS01)

%[17]s
Smooth migration to CLB2 (ECS02), as in the guide:
  eplink api AttachResourceToVpcEndpointService --profile provider --ServiceId %[2]s --ResourceId lb-clb2 --ResourceType slb --ZoneId %[16]s
  eplink api UpdateVpcEndpointServiceResourceAttribute --profile provider --ServiceId %[2]s --ResourceId lb-clb1 --ZoneId %[16]s --AutoAllocatedEnabled false
  eplink api UpdateVpcEndpointZoneConnectionResourceAttribute --profile provider --ServiceId %[2]s --EndpointId %[1]s --ZoneId %[16]s --ResourceId lb-clb2 --ResourceType slb --ResourceReplaceMode Graceful --wait Migrated
  eplink api ListVpcEndpointZones --profile consumer --EndpointId %[1]s
%[18]s  eplink api DisableVpcEndpointZoneConnection --profile provider --ServiceId %[2]s --EndpointId %[1]s --ZoneId %[16]s --ReplacedResource true
  eplink status --profile consumer

Ctrl-C stops eplink.
`, epID, svcID, info.API, info.Lab.Region, info.DNS, profilesLine(info.Profiles), ep.Domain, zone.Domain,
		zone.ENI.ID, ip, zone.ResourceID, host, dnsPort, port, url, zone.ZoneID, try, after)
}

// profilesLine is the banner's word on the CLI profiles.
func profilesLine(w writtenProfiles) string {
	if len(w.Names) == 0 {
		return "none written (--no-profile): pass --endpoint and the keys above"
	}
	s := strings.Join(w.Names, ", ") + " in " + w.Path
	if w.Others != "" {
		s += "\n             (the names without a suffix are the eplink's at " + w.Others + ")"
	}
	return s
}

// replacingWriter rewrites what is written through it.
type replacingWriter struct {
	w io.Writer
	r *strings.Replacer
}

func (rw replacingWriter) Write(p []byte) (int, error) {
	if _, err := rw.r.WriteString(rw.w, string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
