package rpc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
)

// The v3 vector: CreateVpcEndpoint with parameters in the query (one that
// needs encoding, one empty) and a form body, signed with a fixed key,
// date and nonce.
const (
	v3VectorAK     = "LTAIconsumer000002"
	v3VectorSecret = "consumer-secret-2"
	v3VectorBody   = "Tag.1.Key=env&Tag.1.Value=dev"
	v3VectorQuery  = "DryRun=&EndpointName=my%20ep%2A~%2F%E4%B8%AD&RegionId=cn-hangzhou" +
		"&SecurityGroupId.1=sg-consumer1&ServiceId=epsrv-demo1&VpcId=vpc-consumer1"
	v3VectorBodyHash = "6c513cd13e827266eb314ff0a6a00d39ee626f5300993e6691958b56e042e0d7"
	v3VectorSigned   = "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"

	v3VectorCanonical = "POST\n" +
		"/\n" +
		v3VectorQuery + "\n" +
		"content-type:application/x-www-form-urlencoded\n" +
		"host:127.0.0.1:8080\n" +
		"x-acs-action:CreateVpcEndpoint\n" +
		"x-acs-content-sha256:" + v3VectorBodyHash + "\n" +
		"x-acs-date:2024-01-02T03:04:05Z\n" +
		"x-acs-signature-nonce:0123456789abcdef0123456789abcdef\n" +
		"x-acs-version:2020-04-15\n" +
		"\n" +
		v3VectorSigned + "\n" +
		v3VectorBodyHash
	v3VectorStringToSign = "ACS3-HMAC-SHA256\n6be359af80cb229a6ea94b0b889cd001de752f25a5e182339019838189011dc5"
	v3VectorSignature    = "a04675d88e41ad2a132089385f2d40c8d76068c4b7d87d612f39c3f2374df6be"
)

var v3VectorHeaders = map[string]string{
	"host":                  "127.0.0.1:8080",
	"content-type":          "application/x-www-form-urlencoded",
	"x-acs-action":          "CreateVpcEndpoint",
	"x-acs-version":         "2020-04-15",
	"x-acs-date":            "2024-01-02T03:04:05Z",
	"x-acs-signature-nonce": "0123456789abcdef0123456789abcdef",
	"x-acs-content-sha256":  v3VectorBodyHash,
}

// v3VectorRequest is the vector as an HTTP request, the query sent as
// the SDK cores send it (+ for space).
func v3VectorRequest() *http.Request {
	q := "DryRun=&EndpointName=my+ep%2A~%2F%E4%B8%AD&RegionId=cn-hangzhou" +
		"&SecurityGroupId.1=sg-consumer1&ServiceId=epsrv-demo1&VpcId=vpc-consumer1"
	r := httptest.NewRequest("POST", "http://127.0.0.1:8080/?"+q, strings.NewReader(v3VectorBody))
	for k, v := range v3VectorHeaders {
		if k != "host" {
			r.Header.Set(k, v)
		}
	}
	r.Header.Set("User-Agent", "AlibabaCloud (linux; amd64) Golang/1.26 Core/0.01 TeaDSL/2")
	r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+v3VectorAK+
		",SignedHeaders="+v3VectorSigned+",Signature="+v3VectorSignature)
	return r
}

func TestSignV3Vector(t *testing.T) {
	query, err := url.ParseQuery(v3VectorQuery)
	if err != nil {
		t.Fatal(err)
	}
	header := func(name string) []string { return []string{v3VectorHeaders[name]} }
	cr := CanonicalRequestV3("POST", query, header, strings.Split(v3VectorSigned, ";"), v3VectorBodyHash)
	if cr != v3VectorCanonical {
		t.Errorf("canonical request\n got %q\nwant %q", cr, v3VectorCanonical)
	}
	sts := StringToSignV3(cr)
	if sts != v3VectorStringToSign {
		t.Errorf("string to sign\n got %q\nwant %q", sts, v3VectorStringToSign)
	}
	if sig := SignV3(sts, v3VectorSecret); sig != v3VectorSignature {
		t.Errorf("signature %s, want %s", sig, v3VectorSignature)
	}

	// The Go SDK core's own signer agrees on the same request.
	q := map[string]*string{}
	for k, vs := range query {
		q[k] = dara.String(vs[0])
	}
	h := map[string]*string{"user-agent": dara.String("not signed"), "accept": dara.String("application/json")}
	for k, v := range v3VectorHeaders {
		h[k] = dara.String(v)
	}
	req := &dara.Request{Method: dara.String("POST"), Pathname: dara.String("/"), Query: q, Headers: h}
	got := dara.StringValue(openapiutil.GetAuthorization(req, dara.String(SignatureAlgorithmV3),
		dara.String(v3VectorBodyHash), dara.String(v3VectorAK), dara.String(v3VectorSecret)))
	want := v3VectorRequest().Header.Get("Authorization")
	if got != want {
		t.Errorf("SDK core Authorization\n %s\nwant\n %s", got, want)
	}

	// SignRequestV3 signs the same headers to the same signature.
	r := v3VectorRequest()
	r.Header.Del("Authorization")
	SignRequestV3(r, []byte(v3VectorBody), v3VectorAK, v3VectorSecret)
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("SignRequestV3\n %s\nwant\n %s", got, want)
	}
}

// TestServerV3Vector: the server accepts the vector, and its answer to a
// wrong secret shows the vector's canonical request and string to sign.
func TestServerV3Vector(t *testing.T) {
	var got *Call
	s := &Server{
		Version: testVersion,
		Actions: map[string]Handler{"CreateVpcEndpoint": func(_ context.Context, c *Call) (any, error) {
			got = c
			return nil, nil
		}},
		Now: func() time.Time { return testNow },
	}
	s.Credentials = func(id string) (string, string, bool) { return v3VectorSecret, testUID2, id == v3VectorAK }
	w := httptest.NewRecorder()
	s.ServeHTTP(w, v3VectorRequest())
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := Params{"EndpointName": "my ep*~/中", "ServiceId": "epsrv-demo1", "VpcId": "vpc-consumer1",
		"SecurityGroupId.1": "sg-consumer1", "Tag.1.Key": "env", "Tag.1.Value": "dev"}
	if got == nil || got.Action != "CreateVpcEndpoint" || got.CallerUID != testUID2 || got.AccessKeyID != v3VectorAK ||
		got.RegionID != "cn-hangzhou" || !equalParams(got.Params, want) {
		t.Errorf("call %+v, want params %v", got, want)
	}

	s.Credentials = func(string) (string, string, bool) { return "wrong", testUID2, true }
	w = httptest.NewRecorder()
	r := v3VectorRequest()
	r.Header.Set("x-acs-signature-nonce", "another")
	s.ServeHTTP(w, r)
	e := decodeError(t, w.Body.Bytes())
	if w.Code != 400 || e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("status %d %+v", w.Code, e)
	}
	cr := strings.Replace(v3VectorCanonical, "0123456789abcdef0123456789abcdef", "another", 1)
	if want := "server string to sign is:" + StringToSignV3(cr) + ", server canonical request is:" + cr; !strings.HasSuffix(e.Message, want) {
		t.Errorf("message\n %q\ndoes not end with\n %q", e.Message, want)
	}
}

func equalParams(a, b Params) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestParseAuthorizationV3(t *testing.T) {
	tests := []struct {
		in   string
		want authorizationV3
		ok   bool
	}{
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-date,Signature=abc",
			authorizationV3{"ACS3-HMAC-SHA256", "ak", "host;x-acs-date", "abc"}, true},
		{"ACS3-HMAC-SHA256 Signature=abc, Credential=ak, SignedHeaders=host",
			authorizationV3{"ACS3-HMAC-SHA256", "ak", "host", "abc"}, true},
		{"ACS3-HMAC-SM3 Credential=ak", authorizationV3{algorithm: "ACS3-HMAC-SM3", credential: "ak"}, true},
		{"ACS3-HMAC-SHA256", authorizationV3{}, false},
		{"", authorizationV3{}, false},
	}
	for _, tt := range tests {
		got, ok := parseAuthorizationV3(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseAuthorizationV3(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
