package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"eplink/controlplane/api"
)

// faultCmd fails (or recovers) an endpoint zone through the lab's admin
// API: DNS stops answering with the zone's ENI, as when the cloud takes a
// zone out of service. Flows already open are left alone. With
// --clb-zone-id it fails a zone for CLBs instead: the CLBs deployed there
// switch to their backup zone, cutting their flows. With --backend it fails
// a builtin backend of the lab (--mode stop, refuse or blackhole), which
// the CLBs' health checks then see. With --impair it impairs the flows
// of a builtin backend, an ENI, a zone or a CLB; --dataplane-restart
// restarts eplink's data plane.
func faultCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fault", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "", "eplink API `HOST:PORT` (default: the profile's, else "+defaultAPIAddr+")")
	ep := fs.String("endpoint-id", "", "endpoint `ID` (ep-…)")
	zone := fs.String("zone-id", "", "zone `ID` (e.g. cn-hangzhou-h)")
	clbZone := fs.String("clb-zone-id", "", "fail this zone for CLBs: they switch to their backup zone")
	backendAddr := fs.String("backend", "", "fail this builtin backend `HOST:PORT` of the lab instead (--mode)")
	mode := fs.String("mode", "stop", "backend fault: stop (port closed), refuse (accept and reset)\nor blackhole (accept, never answer)")
	eni := fs.String("eni", "", "impair this ENI's flows (--impair)")
	clb := fs.String("clb", "", "impair the flows to this CLB `ID` (lb-…) (--impair)")
	impair := fs.String("impair", "", "impair the flows of the --backend, --eni, --clb or zone (--endpoint-id, --zone-id)\ninstead: `SPEC` such as \"latency=50ms jitter=5ms\", loss=PCT%, bandwidth=BYTES/S,\nreset-after=BYTES, stall; none lifts it")
	restart := fs.Bool("dataplane-restart", false, "restart eplink's data plane (flows reset, listeners closed for --downtime)")
	downtime := fs.Duration("downtime", 0, "how long --dataplane-restart keeps the data plane down")
	recover := fs.Bool("recover", false, "recover the zone (or backend) instead of failing it")
	labKey := fs.String("lab-key", os.Getenv("EPLINK_LAB_KEY"), "lab admin `KEY`, needed when eplink's API is not on loopback\n(default $EPLINK_LAB_KEY, else the profile's)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &usageError{err.Error()}
	}
	path, form := "/lab/zone-fault", url.Values{"EndpointId": {*ep}, "ZoneId": {*zone}, "Failed": {strconv.FormatBool(!*recover)}}
	switch {
	case *restart && (*backendAddr != "" || *ep != "" || *zone != "" || *clbZone != "" || *eni != "" || *clb != "" || *impair != ""):
		return &usageError{"--dataplane-restart goes alone (with --downtime)"}
	case *restart:
		path, form = "/lab/dataplane-restart", url.Values{"Downtime": {downtime.String()}}
	case *backendAddr != "" && (*ep != "" || *zone != "" || *clbZone != ""):
		return &usageError{"--backend goes without --endpoint-id, --zone-id and --clb-zone-id"}
	case (*eni != "" || *clb != "") && *impair == "":
		return &usageError{"--eni and --clb go with --impair"}
	case *impair != "" && *backendAddr != "":
		path, form = "/lab/backend-impair", url.Values{"Address": {*backendAddr}, "Impairment": {*impair}}
	case *impair != "":
		form = url.Values{"Impairment": {*impair}}
		n := 0
		for k, v := range map[string]string{"EniId": *eni, "ResourceId": *clb, "EndpointId": *ep, "ZoneId": *zone} {
			if v != "" {
				form.Set(k, v)
				n++
			}
		}
		one := n == 1 && (*eni != "" || *clb != "") || n == 2 && *ep != "" && *zone != ""
		if !one || *clbZone != "" {
			return &usageError{"--impair goes with one of --backend, --eni, --clb, or --endpoint-id and --zone-id"}
		}
		path = "/lab/impair"
	case *backendAddr != "":
		m := *mode
		if *recover {
			m = "none"
		}
		path, form = "/lab/backend-fault", url.Values{"Address": {*backendAddr}, "Mode": {m}}
	case *clbZone != "" && (*ep != "" || *zone != ""):
		return &usageError{"--clb-zone-id goes without --endpoint-id and --zone-id"}
	case *clbZone != "":
		path, form = "/lab/clb-zone-fault", url.Values{"ZoneId": {*clbZone}, "Failed": {strconv.FormatBool(!*recover)}}
	case *ep == "" || *zone == "":
		return &usageError{"--endpoint-id and --zone-id (or --clb-zone-id, or --backend) are required"}
	}
	addr, key := *endpoint, *labKey
	pf, _ := loadProfile()
	if addr == "" {
		addr = defaultAPIAddr
		if pf != nil && pf.Endpoint != "" {
			addr = pf.Endpoint
		}
	}
	if key == "" && pf != nil {
		// The key of the server at addr, from any of its profiles.
		for _, p := range pf.Profiles {
			if p.Endpoint == addr && p.LabKey != "" {
				key = p.LabKey
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second+*downtime)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set(api.LabKeyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "%s", body)
	return nil
}
