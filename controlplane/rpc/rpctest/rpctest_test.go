package rpctest_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"eplink/controlplane/rpc"
	"eplink/controlplane/rpc/rpctest"
)

const (
	version = "2020-04-15"
	ak      = "LTAI-rpctest"
	secret  = "rpctest-secret"
)

// serve runs an rpc.Server whose Echo action returns the parameters and
// region it was given.
func serve(t *testing.T) string {
	t.Helper()
	s := &rpc.Server{
		Version: version,
		Actions: map[string]rpc.Handler{"Echo": func(_ context.Context, c *rpc.Call) (any, error) {
			return map[string]any{"Params": c.Params, "Region": c.RegionID}, nil
		}},
		Credentials: func(id string) (string, string, bool) { return secret, "1000000000000001", id == ak },
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := rpc.NewHTTPServer("", s)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

func TestCallsAreSignedAndVerified(t *testing.T) {
	for _, v3 := range []bool{false, true} {
		t.Run(map[bool]string{false: "v1", true: "v3"}[v3], func(t *testing.T) { testCalls(t, v3) })
	}
}

func testCalls(t *testing.T, v3 bool) {
	addr := serve(t)
	c, err := rpctest.Dial(addr, version, ak, secret)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Region = "cn-hangzhou"
	c.V3 = v3
	// Values that need encoding, and many calls on one connection: each
	// needs a fresh nonce to pass the replay check.
	want := map[string]string{"Name": "a b+c*d~e/f&g=h", "Desc": "中文 % <x>", "Zone.1.ip": "127.0.0.1"}
	for i := 0; i < 50; i++ {
		status, body, err := c.Call("Echo", "Name", want["Name"], "Desc", want["Desc"], "Zone.1.ip", want["Zone.1.ip"])
		if i%2 == 1 { // some parameters in the form body, as the SDK sends TagResources'
			status, body, err = c.CallForm("Echo", []string{"Name", want["Name"]},
				[]string{"Desc", want["Desc"], "Zone.1.ip", want["Zone.1.ip"]})
		}
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusOK {
			t.Fatalf("call %d: status %d: %s", i, status, body)
		}
		var got struct {
			RequestId string
			Params    map[string]string
			Region    string
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if got.RequestId == "" || got.Region != "cn-hangzhou" || len(got.Params) != len(want) {
			t.Fatalf("call %d: %s", i, body)
		}
		for k, v := range want {
			if got.Params[k] != v {
				t.Fatalf("call %d: %s = %q, want %q", i, k, got.Params[k], v)
			}
		}
	}
}

func TestWrongSecretIsRefused(t *testing.T) {
	addr := serve(t)
	for _, v3 := range []bool{false, true} {
		c, err := rpctest.Dial(addr, version, ak, "not-the-secret")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.V3 = v3
		status, body, err := c.Call("Echo", "Name", "x")
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Code string }
		json.Unmarshal(body, &e)
		if status != http.StatusBadRequest || e.Code != "SignatureDoesNotMatch" {
			t.Fatalf("v3 %v: status %d: %s", v3, status, body)
		}
	}
}

func TestOddPairsAreRefused(t *testing.T) {
	addr := serve(t)
	c, err := rpctest.Dial(addr, version, ak, secret)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.Call("Echo", "Name"); err == nil {
		t.Fatal("no error for a name without a value")
	}
}

// TestChunkedResponse: a body without Content-Length (chunked, as net/http
// sends a large one when the handler sets none) is read whole, and the
// connection stays usable.
func TestChunkedResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"a":`))
		w.(http.Flusher).Flush()
		w.Write([]byte(`"` + strings.Repeat("x", 5000) + `"}`))
	})}
	go hs.Serve(ln)
	defer hs.Close()
	c, err := rpctest.Dial(ln.Addr().String(), version, ak, secret)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 3; i++ {
		status, body, err := c.Call("Echo")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil || status != http.StatusOK || len(m["a"]) != 5000 {
			t.Fatalf("status %d, %v, %d bytes", status, err, len(body))
		}
	}
}
