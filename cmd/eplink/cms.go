package main

import (
	"fmt"
	"io"
	"slices"

	"eplink/metrics/cloudmonitor"
)

// `eplink api cms ACTION --Param value …` calls the CloudMonitor OpenAPI
// (2019-01-01) on the same address and keys, as `aliyun cms ACTION` does:
// the same parser, flags, client and signatures as `eplink api`, with
// CloudMonitor's version and actions.

var cloudMonitor = apiProduct{cmd: "eplink api cms", version: cloudmonitor.Version, lookup: lookupCMSAction, names: cmsActionNames}

// cmsActions are CloudMonitor's actions as eplink serves them. The CLI has
// no parameter catalog for them: the server checks parameters.
var cmsActions = func() map[string]*action {
	m := map[string]*action{}
	for name := range (&cloudmonitor.Monitor{}).Actions() {
		m[name] = &action{Name: name, Open: true,
			Doc: "CloudMonitor (2019-01-01) " + name + ": parameters as in CloudMonitor's API reference; the server checks them."}
	}
	return m
}()

func lookupCMSAction(name string) (*action, bool) {
	a, ok := cmsActions[name]
	return a, ok
}

func cmsActionNames() []string {
	names := make([]string, 0, len(cmsActions))
	for n := range cmsActions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

const cmsUsage = `usage: eplink api cms ACTION [--Param value | --Param=value ...] [flags]

Call the CloudMonitor OpenAPI (2019-01-01) on eplink's API address, signed
like the official SDK. Repeated parameters are numbered from 1:
--RuleId.1 r1 --RuleId.2 r2. The flags are those of 'eplink api'
(--profile, --endpoint, --signature, --cli-query, …).

actions:
`

func printCMSActions(w io.Writer) {
	fmt.Fprint(w, cmsUsage)
	for _, n := range cmsActionNames() {
		fmt.Fprintln(w, "  "+n)
	}
}
