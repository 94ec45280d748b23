package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"eplink/experiment"
)

// experimentCmd runs a failover experiment plan:
//
//	eplink experiment run PLAN.yaml [--out DIR]
//
// A plan with lab: starts its own eplink; one without runs against the
// eplink of the profiles (or --endpoint/--dns), its accounts being the
// profiles. The exit status is 1 when an expectation fails.
func experimentCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, experimentUsage)
			return nil
		}
		return &usageError{"want: eplink experiment run PLAN.yaml [--out DIR]"}
	}
	fs := flag.NewFlagSet("experiment run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write report.md, report.json, timeline.png and latency.png into `DIR`")
	endpoint := fs.String("endpoint", "", "eplink API `HOST:PORT` for plans without lab: (default: the profiles')")
	dnsAddr := fs.String("dns", "", "eplink DNS `HOST:PORT` for plans without lab: (default: the profiles')")
	labKey := fs.String("lab-key", os.Getenv("EPLINK_LAB_KEY"), "lab admin `KEY` for faults (default $EPLINK_LAB_KEY, else the profile's)")
	plans, err := parseInterleaved(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &usageError{err.Error()}
	}
	if len(plans) != 1 {
		return &usageError{"want one PLAN.yaml"}
	}
	p, err := experiment.ParseFile(plans[0])
	if err != nil {
		return err
	}
	if p.Lab != "" && rootless("", p.LabPath()) {
		// The run's eplink and its loads inside instances share one user
		// namespace: the run makes it, and eplink runs inside as root.
		return runRootless(append([]string{"experiment"}, args...), stdout, stderr)
	}
	if err := usernsMounts(); err != nil {
		return err
	}
	o := experiment.Options{Progress: stdout, API: *endpoint, DNS: *dnsAddr, LabKey: *labKey,
		NewCaller: func(api, region string, c experiment.Credentials) experiment.Caller {
			ac := clientAt("http://"+api, region, c.KeyID, c.Secret)
			ac.http.Timeout = 10 * time.Second // a step must not hold the timeline long
			return func(ctx context.Context, action string, params map[string]string) ([]byte, error) {
				c := *ac // the version is per action: PrivateLink's, or CloudMonitor's
				if _, ok := cloudMonitor.lookup(action); ok {
					c.version = cloudMonitor.version
				}
				return c.call(ctx, action, params, false)
			}
		}}
	if p.Lab == "" {
		if err := fromProfiles(&o); err != nil {
			return err
		}
	} else if o.Eplink, err = os.Executable(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "experiment %s: %s\n", p.Name, plans[0])
	res, err := experiment.Run(ctx, p, o)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := res.Write(*out); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	fmt.Fprint(stdout, res.Summary())
	if *out != "" {
		fmt.Fprintf(stdout, "report: %s/report.md\n", *out)
	}
	if !res.Pass {
		return errors.New("the experiment failed its expectations")
	}
	return nil
}

const experimentUsage = `usage: eplink experiment run PLAN.yaml [--out DIR] [--endpoint HOST:PORT] [--dns HOST:PORT]

Runs a failover experiment: load from a built-in client, a timeline of API
calls and faults, a recording every 100 ms, expectations; exits 1 when one
fails. Plans are described in the README; examples in examples/experiments/.
`

// parseInterleaved parses flags given before or after the positional
// arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// fromProfiles fills in the running eplink's addresses and accounts from
// the profile file.
func fromProfiles(o *experiment.Options) error {
	pf, err := loadProfile()
	if err != nil {
		return fmt.Errorf("reading profiles: %w", err)
	}
	if pf == nil || len(pf.Profiles) == 0 {
		return errors.New("the plan has no lab: and no 'eplink serve' profile exists; start one, or add lab: to the plan")
	}
	o.API = orDefault(o.API, orDefault(pf.Endpoint, defaultAPIAddr))
	o.Region = orDefault(pf.Region, defaultRegion)
	if o.API == pf.Endpoint {
		o.DNS = orDefault(o.DNS, pf.DNS)
	}
	o.Accounts = map[string]experiment.Credentials{}
	for name, p := range pf.Profiles {
		// The profiles of the server called: the file may hold those of
		// several eplinks (consumer, consumer-2…).
		if p.gone() || p.Endpoint != "" && p.Endpoint != o.API {
			continue
		}
		o.Accounts[name] = experiment.Credentials{KeyID: p.AccessKeyID, Secret: p.AccessKeySecret}
		if o.LabKey == "" {
			o.LabKey = p.LabKey
		}
		if o.DNS == "" {
			o.DNS = p.DNS
		}
	}
	o.DNS = orDefault(o.DNS, defaultDNSAddr)
	return nil
}
