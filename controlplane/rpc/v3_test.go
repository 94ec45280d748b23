package rpc

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// v3Req describes one v3-signed request to the test server.
type v3Req struct {
	method      string // POST if ""
	action      string
	version     string // testVersion if ""
	query       url.Values
	body        string
	contentType string // form if "" and there is a body
	ak, secret  string // testAK, testSecret if ""
	date        time.Time
	nonce       string // a fresh one if ""
	// before changes the request before it is signed, after after.
	before, after func(r *http.Request)
	// sentBody, if set, is sent instead of body (a body changed after
	// signing).
	sentBody string
}

func (q v3Req) request(t testing.TB, base string) *http.Request {
	t.Helper()
	if q.method == "" {
		q.method = "POST"
	}
	if q.version == "" {
		q.version = testVersion
	}
	if q.ak == "" {
		q.ak = testAK
	}
	if q.secret == "" {
		q.secret = testSecret
	}
	if q.date.IsZero() {
		q.date = testNow
	}
	if q.nonce == "" {
		q.nonce = fmt.Sprintf("%032x", nonceSeq.Add(1))
	}
	r, err := http.NewRequest(q.method, base+"/?"+q.query.Encode(), strings.NewReader(q.body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("x-acs-action", q.action)
	r.Header.Set("x-acs-version", q.version)
	r.Header.Set("x-acs-date", q.date.UTC().Format("2006-01-02T15:04:05Z"))
	r.Header.Set("x-acs-signature-nonce", q.nonce)
	if q.body != "" {
		ct := q.contentType
		if ct == "" {
			ct = "application/x-www-form-urlencoded"
		}
		r.Header.Set("Content-Type", ct)
	}
	if q.before != nil {
		q.before(r)
	}
	SignRequestV3(r, []byte(q.body), q.ak, q.secret)
	if q.after != nil {
		q.after(r)
	}
	if q.sentBody != "" {
		r.Body = io.NopCloser(strings.NewReader(q.sentBody))
		r.ContentLength = int64(len(q.sentBody))
	}
	return r
}

func (q v3Req) do(t testing.TB, base string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(q.request(t, base))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// setAuth rewrites one field of the Authorization header.
func setAuth(field, value string) func(*http.Request) {
	return func(r *http.Request) {
		a, _ := parseAuthorizationV3(r.Header.Get("Authorization"))
		switch field {
		case "algorithm":
			a.algorithm = value
		case "Credential":
			a.credential = value
		case "SignedHeaders":
			a.signedHeaders = value
		case "Signature":
			a.signature = value
		}
		h := a.algorithm + " "
		var fields []string
		for _, f := range [][2]string{{"Credential", a.credential}, {"SignedHeaders", a.signedHeaders}, {"Signature", a.signature}} {
			if f[1] != "" {
				fields = append(fields, f[0]+"="+f[1])
			}
		}
		r.Header.Set("Authorization", h+strings.Join(fields, ","))
	}
}

func delHeader(name string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Del(name) }
}

// signOnly signs r with exactly the headers in list (lower case, as
// given), as a client that chose them would.
func signOnly(list string) func(*http.Request) {
	return func(r *http.Request) {
		header := func(name string) []string {
			if name == "host" {
				return []string{r.Host}
			}
			return r.Header.Values(name)
		}
		cr := CanonicalRequestV3(r.Method, r.URL.Query(), header, strings.Split(list, ";"), r.Header.Get("x-acs-content-sha256"))
		r.Header.Set("Authorization", SignatureAlgorithmV3+" Credential="+testAK+",SignedHeaders="+list+
			",Signature="+SignV3(StringToSignV3(cr), testSecret))
	}
}

func TestServerV3Errors(t *testing.T) {
	ts := newTestServer(t)
	echo := func(mutate func(*v3Req)) v3Req {
		q := v3Req{action: "Echo", query: url.Values{"RegionId": {"cn-hangzhou"}, "VpcId": {"vpc-1"}}, body: "Name=n"}
		if mutate != nil {
			mutate(&q)
		}
		return q
	}
	after := func(f func(*http.Request)) func(*v3Req) { return func(q *v3Req) { q.after = f } }
	const all = "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"

	tests := []struct {
		name    string
		req     v3Req
		status  int
		code    string
		message string // substring, "" = not checked
	}{
		{"missing x-acs-action", echo(after(delHeader("x-acs-action"))), 400, "MissingParameter", `"x-acs-action"`},
		{"missing x-acs-version", echo(after(delHeader("x-acs-version"))), 400, "MissingParameter", `"x-acs-version"`},
		{"missing Authorization", echo(after(delHeader("Authorization"))), 400, "IncompleteSignature", "Authorization header is missing"},
		{"missing x-acs-date", echo(after(delHeader("x-acs-date"))), 400, "MissingParameter", `"x-acs-date"`},
		{"missing x-acs-signature-nonce", echo(after(delHeader("x-acs-signature-nonce"))), 400, "MissingParameter", `"x-acs-signature-nonce"`},
		{"missing x-acs-content-sha256", echo(after(delHeader("x-acs-content-sha256"))), 400, "MissingParameter", `"x-acs-content-sha256"`},
		{"missing Content-Type", echo(func(q *v3Req) {
			q.body = ""
			q.before = func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }
			q.after = delHeader("Content-Type")
		}), 400, "IncompleteSignature", `"content-type" is in SignedHeaders but not in the request`},
		{"other version", echo(func(q *v3Req) { q.version = "2014-05-26" }), 400, "InvalidVersion", ""},
		{"unknown action", echo(func(q *v3Req) { q.action = "Nope" }), 404, "InvalidAction.NotFound", ""},
		{"algorithm", echo(after(setAuth("algorithm", "ACS3-HMAC-SM3"))), 400, "IncompleteSignature", "ACS3-HMAC-SHA256"},
		{"Authorization without fields", echo(after(func(r *http.Request) { r.Header.Set("Authorization", "ACS3-HMAC-SHA256") })),
			400, "IncompleteSignature", "Credential=…"},
		{"missing Credential", echo(after(setAuth("Credential", ""))), 400, "IncompleteSignature", "Credential is missing"},
		{"missing SignedHeaders", echo(after(setAuth("SignedHeaders", ""))), 400, "IncompleteSignature", "SignedHeaders is missing"},
		{"missing Signature", echo(after(setAuth("Signature", ""))), 400, "IncompleteSignature", "Signature is missing"},
		{"unknown AccessKey", echo(func(q *v3Req) { q.ak, q.secret = "LTAIunknown", "x" }), 404, "InvalidAccessKeyId.NotFound", ""},
		{"wrong secret", echo(func(q *v3Req) { q.secret = "wrong" }), 400, "SignatureDoesNotMatch", "server canonical request is:POST\n/\nRegionId=cn-hangzhou&VpcId=vpc-1\n"},
		{"date 16 minutes old", echo(func(q *v3Req) { q.date = testNow.Add(-16 * time.Minute) }), 400, "InvalidTimeStamp.Expired", ""},
		{"date 16 minutes ahead", echo(func(q *v3Req) { q.date = testNow.Add(16 * time.Minute) }), 400, "InvalidTimeStamp.Expired", ""},
		{"date not ISO 8601 UTC", echo(func(q *v3Req) {
			q.before = func(r *http.Request) { r.Header.Set("x-acs-date", "Tue, 02 Jan 2024 03:04:05 GMT") }
		}), 400, "InvalidTimeStamp.Format", ""},
		{"body changed after signing", echo(func(q *v3Req) { q.sentBody = "Name=m" }), 400, "SignatureDoesNotMatch", "x-acs-content-sha256"},
		{"body hash signed but wrong", echo(func(q *v3Req) {
			q.after = func(r *http.Request) {
				r.Header.Set("x-acs-content-sha256", emptyPayloadSHA256)
				signOnly(all)(r)
			}
		}), 400, "SignatureDoesNotMatch", "the request body hashes to"},
		{"query changed after signing", echo(after(func(r *http.Request) { r.URL.RawQuery += "&Extra=1" })), 400, "SignatureDoesNotMatch", ""},
		{"action changed after signing", echo(after(func(r *http.Request) { r.Header.Set("x-acs-action", "Nil") })), 400, "SignatureDoesNotMatch", ""},
		{"host changed after signing", echo(after(func(r *http.Request) { r.Host = "privatelink.cn-hangzhou.aliyuncs.com" })), 400, "SignatureDoesNotMatch", ""},
		{"SignedHeaders names a header not sent", echo(func(q *v3Req) {
			q.before = func(r *http.Request) { r.Header.Set("x-acs-extra", "1") }
			q.after = delHeader("x-acs-extra")
		}), 400, "IncompleteSignature", `"x-acs-extra" is in SignedHeaders but not in the request`},
		{"nonce not signed", echo(after(signOnly("content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-version"))),
			400, "IncompleteSignature", `"x-acs-signature-nonce" must be signed`},
		{"host not signed", echo(after(signOnly("content-type;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"))),
			400, "IncompleteSignature", `"host" must be signed`},
		{"SignedHeaders not sorted", echo(after(signOnly("host;content-type;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"))),
			400, "IncompleteSignature", "sorted"},
		{"SignedHeaders not lower case", echo(after(signOnly("Content-Type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"))),
			400, "IncompleteSignature", "lower-case"},
		{"body of another type", echo(func(q *v3Req) { q.body, q.contentType = "<a/>", "text/xml" }), 415, "UnsupportedMediaType", ""},
		{"malformed JSON body", echo(func(q *v3Req) { q.body, q.contentType = `{"a":`, "application/json" }), 400, "InvalidParameter", "JSON"},
		{"JSON body not an object", echo(func(q *v3Req) { q.body, q.contentType = `[1]`, "application/json" }), 400, "InvalidParameter", "JSON"},
		{"name in query and body", echo(func(q *v3Req) { q.body = "VpcId=vpc-2" }), 400, "InvalidParameter", `"VpcId"`},
		{"handler APIError", echo(func(q *v3Req) { q.action = "Fail" }), 400, "EndpointLocked", "The endpoint is locked."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.last.Store(nil)
			resp, b := tt.req.do(t, ts.url)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			e := decodeError(t, b)
			if e.Code != tt.code {
				t.Errorf("Code %q, want %q (%s)", e.Code, tt.code, e.Message)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("Message %q does not contain %q", e.Message, tt.message)
			}
			if !requestIDForm.MatchString(e.RequestID) || resp.Header.Get("x-acs-request-id") != e.RequestID {
				t.Errorf("RequestId %q, header %q", e.RequestID, resp.Header.Get("x-acs-request-id"))
			}
			if e.HostID != "privatelink.cn-hangzhou.aliyuncs.com" {
				t.Errorf("HostId %q", e.HostID)
			}
			if c := ts.last.Load(); c != nil {
				t.Errorf("the handler ran: %+v", c)
			}
		})
	}
}

func TestServerV3Success(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name string
		req  v3Req
		want Params
	}{
		{"query only", v3Req{action: "Echo", query: url.Values{"RegionId": {"cn-hangzhou"}, "Name": {"a b*~/中+"}, "Empty": {""}}},
			Params{"Name": "a b*~/中+"}},
		{"query and form", v3Req{action: "Echo", query: url.Values{"RegionId": {"cn-hangzhou"}},
			body: "Tag.1.Key=env&Tag.1.Value=a%20b"}, Params{"Tag.1.Key": "env", "Tag.1.Value": "a b"}},
		{"GET", v3Req{method: "GET", action: "Echo", query: url.Values{"RegionId": {"cn-hangzhou"}, "X": {"1"}}}, Params{"X": "1"}},
		{"JSON body", v3Req{action: "Echo", query: url.Values{"RegionId": {"cn-hangzhou"}},
			body:        `{"Name":"n","MaxResults":50,"DryRun":false,"Tag":[{"Key":"k","Value":"v"}],"Zone":{"ZoneId":"z"},"Nothing":null}`,
			contentType: "application/json; charset=utf-8"},
			Params{"Name": "n", "MaxResults": "50", "DryRun": "false", "Tag.1.Key": "k", "Tag.1.Value": "v", "Zone.ZoneId": "z"}},
		{"common names are not params", v3Req{action: "Echo", query: url.Values{"RegionId": {"cn-hangzhou"}, "Action": {"Nil"}, "Format": {"JSON"}}},
			Params{}},
		{"extra x-acs header signed", v3Req{action: "Echo", query: url.Values{"RegionId": {"cn-hangzhou"}},
			before: func(r *http.Request) { r.Header.Add("x-acs-extra", " b "); r.Header.Add("x-acs-extra", "a") }}, Params{}},
		{"unsigned headers may change", v3Req{action: "Echo", query: url.Values{"RegionId": {"cn-hangzhou"}},
			after: func(r *http.Request) { r.Header.Set("User-Agent", "proxy"); r.Header.Set("x-acs-unsigned", "1") }}, Params{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.last.Store(nil)
			resp, b := tt.req.do(t, ts.url)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			c := ts.last.Load()
			if c == nil || c.Action != "Echo" || c.CallerUID != testUID || c.AccessKeyID != testAK || c.RegionID != "cn-hangzhou" {
				t.Fatalf("call %+v", c)
			}
			if !equalParams(c.Params, tt.want) {
				t.Errorf("Params %v, want %v", c.Params, tt.want)
			}
		})
	}
}

// TestOneCallTwoDoors: the same call made with v1 and with v3 reaches the
// handler as the same Call.
func TestOneCallTwoDoors(t *testing.T) {
	ts := newTestServer(t)
	params := url.Values{"VpcId": {"vpc-1"}, "Name": {"a b"}, "Tag.1.Key": {"k"}}

	q := baseParams("Echo")
	for k, v := range params {
		q[k] = v
	}
	if resp, b := (request{query: q, secret: testSecret}).do(t, ts.url); resp.StatusCode != 200 {
		t.Fatalf("v1: status %d: %s", resp.StatusCode, b)
	}
	c1 := ts.last.Load()

	q3 := url.Values{"RegionId": {"cn-hangzhou"}}
	for k, v := range params {
		q3[k] = v
	}
	if resp, b := (v3Req{action: "Echo", query: q3}).do(t, ts.url); resp.StatusCode != 200 {
		t.Fatalf("v3: status %d: %s", resp.StatusCode, b)
	}
	c3 := ts.last.Load()
	if c1 == c3 || c1.Action != c3.Action || c1.CallerUID != c3.CallerUID || c1.AccessKeyID != c3.AccessKeyID ||
		c1.RegionID != c3.RegionID || !equalParams(c1.Params, c3.Params) {
		t.Errorf("v1 call %+v\nv3 call %+v", c1, c3)
	}
}

// TestNonceReplayAcrossSignatures: one replay table serves both
// signatures: a nonce is used once per AccessKey, whichever signed it.
func TestNonceReplayAcrossSignatures(t *testing.T) {
	ts := newTestServer(t)
	nonce := fmt.Sprintf("%032x", nonceSeq.Add(1))
	r3 := v3Req{action: "Nil", nonce: nonce}
	if resp, b := r3.do(t, ts.url); resp.StatusCode != 200 {
		t.Fatalf("first: status %d: %s", resp.StatusCode, b)
	}
	for name, do := range map[string]func() (*http.Response, []byte){
		"v3 again": func() (*http.Response, []byte) { return r3.do(t, ts.url) },
		"v1": func() (*http.Response, []byte) {
			return signed("Nil", func(q url.Values) { q.Set("SignatureNonce", nonce) }).do(t, ts.url)
		},
	} {
		resp, b := do()
		if e := decodeError(t, b); resp.StatusCode != 400 || e.Code != "SignatureNonceUsed" {
			t.Errorf("%s: status %d %+v", name, resp.StatusCode, e)
		}
	}
	// Another key may use the same nonce.
	r3.ak, r3.secret = testAK2, testSecret2
	if resp, b := r3.do(t, ts.url); resp.StatusCode != 200 {
		t.Errorf("other key: status %d: %s", resp.StatusCode, b)
	}
}

// TestV1WithV3LookingHeaders: a v1 request stays v1 when a proxy adds an
// Authorization of its own or the client sends x-acs-* headers (as the
// aliyun CLI sends x-acs-action and x-acs-version), and a v1 request
// cannot use v3's JSON body.
func TestV1WithV3LookingHeaders(t *testing.T) {
	ts := newTestServer(t)
	q := baseParams("Echo")
	q.Set("VpcId", "vpc-1")
	q.Set("Signature", Sign("POST", q, testSecret))
	send := func(h map[string]string, body, ct string) (*http.Response, []byte) {
		r, _ := http.NewRequest("POST", ts.url+"/?"+q.Encode(), strings.NewReader(body))
		for k, v := range h {
			r.Header.Set(k, v)
		}
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := send(map[string]string{"Authorization": "Bearer proxy-token", "x-acs-action": "Echo",
		"x-acs-version": testVersion, "x-acs-date": "2024-01-02T03:04:05Z"}, "", "")
	if resp.StatusCode != 200 || ts.last.Load().Params.Get("VpcId") != "vpc-1" {
		t.Errorf("v1 with extra headers: %d %s", resp.StatusCode, b)
	}
	q.Set("SignatureNonce", q.Get("SignatureNonce")+"2")
	q.Set("Signature", Sign("POST", q, testSecret))
	resp, b = send(map[string]string{"x-acs-date": "2024-01-02T03:04:05Z"}, `{"Name":"n"}`, "application/json")
	if e := decodeError(t, b); resp.StatusCode != 415 || e.Code != "UnsupportedMediaType" {
		t.Errorf("v1 with a JSON body: %d %s", resp.StatusCode, b)
	}
}
