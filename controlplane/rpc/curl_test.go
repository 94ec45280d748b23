package rpc

import (
	"context"
	"encoding/json"
	"net/url"
	"os/exec"
	"testing"
	"time"
)

// TestCurl calls the server the way the API docs' samples do: a signed GET
// URL, and a POST with the action's parameters in a form body.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	ts := newTestServer(t)
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			q := baseParams("Echo")
			body := url.Values{"EndpointName": {"my ep"}, "Zone.1.ip": {"127.10.0.5"}}
			all := url.Values{}
			for k, v := range q {
				all[k] = v
			}
			args := []string{"-sS", "--max-time", "10"}
			if method == "GET" {
				for k, v := range body {
					q[k], all[k] = v, v
				}
			} else {
				for k, v := range body {
					all[k] = v
				}
				args = append(args, "--data", body.Encode())
			}
			q.Set("Signature", Sign(method, all, testSecret))
			args = append(args, ts.url+"/?"+q.Encode())

			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, curl, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("curl: %v: %s", err, out)
			}
			var got struct{ Params map[string]string }
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Params["EndpointName"] != "my ep" || got.Params["Zone.1.ip"] != "127.10.0.5" {
				t.Errorf("Params %v", got.Params)
			}
		})
	}
}
