package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// faultCmd fails (or recovers) an endpoint zone through the lab's admin
// API: DNS stops answering with the zone's ENI, as when the cloud takes a
// zone out of service. Flows already open are left alone.
func faultCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fault", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "", "eplink API `HOST:PORT` (default: the profile's, else "+defaultAPIAddr+")")
	ep := fs.String("endpoint-id", "", "endpoint `ID` (ep-…)")
	zone := fs.String("zone-id", "", "zone `ID` (e.g. cn-hangzhou-h)")
	recover := fs.Bool("recover", false, "recover the zone instead of failing it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &usageError{err.Error()}
	}
	if *ep == "" || *zone == "" {
		return &usageError{"--endpoint-id and --zone-id are required"}
	}
	addr := *endpoint
	if addr == "" {
		addr = defaultAPIAddr
		if pf, err := loadProfile(); err == nil && pf != nil && pf.Endpoint != "" {
			addr = pf.Endpoint
		}
	}
	form := url.Values{"EndpointId": {*ep}, "ZoneId": {*zone}, "Failed": {strconv.FormatBool(!*recover)}}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/lab/zone-fault", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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
