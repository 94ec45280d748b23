package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"eplink/metrics/cloudmonitor"
)

// `eplink api cms ACTION --Param value …` calls the CloudMonitor OpenAPI
// (2019-01-01) on the same address and keys, as `aliyun cms ACTION` does.

const cmsUsage = `usage: eplink api cms ACTION [--Param value | --Param=value ...] [flags]

Call the CloudMonitor OpenAPI (2019-01-01) on eplink's API address, signed
like the official SDK. Repeated parameters are numbered from 1:
--RuleId.1 r1 --RuleId.2 r2

flags: --access-key-id, --access-key-secret, --profile, --endpoint, --region,
--method, --cli-query, as for 'eplink api'.

actions:
`

// cmsFlags are the flags of 'eplink api cms'; any other --Name is an API
// parameter.
var cmsFlags = map[string]bool{
	"access-key-id": true, "access-key-secret": true, "profile": true,
	"endpoint": true, "region": true, "method": true, "cli-query": true,
}

func cmsCmd(ctx context.Context, args []string, stdout io.Writer) error {
	var action string
	params := map[string]string{}
	flags := map[string]string{"method": "POST"}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") {
			if action != "" {
				return usagef("unexpected argument %q (values follow their --Param)", arg)
			}
			action = arg
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if name == "h" || name == "help" {
			fmt.Fprint(stdout, cmsUsage)
			names := make([]string, 0)
			for n := range (&cloudmonitor.Monitor{}).Actions() {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintln(stdout, "  "+n)
			}
			return nil
		}
		if !hasValue {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				return usagef("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if cmsFlags[name] {
			flags[name] = value
		} else {
			params[name] = value
		}
	}
	if action == "" {
		return usagef("cms: which ACTION? (eplink api cms --help lists them)")
	}
	c, err := newAPIClient(flags["access-key-id"], flags["access-key-secret"], flags["profile"], flags["endpoint"], flags["region"], os.Getenv)
	if err != nil {
		return err
	}
	c.method = strings.ToUpper(flags["method"])
	c.version = cloudmonitor.Version
	body, err := c.call(ctx, action, params, false)
	if err != nil {
		return err
	}
	return printResponse(stdout, body, flags["cli-query"])
}

func (c *apiClient) apiVersion() string {
	if c.version != "" {
		return c.version
	}
	return apiVersion
}
