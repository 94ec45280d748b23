package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"eplink/metrics/cloudmonitor"
)

// ruleRow is one CloudMonitor alarm rule of the caller in `eplink status`.
type ruleRow struct {
	RuleId      string
	RuleName    string
	MetricName  string
	Resources   string
	Period      string
	AlertState  string
	EnableState bool
}

// listRules reads the caller's alarm rules from CloudMonitor on the same
// address. An eplink without CloudMonitor answers an error: no rules.
func listRules(ctx context.Context, c *apiClient) ([]ruleRow, error) {
	cc := *c
	cc.version = cloudmonitor.Version
	var all []ruleRow
	for page := 1; page <= maxPages; page++ {
		var out struct {
			Total  string
			Alarms struct{ Alarm []ruleRow }
		}
		if err := cc.callJSON(ctx, "DescribeMetricRuleList",
			map[string]string{"Page": strconv.Itoa(page), "PageSize": "100"}, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Alarms.Alarm...)
		total, _ := strconv.Atoi(out.Total)
		if len(out.Alarms.Alarm) == 0 || len(all) >= total {
			break
		}
	}
	return all, nil
}

// renderRules draws the rules table.
func renderRules(w io.Writer, rules []ruleRow) {
	fmt.Fprintln(w, "\nALARM RULES (CloudMonitor)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tNAME\tMETRIC\tRESOURCES\tPERIOD\tSTATE")
	for _, r := range rules {
		state := r.AlertState
		if !r.EnableState {
			state = "disabled"
		}
		fmt.Fprintln(tw, strings.Join([]string{r.RuleId, dash(r.RuleName), r.MetricName, dash(r.Resources),
			dash(r.Period) + "s", dash(state)}, "\t"))
	}
	tw.Flush()
}
