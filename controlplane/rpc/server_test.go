package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testVersion = "2020-04-15"
	testAK      = "LTAItest000001"
	testSecret  = "test-secret-1"
	testUID     = "1000000000000001"
	testAK2     = "LTAItest000002"
	testSecret2 = "test-secret-2"
	testUID2    = "1000000000000002"
)

// testNow is the fixed clock of the table tests.
var testNow = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

var requestIDForm = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)

// lockedBuffer collects log output written from server goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testActions are stub handlers covering each kind of outcome.
func testActions(lastCall *atomic.Pointer[Call]) map[string]Handler {
	return map[string]Handler{
		"Echo": func(_ context.Context, c *Call) (any, error) {
			lastCall.Store(c)
			return map[string]any{"Params": c.Params, "Region": c.RegionID, "Caller": c.CallerUID}, nil
		},
		"Nil": func(context.Context, *Call) (any, error) { return nil, nil },
		"Empty": func(context.Context, *Call) (any, error) {
			return struct{}{}, nil
		},
		"Fail": func(context.Context, *Call) (any, error) {
			return nil, fmt.Errorf("wrapped: %w", Errorf(http.StatusBadRequest, "EndpointLocked", "The endpoint is locked."))
		},
		"Boom":        func(context.Context, *Call) (any, error) { return nil, errors.New("disk on fire") },
		"Panic":       func(context.Context, *Call) (any, error) { panic("oops") },
		"Array":       func(context.Context, *Call) (any, error) { return []int{1}, nil },
		"AppendEmpty": func(context.Context, *Call) (any, error) { return appender(`{}`), nil },
		"AppendOne": func(context.Context, *Call) (any, error) {
			return appender(`{"Long":"` + strings.Repeat("x", 3000) + `"}`), nil
		},
		"Status200": func(context.Context, *Call) (any, error) {
			return nil, Errorf(http.StatusOK, "DryRunOperation", "Request validation has been passed.")
		},
	}
}

type testServer struct {
	*Server
	url  string
	log  *lockedBuffer
	last atomic.Pointer[Call]
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{log: &lockedBuffer{}}
	ts.Server = &Server{
		Version: testVersion,
		HostID:  "privatelink.cn-hangzhou.aliyuncs.com",
		Product: "Privatelink",
		Actions: testActions(&ts.last),
		Credentials: func(id string) (string, string, bool) {
			switch id {
			case testAK:
				return testSecret, testUID, true
			case testAK2:
				return testSecret2, testUID2, true
			}
			return "", "", false
		},
		Now:    func() time.Time { return testNow },
		Logger: slog.New(slog.NewTextHandler(ts.log, nil)),
	}
	hs := httptest.NewServer(ts.Server)
	t.Cleanup(hs.Close)
	ts.url = hs.URL
	return ts
}

var nonceSeq atomic.Int64

// baseParams are the common parameters the SDK sends, with a fresh nonce.
func baseParams(action string) url.Values {
	return url.Values{
		"Action": {action}, "Version": {testVersion}, "Format": {"JSON"},
		"AccessKeyId": {testAK}, "SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"},
		"SignatureType": {""}, "SignatureNonce": {fmt.Sprintf("%032x", nonceSeq.Add(1))},
		"Timestamp": {testNow.Format("2006-01-02T15:04:05Z")}, "RegionId": {"cn-hangzhou"},
	}
}

// request describes one HTTP request to the server.
type request struct {
	method      string
	path        string
	query       url.Values
	rawQuery    string // used instead of query when set
	body        url.Values
	rawBody     string // used instead of body when set
	contentType string
	secret      string // signs query+body with it unless "" (then unsigned)
}

func signed(action string, mutate func(url.Values)) request {
	q := baseParams(action)
	if mutate != nil {
		mutate(q)
	}
	return request{method: "POST", query: q, secret: testSecret}
}

func (r request) do(t testing.TB, base string) (*http.Response, []byte) {
	t.Helper()
	if r.method == "" {
		r.method = "POST"
	}
	if r.path == "" {
		r.path = "/"
	}
	q := url.Values{}
	for k, vs := range r.query {
		q[k] = vs
	}
	if r.secret != "" {
		all := url.Values{}
		for k, vs := range q {
			all[k] = vs
		}
		for k, vs := range r.body {
			all[k] = append(all[k], vs...)
		}
		q.Set("Signature", Sign(r.method, all, r.secret))
	}
	raw := q.Encode()
	if r.rawQuery != "" {
		raw = r.rawQuery
	}
	body := r.body.Encode()
	if r.rawBody != "" {
		body = r.rawBody
	}
	req, err := http.NewRequest(r.method, base+r.path+"?"+raw, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ct := r.contentType
	if ct == "" {
		ct = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
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

func decodeError(t testing.TB, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, b)
	}
	return e
}

func TestServerErrors(t *testing.T) {
	ts := newTestServer(t)
	del := func(k string) func(url.Values) { return func(q url.Values) { q.Del(k) } }
	set := func(k, v string) func(url.Values) { return func(q url.Values) { q.Set(k, v) } }
	long := strings.Repeat("x", MaxValueBytes+1)
	many := func(q url.Values) {
		for i := range MaxParams {
			q.Set(fmt.Sprintf("P%d", i), "v")
		}
	}
	withBody := func(r request, body url.Values) request { r.body = body; return r }

	tests := []struct {
		name    string
		req     request
		status  int
		code    string
		message string // substring, "" = not checked
	}{
		{"path", request{path: "/v1/", query: baseParams("Echo"), secret: testSecret}, 404, "InvalidURI.NotFound", ""},
		{"method", request{method: "PUT", query: baseParams("Echo"), secret: testSecret}, 405, "UnsupportedHTTPMethod", ""},
		{"missing Action", signed("Echo", del("Action")), 400, "MissingParameter", `"Action"`},
		{"missing Version", signed("Echo", del("Version")), 400, "MissingParameter", `"Version"`},
		{"other Version", signed("Echo", set("Version", "2014-05-26")), 400, "InvalidVersion", ""},
		{"unknown Action", signed("Nope", nil), 404, "InvalidAction.NotFound", ""},
		{"unknown Action before missing signature", request{query: baseParams("Nope")}, 404, "InvalidAction.NotFound", ""},
		{"missing Signature", request{query: baseParams("Echo")}, 400, "IncompleteSignature", ""},
		{"missing AccessKeyId", signed("Echo", del("AccessKeyId")), 400, "MissingParameter", `"AccessKeyId"`},
		{"missing Timestamp", signed("Echo", del("Timestamp")), 400, "MissingParameter", `"Timestamp"`},
		{"missing SignatureNonce", signed("Echo", del("SignatureNonce")), 400, "MissingParameter", `"SignatureNonce"`},
		{"SignatureMethod", signed("Echo", set("SignatureMethod", "HMAC-SHA256")), 400, "IncompleteSignature", "HMAC-SHA1"},
		{"SignatureVersion", signed("Echo", set("SignatureVersion", "2.0")), 400, "IncompleteSignature", "1.0"},
		{"unknown AccessKeyId", signed("Echo", set("AccessKeyId", "LTAIunknown")), 404, "InvalidAccessKeyId.NotFound", ""},
		{"unknown AccessKeyId before signature", request{query: func() url.Values {
			q := baseParams("Echo")
			q.Set("AccessKeyId", "LTAIunknown")
			q.Set("Signature", "AAAA")
			return q
		}()}, 404, "InvalidAccessKeyId.NotFound", ""},
		{"bad signature", request{query: baseParams("Echo"), secret: "wrong"},
			400, "SignatureDoesNotMatch", "server string to sign is:POST&%2F&AccessKeyId%3D"},
		{"malformed Timestamp", signed("Echo", set("Timestamp", "2024-01-02 03:04:05")), 400, "InvalidTimeStamp.Format", ""},
		{"local Timestamp", signed("Echo", set("Timestamp", "2024-01-02T03:04:05+08:00")), 400, "InvalidTimeStamp.Format", ""},
		{"old Timestamp", signed("Echo", set("Timestamp", testNow.Add(-16*time.Minute).Format(time.RFC3339))), 400, "InvalidTimeStamp.Expired", ""},
		{"future Timestamp", signed("Echo", set("Timestamp", testNow.Add(16*time.Minute).Format(time.RFC3339))), 400, "InvalidTimeStamp.Expired", ""},
		{"signature checked before Timestamp", request{query: func() url.Values {
			q := baseParams("Echo")
			q.Set("Timestamp", "yesterday")
			q.Set("Signature", "AAAA")
			return q
		}()}, 400, "SignatureDoesNotMatch", ""},
		{"duplicate in query", request{rawQuery: baseParams("Echo").Encode() + "&Foo=1&Foo=2"}, 400, "InvalidParameter", `"Foo"`},
		{"in query and body", withBody(signed("Echo", set("Foo", "1")), url.Values{"Foo": {"2"}}), 400, "InvalidParameter", `"Foo"`},
		{"common param in body too", withBody(signed("Echo", nil), url.Values{"Action": {"Echo"}}), 400, "InvalidParameter", `"Action"`},
		{"too many params", signed("Echo", many), 400, "InvalidParameter", "more than"},
		{"too many with body", withBody(signed("Echo", nil), func() url.Values {
			b := url.Values{}
			many(b)
			return b
		}()), 400, "InvalidParameter", "more than"},
		{"value too long", withBody(signed("Echo", nil), url.Values{"Description": {long}}), 400, "InvalidParameter", "longer than"},
		{"body too large", request{query: baseParams("Echo"), rawBody: "Description=" + strings.Repeat("x", MaxBodyBytes)}, 413, "RequestEntityTooLarge", ""},
		{"body not a form", request{query: baseParams("Echo"), rawBody: `{"a":1}`, contentType: "application/json"}, 415, "UnsupportedMediaType", ""},
		{"malformed query", request{rawQuery: "Action=Echo&Bad=%zz"}, 400, "InvalidParameter", ""},
		{"malformed body", request{query: baseParams("Echo"), rawBody: "a=%zz"}, 400, "InvalidParameter", ""},
		{"handler APIError", signed("Fail", nil), 400, "EndpointLocked", "The endpoint is locked."},
		{"handler error", signed("Boom", nil), 500, "InternalError", ""},
		{"handler panic", signed("Panic", nil), 500, "InternalError", ""},
		{"handler result not an object", signed("Array", nil), 500, "InternalError", ""},
		{"handler error with a 2xx status", signed("Status200", nil), 500, "InternalError", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := tt.req.do(t, ts.url)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			e := decodeError(t, b)
			if h := resp.Header.Get("x-acs-request-id"); h != e.RequestID {
				t.Errorf("x-acs-request-id %q, body RequestId %q", h, e.RequestID)
			}
			if e.Code != tt.code {
				t.Errorf("Code %q, want %q (%s)", e.Code, tt.code, e.Message)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("Message %q does not contain %q", e.Message, tt.message)
			}
			if !requestIDForm.MatchString(e.RequestID) {
				t.Errorf("RequestId %q", e.RequestID)
			}
			if e.HostID != "privatelink.cn-hangzhou.aliyuncs.com" {
				t.Errorf("HostId %q", e.HostID)
			}
			if want := "https://api.aliyun.com/troubleshoot?q=" + tt.code + "&product=Privatelink"; e.Recommend != want {
				t.Errorf("Recommend %q, want %q", e.Recommend, want)
			}
		})
	}
	if t.Failed() {
		return
	}
	// Each internal error is logged once, client errors not at all.
	logs := ts.log.String()
	if n := strings.Count(logs, "rpc: internal error"); n != 4 {
		t.Errorf("%d internal errors logged, want 4:\n%s", n, logs)
	}
	for _, want := range []string{"disk on fire", "handler panic: oops", "not a JSON object", "has HTTP status 200"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestSignatureMismatchEchoesStringToSign(t *testing.T) {
	ts := newTestServer(t)
	q := baseParams("Echo")
	q.Set("Name", "a b*~/中")
	resp, b := request{query: q, secret: "wrong-secret"}.do(t, ts.url)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	e := decodeError(t, b)
	_, sts, ok := strings.Cut(e.Message, "server string to sign is:")
	if !ok || e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("got %+v", e)
	}
	if want := sdkStringToSign("POST", q); sts != want {
		t.Errorf("server string to sign\n got %s\nwant %s", sts, want)
	}
}

func TestNonceReplay(t *testing.T) {
	ts := newTestServer(t)
	r := signed("Nil", nil)
	if resp, b := r.do(t, ts.url); resp.StatusCode != 200 {
		t.Fatalf("first: %d %s", resp.StatusCode, b)
	}
	resp, b := r.do(t, ts.url)
	if e := decodeError(t, b); resp.StatusCode != 400 || e.Code != "SignatureNonceUsed" {
		t.Fatalf("replay: %d %s", resp.StatusCode, b)
	}
	// The same nonce under another AccessKey is another nonce.
	other := signed("Nil", func(q url.Values) {
		q.Set("SignatureNonce", r.query.Get("SignatureNonce"))
		q.Set("AccessKeyId", testAK2)
	})
	other.secret = testSecret2
	if resp, b := other.do(t, ts.url); resp.StatusCode != 200 {
		t.Fatalf("other key: %d %s", resp.StatusCode, b)
	}
	// A rejected request does not burn its nonce.
	bad := signed("Nil", nil)
	bad.secret = "wrong"
	bad.do(t, ts.url)
	bad.secret = testSecret
	if resp, b := bad.do(t, ts.url); resp.StatusCode != 200 {
		t.Fatalf("nonce of a rejected request: %d %s", resp.StatusCode, b)
	}
}

func TestNonceTableFull(t *testing.T) {
	ts := newTestServer(t)
	ts.MaxNonces = 2
	for i := range 2 {
		if resp, b := signed("Nil", nil).do(t, ts.url); resp.StatusCode != 200 {
			t.Fatalf("call %d: %d %s", i, resp.StatusCode, b)
		}
	}
	resp, b := signed("Nil", nil).do(t, ts.url)
	if e := decodeError(t, b); resp.StatusCode != 429 || e.Code != "Throttling" {
		t.Fatalf("over the cap: %d %s", resp.StatusCode, b)
	}
}

func TestSuccess(t *testing.T) {
	ts := newTestServer(t)
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			r := signed("Echo", func(q url.Values) {
				q.Set("Format", "XML") // answered in JSON anyway
				q.Set("ServiceId", "epsrv-1")
				q.Set("DryRun", "") // empty = absent
				q.Set("SecurityToken", "tok")
			})
			r.method = method
			r.body = url.Values{"Tag.1.Key": {"env & <prod>"}}
			resp, b := r.do(t, ts.url)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
			if !bytes.HasPrefix(b, []byte(`{"RequestId":"`)) {
				t.Errorf("RequestId is not the first key: %s", b)
			}
			if !bytes.Contains(b, []byte("env & <prod>")) {
				t.Errorf("HTML escaped: %s", b)
			}
			var got struct {
				RequestID string `json:"RequestId"`
				Params    map[string]string
				Region    string
				Caller    string
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			if !requestIDForm.MatchString(got.RequestID) {
				t.Errorf("RequestId %q", got.RequestID)
			}
			want := map[string]string{"ServiceId": "epsrv-1", "Tag.1.Key": "env & <prod>"}
			if fmt.Sprint(got.Params) != fmt.Sprint(want) {
				t.Errorf("Params %v, want %v", got.Params, want)
			}
			if got.Region != "cn-hangzhou" || got.Caller != testUID {
				t.Errorf("Region %q Caller %q", got.Region, got.Caller)
			}
			c := ts.last.Load()
			if c.Action != "Echo" || c.AccessKeyID != testAK || c.RequestID != got.RequestID {
				t.Errorf("Call %+v", c)
			}
		})
	}
}

// appender is a result that encodes itself (JSONAppender).
type appender string

func (a appender) AppendJSON(b []byte) []byte { return append(b, a...) }

func TestResultSplicing(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		action string
		keys   int
	}{{"Nil", 1}, {"Empty", 1}, {"AppendEmpty", 1}, {"AppendOne", 2}} {
		resp, b := signed(tc.action, nil).do(t, ts.url)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tc.action, resp.StatusCode, b)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || len(m) != tc.keys || m["RequestId"] == nil {
			t.Errorf("%s: %.100s (%v)", tc.action, b, err)
		}
		if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(b)) {
			t.Errorf("%s: Content-Length %q for %d bytes", tc.action, cl, len(b))
		}
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if !requestIDForm.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}
