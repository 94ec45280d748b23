// Command eplink is a local, runnable twin of Alibaba Cloud PrivateLink.
//
//	eplink serve --lab FILE | --demo   run the control plane, data plane and DNS
//	eplink api ACTION [--Param v …]    call the OpenAPI like the aliyun CLI
//	eplink status                      live view of endpoints, zones and flows
//	eplink backend --listen ADDR --name NAME   a demo HTTP backend
//	eplink fault --endpoint-id EP --zone-id Z  fail a zone (DNS drops it)
//	eplink fault --clb-zone-id Z       fail a zone for CLBs (they switch to their backup zone)
//	eplink fault --clb ID --impair SPEC  impair flows (also --eni, --endpoint-id/--zone-id, --backend)
//	eplink exec INSTANCE -- CMD…        run CMD inside an instance (netns labs)
//	eplink experiment run PLAN.yaml    a failover experiment: load, faults, report
//	eplink bench                       side-by-side benchmarks
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

var version = "dev"

// command runs one subcommand; it returns a *usageError for bad arguments.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

var commands = map[string]command{
	"serve":   serveCmd,
	"api":     apiCmd,
	"status":  statusCmd,
	"backend": backendCmd,
	"bench":   benchCmd,
	"fault":   faultCmd,
	"exec":    execCmd,
	// experiment runs a failover plan: load, faults, expectations, report.
	"experiment": experimentCmd,
}

const usage = `usage: eplink COMMAND [flags]

commands:
  serve     run eplink (--demo for the built-in lab, --lab FILE for yours)
  api       call the PrivateLink OpenAPI: eplink api ACTION [--Param value ...]
  status    live view of endpoints, zones, flows and bandwidth
  backend   run a demo HTTP backend: --listen ADDR --name NAME
  exec      run a command on an instance of a netns lab: eplink exec ecs03 -- curl http://...
  fault     fail or recover an endpoint zone (fault injection):
            --endpoint-id EP --zone-id Z [--recover],
            or a zone for CLBs, which switch to their backup zone: --clb-zone-id Z [--recover],
            or a builtin backend: --backend HOST:PORT [--mode stop|refuse|blackhole] [--recover],
            or impair its flows: --backend HOST:PORT --impair "latency=50ms jitter=5ms"|none,
            or an ENI's, a zone's or a CLB's flows: --impair SPEC with --eni ID,
            --endpoint-id EP --zone-id Z, or --clb ID,
            or restart the data plane: --dataplane-restart [--downtime 1s]
  experiment
            run a failover experiment (load, faults, expectations, report):
            eplink experiment run PLAN.yaml [--out DIR]
  bench     measure eplink side by side with direct connections and HAProxy
  version   print the version

Run 'eplink COMMAND --help' for a command's flags.
`

// usageError is a bad command line: main prints it and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		// No command is a usage error, as for any other bad command line:
		// a script that forgot its arguments must not read success.
		fmt.Fprint(stderr, usage)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "eplink", version)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "eplink: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd(ctx, args[1:], stdout, stderr)
	var ue *usageError
	var es *exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &es): // eplink exec: the command's own status
		return es.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "eplink %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "eplink %s: %v\n", args[0], err)
		return 1
	}
}
