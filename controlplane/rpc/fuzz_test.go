package rpc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzReadParams feeds arbitrary queries and bodies to the parameter
// reader: it must never panic, and what it accepts keeps the bounds.
func FuzzReadParams(f *testing.F) {
	f.Add("Action=Echo&Version=2020-04-15", "")
	f.Add("a=1&a=2", "b=3")
	f.Add("a=1", "a=2")
	f.Add("a=%zz", "")
	f.Add("a=1;b=2", "c=%41+%42")
	f.Add("Zone.1.ip=127.0.0.1&Zone.1.ZoneId=z", "Tag.1.Key=k&Tag.1.Value=v%26w")
	f.Add("", strings.Repeat("x=", 10))
	f.Fuzz(func(t *testing.T, query, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p, err := readParams(httptest.NewRecorder(), r)
		if err != nil {
			if _, ok := err.(APIError); !ok {
				t.Fatalf("error %T is not an APIError: %v", err, err)
			}
			return
		}
		if len(p) > MaxParams {
			t.Fatalf("%d params accepted", len(p))
		}
		for k, vs := range p {
			if len(vs) != 1 || len(k) > MaxValueBytes || len(vs[0]) > MaxValueBytes {
				t.Fatalf("param %q = %q accepted", k, vs)
			}
		}
	})
}

// FuzzSignature signs requests carrying arbitrary extra parameters: a valid
// signature always verifies and the parameters reach the handler intact; a
// tampered value never does; our string to sign always equals the one the
// SDK builds.
func FuzzSignature(f *testing.F) {
	f.Add("ServiceId", "epsrv-1", "Zone.1.ip", "127.0.0.1", false)
	f.Add("Name", "a b+c*d~e/f", "Desc", "中文 & = %", true)
	f.Add("x", "", "y", "\x00\xff", false)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, get bool) {
		if k1 == "" || k2 == "" || k1 == k2 || commonParams[k1] || commonParams[k2] ||
			len(k1)+len(v1)+len(k2)+len(v2) > 4096 {
			t.Skip()
		}
		method := "POST"
		if get {
			method = "GET"
		}
		var got *Call
		s := &Server{
			Version: testVersion,
			Actions: map[string]Handler{"Echo": func(_ context.Context, c *Call) (any, error) {
				got = c
				return c.Params, nil
			}},
			Credentials: func(string) (string, string, bool) { return testSecret, testUID, true },
			Now:         func() time.Time { return testNow },
		}
		q := baseParams("Echo")
		q.Set(k1, v1)
		q.Set(k2, v2)
		if a, b := StringToSign(method, q), sdkStringToSign(method, q); a != b {
			t.Fatalf("string to sign\n got %s\nwant %s", a, b)
		}
		q.Set("Signature", Sign(method, q, testSecret))

		rec := serve(s, method, q)
		if rec.Code != http.StatusOK {
			t.Fatalf("valid signature refused: %d %s", rec.Code, rec.Body)
		}
		for k, v := range map[string]string{k1: v1, k2: v2} {
			if got.Params[k] != v {
				t.Fatalf("param %q = %q, want %q", k, got.Params[k], v)
			}
		}
		var echoed map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &echoed); err != nil {
			t.Fatalf("result is not JSON: %v: %s", err, rec.Body)
		}

		q.Set(k1, v1+"x")
		q.Set("SignatureNonce", q.Get("SignatureNonce")+"b")
		if rec := serve(s, method, q); rec.Code != http.StatusBadRequest ||
			!strings.Contains(rec.Body.String(), "SignatureDoesNotMatch") {
			t.Fatalf("tampered request: %d %s", rec.Code, rec.Body)
		}
	})
}

func serve(s *Server, method string, q url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/", nil)
	r.URL.RawQuery = q.Encode()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	return rec
}
