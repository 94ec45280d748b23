package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DNSPerfResult is dnsperf's statistics block.
type DNSPerfResult struct {
	Sent           int64   `json:"sent"`
	Completed      int64   `json:"completed"`
	Lost           int64   `json:"lost"`
	QPS            float64 `json:"qps"`
	AvgLatencySec  float64 `json:"avg_latency_s"`
	MaxLatencySec  float64 `json:"max_latency_s"`
	ResponseCodes  string  `json:"response_codes"`
	RunTimeSeconds float64 `json:"run_time_s"`
}

// ParseDNSPerf reads dnsperf's "Statistics:" block.
func ParseDNSPerf(out []byte) (*DNSPerfResult, error) {
	r := &DNSPerfResult{}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		first, _, _ := strings.Cut(val, " ")
		var err error
		switch key {
		case "Queries sent":
			r.Sent, err = strconv.ParseInt(first, 10, 64)
			seen++
		case "Queries completed":
			r.Completed, err = strconv.ParseInt(first, 10, 64)
			seen++
		case "Queries lost":
			r.Lost, err = strconv.ParseInt(first, 10, 64)
		case "Queries per second":
			r.QPS, err = strconv.ParseFloat(first, 64)
			seen++
		case "Run time (s)":
			r.RunTimeSeconds, err = strconv.ParseFloat(first, 64)
		case "Response codes":
			r.ResponseCodes = val
		case "Average Latency (s)":
			r.AvgLatencySec, err = strconv.ParseFloat(first, 64)
			if _, m, ok := strings.Cut(val, "max "); ok {
				r.MaxLatencySec, err = strconv.ParseFloat(strings.TrimSuffix(m, ")"), 64)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("dnsperf %q: %w", key, err)
		}
	}
	if seen < 3 {
		return nil, fmt.Errorf("dnsperf: no statistics in the output: %s", strings.TrimSpace(firstLine(out)))
	}
	return r, nil
}

// runDNSPerf sends the queries in file to addr for d.
func (h *harness) runDNSPerf(ctx context.Context, host string, port int, file string, d time.Duration) (*DNSPerfResult, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	out, err := h.output(ctx, d+15*time.Second, "dnsperf", "-s", host, "-p", strconv.Itoa(port),
		"-d", file, "-l", strconv.Itoa(secs), "-c", "4", "-T", "1", "-t", "2")
	r, perr := ParseDNSPerf(out)
	if perr != nil && err != nil {
		return nil, fmt.Errorf("%w (%v)", perr, err)
	}
	return r, perr
}
