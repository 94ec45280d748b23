package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzReadParams feeds arbitrary queries and bodies to the parameter
// reader: it must never panic, what it accepts keeps the bounds, and it
// accepts and refuses exactly what the straightforward url.Values reader
// (referenceReadParams) does, with the same parameters.
func FuzzReadParams(f *testing.F) {
	f.Add("Action=Echo&Version=2020-04-15", "")
	f.Add("a=1&a=2", "b=3")
	f.Add("a=1", "a=2")
	f.Add("a=%zz", "")
	f.Add("a=1;b=2", "c=%41+%42")
	f.Add("Zone.1.ip=127.0.0.1&Zone.1.ZoneId=z", "Tag.1.Key=k&Tag.1.Value=v%26w")
	f.Add("", strings.Repeat("x=", 10))
	f.Add("b=2&&a=1&c", "e=5&d=4&")
	f.Add("z=1&y=2", "x=3&z=4")
	f.Fuzz(func(t *testing.T, query, body string) {
		request := func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			r.URL.RawQuery = query
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}
		sc := getScratch()
		defer putScratch(sc)
		p, err := readParams(httptest.NewRecorder(), request(), sc, false)
		want, wantErr := referenceReadParams(httptest.NewRecorder(), request())
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("error %v, reference reader's %v", err, wantErr)
		}
		if err != nil {
			ae, ok := err.(APIError)
			if !ok {
				t.Fatalf("error %T is not an APIError: %v", err, err)
			}
			we := wantErr.(APIError)
			if ae.HTTPStatus() != we.HTTPStatus() || ae.ErrorCode() != we.ErrorCode() {
				t.Fatalf("error %v, reference reader's %v", err, wantErr)
			}
			return
		}
		if len(p) > MaxParams {
			t.Fatalf("%d params accepted", len(p))
		}
		for i, kv := range p {
			if len(kv.k) > MaxValueBytes || len(kv.v) > MaxValueBytes {
				t.Fatalf("param %q = %q accepted", kv.k, kv.v)
			}
			if i > 0 && p[i-1].k >= kv.k {
				t.Fatalf("params not sorted and distinct: %q then %q", p[i-1].k, kv.k)
			}
		}
		if got := p.values(); !reflect.DeepEqual(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Fatalf("params %v, reference reader's %v", got, want)
		}
	})
}

// referenceReadParams is the parameter reader as first written, over
// url.Values: the behaviour readParams keeps while avoiding its maps.
func referenceReadParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	check := func(p url.Values, already int) error {
		if already+len(p) > MaxParams {
			return Errorf(http.StatusBadRequest, "InvalidParameter", "too many")
		}
		for k, vs := range p {
			if len(vs) > 1 {
				return InvalidParameter(k, "given more than once")
			}
			if len(k) > MaxValueBytes || len(vs[0]) > MaxValueBytes {
				return InvalidParameter(k, "too long")
			}
		}
		return nil
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, InvalidParameter("query", "malformed query string")
	}
	if err := check(params, 0); err != nil {
		return nil, err
	}
	if r.Body == nil || r.ContentLength == 0 {
		return params, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "too large")
		}
		return nil, Errorf(http.StatusBadRequest, "InvalidParameter", "unreadable")
	}
	if len(body) == 0 {
		return params, nil
	}
	if ct := r.Header.Get("Content-Type"); !isFormType(ct) {
		return nil, Errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType", "not a form")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, InvalidParameter("body", "malformed form body")
	}
	if err := check(form, len(params)); err != nil {
		return nil, err
	}
	for k, vs := range form {
		if _, dup := params[k]; dup {
			return nil, InvalidParameter(k, "given in both the query and the body")
		}
		params[k] = vs
	}
	return params, nil
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
