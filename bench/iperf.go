package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IperfResult is the part of `iperf3 -J` the harness uses.
type IperfResult struct {
	Error     string          `json:"error"`
	Intervals []IperfInterval `json:"intervals"`
	End       struct {
		Streams []struct {
			Receiver IperfSum `json:"receiver"`
			Sender   IperfSum `json:"sender"`
		} `json:"streams"`
		SumSent     IperfSum `json:"sum_sent"`
		SumReceived IperfSum `json:"sum_received"`
	} `json:"end"`
}

// IperfInterval is one reporting interval (a second by default).
type IperfInterval struct {
	Sum IperfSum `json:"sum"`
}

// IperfSum is a byte count and rate over a time window.
type IperfSum struct {
	Start         float64 `json:"start"`
	End           float64 `json:"end"`
	Seconds       float64 `json:"seconds"`
	Bytes         int64   `json:"bytes"`
	BitsPerSecond float64 `json:"bits_per_second"`
}

// ReceivedMbps is the payload rate the server received, in Mbit/s.
func (r *IperfResult) ReceivedMbps() float64 { return r.End.SumReceived.BitsPerSecond / 1e6 }

// StreamMbps are the per-stream receive rates, in Mbit/s.
func (r *IperfResult) StreamMbps() []float64 {
	out := make([]float64, len(r.End.Streams))
	for i, s := range r.End.Streams {
		out[i] = s.Receiver.BitsPerSecond / 1e6
	}
	return out
}

// ParseIperf reads `iperf3 -J` output. iperf3 reports its own failures in
// the JSON "error" field, which becomes the error here.
func ParseIperf(out []byte) (*IperfResult, error) {
	r := &IperfResult{}
	if err := json.Unmarshal(out, r); err != nil {
		return nil, fmt.Errorf("iperf3 JSON: %w", err)
	}
	if r.Error != "" {
		return r, errors.New("iperf3: " + r.Error)
	}
	if len(r.End.Streams) == 0 {
		return r, errors.New("iperf3: no streams in the result")
	}
	return r, nil
}

// iperfStartFailed reports whether iperf3 failed before measuring anything,
// in a way that a second start a moment later gets past: the server still
// tearing down its last test says "busy", and a data stream that meets
// that teardown fails with "unable to initialize stream" (seen on loopback
// with no proxy at all: "Transport endpoint is not connected"), a control
// connection with "unable to connect to server: Connection reset by peer"
// (seen with no proxy in CI, 2026-12-05). A refused connection is no such
// race: the server is not there.
func iperfStartFailed(msg string) bool {
	return strings.Contains(msg, "busy") || strings.Contains(msg, "unable to initialize stream") ||
		strings.Contains(msg, "unable to connect to server") && strings.Contains(msg, "reset by peer")
}

// runIperf runs an iperf3 client against host:port with n parallel streams.
// iperf3 -s serves one test at a time and says "busy" while it is still
// tearing the previous one down (through a proxy that can take a moment
// after the client has gone); such a start (iperfStartFailed) is retried
// for up to 10 s.
func (h *harness) runIperf(ctx context.Context, host string, port, streams int, d time.Duration) (*IperfResult, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	deadline := time.Now().Add(10 * time.Second)
	// A pause between tests lets the server finish the last one: back to
	// back through a proxy, a new control connection can meet the old
	// test's teardown and be reset.
	if !sleepCtx(ctx, 300*time.Millisecond) {
		return nil, ctx.Err()
	}
	for {
		out, err := h.output(ctx, d+20*time.Second, "iperf3", "-c", host, "-p", strconv.Itoa(port),
			"-P", strconv.Itoa(streams), "-t", strconv.Itoa(secs), "-J", "--connect-timeout", "3000")
		r, perr := ParseIperf(out)
		if perr == nil {
			return r, nil
		}
		if r != nil && iperfStartFailed(r.Error) && time.Now().Before(deadline) && sleepCtx(ctx, 500*time.Millisecond) {
			continue
		}
		if err != nil && len(out) == 0 {
			return nil, err
		}
		return nil, perr
	}
}
