package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
)

// FuzzSignatureV3: a request signed by the Go SDK core's own v3 signer
// (openapiutil.GetAuthorization), with arbitrary parameters in the query
// or the form body, is always accepted and its parameters reach the
// handler intact; with a value changed after signing it never is.
func FuzzSignatureV3(f *testing.F) {
	f.Add("ServiceId", "epsrv-1", "Zone.1.ip", "127.0.0.1", false)
	f.Add("Name", "a b+c*d~e/f", "Desc", "中文 & = %", true)
	f.Add("x", "", "y", "\x00\xff", false)
	f.Add("Tag.1.Key", "!'()*", "Tag.1.Value", "~%7E+", true)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, inBody bool) {
		// Parameter names of an RPC API are unreserved characters; the SDK
		// cores leave names unencoded in the canonical query, which only
		// agrees with RFC 3986 encoding (the gateway's) for such names.
		if k1 == "" || k2 == "" || k1 == k2 || commonParams[k1] || commonParams[k2] ||
			!allUnreserved(k1) || !allUnreserved(k2) || len(k1)+len(v1)+len(k2)+len(v2) > 4096 {
			t.Skip()
		}
		var got *Call
		s := &Server{
			Version: testVersion,
			Actions: map[string]Handler{"Echo": func(_ context.Context, c *Call) (any, error) {
				got = c
				return nil, nil
			}},
			Credentials: func(string) (string, string, bool) { return testSecret, testUID, true },
			Now:         func() time.Time { return testNow },
		}
		query := url.Values{"RegionId": {"cn-hangzhou"}, k1: {v1}}
		form := url.Values{}
		if inBody {
			form.Set(k2, v2)
		} else {
			query.Set(k2, v2)
		}
		body := form.Encode()
		sum := sha256.Sum256([]byte(body))
		headers := map[string]string{
			"host": "127.0.0.1:8080", "x-acs-action": "Echo", "x-acs-version": testVersion,
			"x-acs-date": testNow.Format("2006-01-02T15:04:05Z"), "x-acs-signature-nonce": "nonce-1",
			"x-acs-content-sha256": hex.EncodeToString(sum[:]),
		}
		if body != "" {
			headers["content-type"] = "application/x-www-form-urlencoded"
		}
		dq, dh := map[string]*string{}, map[string]*string{}
		for k, vs := range query {
			dq[k] = dara.String(vs[0])
		}
		for k, v := range headers {
			dh[k] = dara.String(v)
		}
		auth := dara.StringValue(openapiutil.GetAuthorization(
			&dara.Request{Method: dara.String("POST"), Pathname: dara.String("/"), Query: dq, Headers: dh},
			dara.String(SignatureAlgorithmV3), dara.String(headers["x-acs-content-sha256"]),
			dara.String(testAK), dara.String(testSecret)))

		do := func(rawQuery string) *httptest.ResponseRecorder {
			r := httptest.NewRequest("POST", "http://127.0.0.1:8080/?"+rawQuery, strings.NewReader(body))
			for k, v := range headers {
				if k != "host" {
					r.Header.Set(k, v)
				}
			}
			r.Header.Set("Authorization", auth)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, r)
			return rec
		}
		rec := do(query.Encode())
		if rec.Code != http.StatusOK {
			t.Fatalf("valid signature refused: %d %s", rec.Code, rec.Body)
		}
		for k, v := range map[string]string{k1: v1, k2: v2} {
			if got.Params[k] != v {
				t.Fatalf("param %q = %q, want %q", k, got.Params[k], v)
			}
		}

		query.Set(k1, v1+"x")
		if rec := do(query.Encode()); rec.Code != http.StatusBadRequest ||
			!strings.Contains(rec.Body.String(), "SignatureDoesNotMatch") {
			t.Fatalf("tampered request: %d %s", rec.Code, rec.Body)
		}
	})
}

func allUnreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		if !unreservedBytes[s[i]] {
			return false
		}
	}
	return true
}

// FuzzParseJSONBody: any body is refused or flattened into a bounded
// number of parameters; never a panic (nesting is as deep as the JSON
// decoder allows).
func FuzzParseJSONBody(f *testing.F) {
	f.Add([]byte(`{"Name":"n","MaxResults":50,"DryRun":false,"Tag":[{"Key":"k","Value":"v"}],"Zone":{"ZoneId":"z"},"N":null}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{"a":{"b":[[1,{"c":"d"}]]}} {}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ps, err := parseJSONBody(nil, body)
		if err != nil {
			return
		}
		if len(ps) > MaxParams+1 {
			t.Fatalf("%d parameters from %d bytes", len(ps), len(body))
		}
	})
}
