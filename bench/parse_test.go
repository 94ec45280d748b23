package bench

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWrk(t *testing.T) {
	r, err := ParseWrk(readTestdata(t, "wrk-keepalive.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 57006 || r.DurationUS != 2062614 || r.Bytes != 10660122 || r.TicksPerSecond != 5 {
		t.Errorf("counts = %+v", r)
	}
	if r.LatencyUS.P50 != 1190 || r.LatencyUS.P99 != 158391 || r.LatencyUS.P999 != 205471 || r.LatencyUS.Max != 210898 {
		t.Errorf("latency = %+v", r.LatencyUS)
	}
	if got := r.RequestsPerSec(); got < 27637 || got > 27638 {
		t.Errorf("RequestsPerSec = %v, wrk printed 27637.75", got)
	}
	if r.Errors.Total() != 0 || len(r.Series) != 0 {
		t.Errorf("errors %+v series %v", r.Errors, r.Series)
	}
}

func TestParseWrkSeries(t *testing.T) {
	r, err := ParseWrk(readTestdata(t, "wrk-series.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Series) != 11 || r.TicksPerSecond != 5 {
		t.Fatalf("series = %+v", r.Series)
	}
	var sum int64
	for i, s := range r.Series {
		if s.Backend != "A" {
			t.Errorf("backend %q", s.Backend)
		}
		if i > 0 && s.Tick != r.Series[i-1].Tick+1 {
			t.Errorf("series not sorted by time: %+v", r.Series)
		}
		if s.Bytes != s.Requests*blobSize {
			t.Errorf("tick %d: %d bytes for %d responses of %d", s.Tick, s.Bytes, s.Requests, blobSize)
		}
		sum += s.Requests
	}
	if sum != r.Requests {
		t.Errorf("series adds up to %d, wrk counted %d", sum, r.Requests)
	}
}

func TestParseWrkClose(t *testing.T) {
	r, err := ParseWrk(readTestdata(t, "wrk-close.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 4254 || r.LatencyUS.P50 != 3617 {
		t.Errorf("got %+v", r)
	}
}

func TestParseWrkRefused(t *testing.T) {
	_, err := ParseWrk(readTestdata(t, "wrk-refused.txt"))
	if err == nil || !strings.Contains(err.Error(), "Connection refused") {
		t.Fatalf("err = %v, want wrk's connect error", err)
	}
	if _, err := ParseWrk(nil); err == nil {
		t.Fatal("empty output parsed")
	}
	if _, err := ParseWrk([]byte("EPLINK_WRK {bad")); err == nil {
		t.Fatal("bad JSON parsed")
	}
}

func TestParseIperf(t *testing.T) {
	r, err := ParseIperf(readTestdata(t, "iperf3-p2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.ReceivedMbps(); got < 11502 || got > 11503 {
		t.Errorf("ReceivedMbps = %v", got)
	}
	s := r.StreamMbps()
	if len(s) != 2 || s[0] < 5795 || s[0] > 5796 || s[1] < 5706 || s[1] > 5707 {
		t.Errorf("StreamMbps = %v", s)
	}
	if len(r.Intervals) != 2 || r.Intervals[1].Sum.End <= r.Intervals[0].Sum.End {
		t.Errorf("client intervals = %+v", r.Intervals)
	}
	if j := Jain(s); j < 0.9999 || j > 1 {
		t.Errorf("Jain of two near-equal streams = %v", j)
	}
}

func TestParseIperfError(t *testing.T) {
	_, err := ParseIperf(readTestdata(t, "iperf3-error.json"))
	if err == nil || !strings.Contains(err.Error(), "Connection refused") {
		t.Fatalf("err = %v", err)
	}
	if _, err := ParseIperf([]byte("iperf3: error")); err == nil {
		t.Fatal("non-JSON parsed")
	}
}

// TestIperfStartFailed: which iperf3 errors are a start to retry (nothing
// was measured yet) and which are the run's answer.
func TestIperfStartFailed(t *testing.T) {
	for msg, want := range map[string]bool{
		"the server is busy running a test. try again later":                                                                              true,
		"unable to initialize stream: Transport endpoint is not connected":                                                                true,
		"unable to connect to server - server may have stopped running or use a different port, firewall issue, etc.: Connection refused": false,
		"unable to connect to server: Connection reset by peer":                                                                           true,
		"control socket has closed unexpectedly":                                                                                          false,
		"":                                                                                                                                false,
	} {
		if got := iperfStartFailed(msg); got != want {
			t.Errorf("iperfStartFailed(%q) = %v, want %v", msg, got, want)
		}
	}
}

func TestParseDNSPerf(t *testing.T) {
	r, err := ParseDNSPerf(readTestdata(t, "dnsperf.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := DNSPerfResult{Sent: 124612, Completed: 124612, Lost: 0, QPS: 62177.137882,
		AvgLatencySec: 0.001227, MaxLatencySec: 0.010315, ResponseCodes: "NOERROR 124612 (100.00%)", RunTimeSeconds: 2.004145}
	if *r != want {
		t.Errorf("got  %+v\nwant %+v", *r, want)
	}
}

func TestParseDNSPerfNoAnswer(t *testing.T) {
	r, err := ParseDNSPerf(readTestdata(t, "dnsperf-noanswer.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 100 || r.Completed != 0 || r.Lost != 100 || r.QPS != 0 || r.ResponseCodes != "" {
		t.Errorf("got %+v", r)
	}
	if _, err := ParseDNSPerf([]byte("dnsperf: socket: Permission denied\n")); err == nil {
		t.Fatal("output without statistics parsed")
	}
}

func TestParseProc(t *testing.T) {
	rss, err := ParseProcStatus(readTestdata(t, "proc-status.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if rss != 19448*1024 {
		t.Errorf("rss = %d", rss)
	}
	if _, err := ParseProcStatus([]byte("Name: x\n")); err == nil {
		t.Error("status without VmRSS parsed")
	}
}

// TestParseProcPIDStat checks that user and system time come from fields
// 14 and 15 of /proc/PID/stat, counted after the command name whatever it
// holds, in seconds of 1/100 s ticks.
func TestParseProcPIDStat(t *testing.T) {
	rest := func(utime, stime, threads string) string {
		// state(3) ppid … cstime(17) priority nice num_threads(20) …
		return " S 1 42 42 0 -1 4194560 0 0 0 0 " + utime + " " + stime + " 3 4 20 0 " + threads + " 0 1 1 1 1"
	}
	for _, tc := range []struct {
		name      string
		in        string
		user, sys float64
		threads   int
		wantErr   bool
	}{
		{name: "nginx", in: string(readTestdata(t, "proc-stat.txt")), user: 0.71, sys: 2.71, threads: 1},
		{name: "plain", in: "42 (eplink)" + rest("4600", "3000", "9"), user: 46, sys: 30, threads: 9},
		{name: "spaces", in: "42 (a b c)" + rest("150", "50", "7"), user: 1.5, sys: 0.5, threads: 7},
		{name: "parentheses", in: "42 (a) b (c))" + rest("150", "50", "7"), user: 1.5, sys: 0.5, threads: 7},
		{name: "name like fields", in: "42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12)" + rest("1", "0", "2"), user: 0.01, sys: 0, threads: 2},
		{name: "zero", in: "7 (pasta)" + rest("0", "0", "1"), threads: 1},
		{name: "empty", in: "", wantErr: true},
		{name: "no name", in: "42 S 1 42 42 0 -1 4194560 0 0 0 0 150 50 3 4 20 0 7 0", wantErr: true},
		{name: "short", in: "1 (x) S 1", wantErr: true},
		{name: "bad utime", in: "1 (x)" + rest("x", "50", "7"), wantErr: true},
		{name: "bad stime", in: "1 (x)" + rest("150", "-5", "7"), wantErr: true},
		{name: "bad threads", in: "1 (x)" + rest("150", "50", "many"), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcPIDStat([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed %q: %+v", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.UserSec-tc.user) > 1e-9 || math.Abs(got.SystemSec-tc.sys) > 1e-9 ||
				math.Abs(got.CPUSec()-(tc.user+tc.sys)) > 1e-9 || got.Threads != tc.threads || got.RSSBytes != 0 {
				t.Errorf("got %+v, want user %v system %v (cpu %v) threads %d", got, tc.user, tc.sys, tc.user+tc.sys, tc.threads)
			}
		})
	}
}

func TestParseProm(t *testing.T) {
	in := `# HELP eplink_dataplane_flows_active flows
# TYPE eplink_dataplane_flows_active gauge
eplink_dataplane_flows_active{endpoint_id="ep-1",resource_id="lb-a",zone_id="z"} 3
eplink_dataplane_flows_active{endpoint_id="ep-1",resource_id="lb-b",zone_id="z"} 2
eplink_dataplane_flows_active{endpoint_id="ep-2",resource_id="lb-a",zone_id="z"} 1
eplink_dataplane_flow_bytes_total{resource_id="lb-a",direction="a\"b,c"} 1.5e+06 1700000000000
go_goroutines 12
`
	ss, err := parseProm(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 5 {
		t.Fatalf("samples = %d", len(ss))
	}
	got := sumMetric(ss, metricFlowsActive, "resource_id", nil)
	if got["lb-a"] != 4 || got["lb-b"] != 2 {
		t.Errorf("by resource = %v", got)
	}
	got = sumMetric(ss, metricFlowsActive, "resource_id", map[string]string{"endpoint_id": "ep-2"})
	if got["lb-a"] != 1 || len(got) != 1 {
		t.Errorf("filtered = %v", got)
	}
	if ss[3].Labels["direction"] != `a"b,c` || ss[3].Value != 1.5e6 {
		t.Errorf("escaped label sample = %+v", ss[3])
	}
	if ss[4].Name != "go_goroutines" || ss[4].Value != 12 {
		t.Errorf("unlabelled sample = %+v", ss[4])
	}
	for _, bad := range []string{"x{a=\"1\" 2\n", "x{a=1} 2\n", "x abc\n", "x{a=\"1\"}\n"} {
		if _, err := parseProm(strings.NewReader(bad)); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}
