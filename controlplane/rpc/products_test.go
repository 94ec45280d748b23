package rpc

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Two products on one address: each request reaches the Server of its
// Version, whether Version rides in the query, in a form body (which the
// chosen Server must still read whole to check the signature) or, for V3,
// in x-acs-version; an unknown Version gets the first Server's answer.
func TestProductsRouteByVersion(t *testing.T) {
	product := func(version string) *Server {
		return &Server{
			Version: version, HostID: "h", Product: "p",
			Actions: map[string]Handler{"Who": func(_ context.Context, c *Call) (any, error) {
				return map[string]string{"Version": version, "Param": c.Params.Get("P")}, nil
			}},
			Credentials: func(id string) (string, string, bool) { return testSecret, testUID, id == testAK },
		}
	}
	hs := httptest.NewServer(Products{product("2020-04-15"), product("2019-01-01")})
	defer hs.Close()

	signed := func(version string) url.Values {
		v := url.Values{
			"Action": {"Who"}, "Version": {version}, "Format": {"JSON"}, "AccessKeyId": {testAK},
			"SignatureMethod": {SignatureMethod}, "SignatureVersion": {SignatureVersion},
			"SignatureNonce": {version + time.Now().String()}, "Timestamp": {time.Now().UTC().Format("2006-01-02T15:04:05Z")},
			"P": {"x y"},
		}
		v.Set("Signature", Sign("POST", v, testSecret))
		return v
	}
	do := func(req *http.Request) (int, map[string]string) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]string
		json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	for _, v := range []string{"2020-04-15", "2019-01-01"} {
		// In the query, as the SDK sends it.
		req, _ := http.NewRequest("POST", hs.URL+"/?"+signed(v).Encode(), nil)
		if code, out := do(req); code != 200 || out["Version"] != v || out["Param"] != "x y" {
			t.Errorf("query %s: %d %v", v, code, out)
		}
		// In a form body, as curl -d sends it.
		req, _ = http.NewRequest("POST", hs.URL+"/", strings.NewReader(signed(v).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if code, out := do(req); code != 200 || out["Version"] != v || out["Param"] != "x y" {
			t.Errorf("form body %s: %d %v", v, code, out)
		}
	}
	req, _ := http.NewRequest("POST", hs.URL+"/?"+signed("2000-01-01").Encode(), nil)
	if code, out := do(req); code != 400 || out["Code"] != "InvalidVersion" {
		t.Errorf("unknown version: %d %v", code, out)
	}
	// One front door, one replay table: a nonce spent on one product is
	// spent for the other too.
	first, second := signed("2020-04-15"), signed("2019-01-01")
	second.Set("SignatureNonce", first.Get("SignatureNonce"))
	second.Del("Signature")
	second.Set("Signature", Sign("POST", second, testSecret))
	req, _ = http.NewRequest("POST", hs.URL+"/?"+first.Encode(), nil)
	if code, out := do(req); code != 200 {
		t.Fatalf("first use of the nonce: %d %v", code, out)
	}
	req, _ = http.NewRequest("POST", hs.URL+"/?"+second.Encode(), nil)
	if code, out := do(req); code != 400 || out["Code"] != "SignatureNonceUsed" {
		t.Errorf("the nonce again, for the other product: %d %v", code, out)
	}
}
