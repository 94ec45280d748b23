package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"

	"eplink/controlplane"
	"eplink/controlplane/apitest"
	"eplink/controlplane/rpc"
)

// Test keys, as in examples/lab.yaml.
const (
	consumerKey    = "LTAIconsumer000002"
	consumerSecret = "consumer-secret-2"
	consumerUID    = "1000000000000002"
)

func TestParseAPIArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		params  map[string]string
		check   func(t *testing.T, r *apiRequest)
		wantErr string // substring of the usage error
	}{
		{
			name: "space and equals forms, repeated and struct lists",
			args: []string{"CreateVpcEndpoint", "--VpcId", "vpc-consumer1", "--ServiceId=epsrv-1",
				"--SecurityGroupId.1", "sg-consumer1", "--Zone.1.ZoneId", "cn-hangzhou-h",
				"--Zone.1.VSwitchId=vsw-consumer1-h", "--Zone.1.ip", "127.10.0.5"},
			params: map[string]string{"VpcId": "vpc-consumer1", "ServiceId": "epsrv-1",
				"SecurityGroupId.1": "sg-consumer1", "Zone.1.ZoneId": "cn-hangzhou-h",
				"Zone.1.VSwitchId": "vsw-consumer1-h", "Zone.1.ip": "127.10.0.5"},
		},
		{
			name:   "boolean parameter with its value",
			args:   []string{"DeleteVpcEndpoint", "--EndpointId", "ep-1", "--DryRun", "true"},
			params: map[string]string{"EndpointId": "ep-1", "DryRun": "true"},
		},
		{
			name:   "value that looks like a flag with =",
			args:   []string{"UpdateVpcEndpointAttribute", "--EndpointId", "ep-1", "--EndpointDescription=--x"},
			params: map[string]string{"EndpointId": "ep-1", "EndpointDescription": "--x"},
		},
		{
			name:   "cli flags before the action",
			args:   []string{"--region", "cn-shanghai", "--endpoint=127.0.0.1:9", "ListVpcEndpoints", "--wait-timeout", "5s"},
			params: map[string]string{},
			check: func(t *testing.T, r *apiRequest) {
				if r.region != "cn-shanghai" || r.endpoint != "127.0.0.1:9" || r.waitTimeout != 5*time.Second {
					t.Errorf("flags: %+v", r)
				}
			},
		},
		{
			name:   "wait for a zone state",
			args:   []string{"UpdateVpcEndpointZoneConnectionResourceAttribute", "--ServiceId", "s", "--EndpointId", "e", "--ZoneId", "z", "--ResourceReplaceMode", "Graceful", "--wait", "Migrated"},
			params: map[string]string{"ServiceId": "s", "EndpointId": "e", "ZoneId": "z", "ResourceReplaceMode": "Graceful"},
			check: func(t *testing.T, r *apiRequest) {
				if r.wait != "Migrated" {
					t.Errorf("wait = %q", r.wait)
				}
			},
		},
		{
			name:   "force sends unknown parameters",
			args:   []string{"ListVpcEndpoints", "--force", "--Bogus", "1"},
			params: map[string]string{"Bogus": "1"},
		},
		{
			name: "help for an action", args: []string{"CreateVpcEndpoint", "--help"},
			check: func(t *testing.T, r *apiRequest) {
				if !r.help || r.action == nil {
					t.Errorf("help not set: %+v", r)
				}
			},
		},
		{name: "no action", args: []string{"--VpcId", "x"}, wantErr: "missing ACTION"},
		{name: "unknown action suggests", args: []string{"CreateVpcEndpiont"}, wantErr: `unknown action "CreateVpcEndpiont"; did you mean CreateVpcEndpoint?`},
		{name: "unknown action, case", args: []string{"listvpcendpoints"}, wantErr: "did you mean ListVpcEndpoints?"},
		{name: "unknown action far from all", args: []string{"Frobnicate"}, wantErr: `unknown action "Frobnicate" (`},
		{name: "unknown parameter suggests", args: []string{"CreateVpcEndpoint", "--VpcID", "x"}, wantErr: `CreateVpcEndpoint has no parameter "VpcID"; did you mean --VpcId?`},
		{name: "unknown struct field suggests", args: []string{"CreateVpcEndpoint", "--Zone.2.Zoneid", "x"}, wantErr: "did you mean --Zone.2.ZoneId?"},
		{name: "list parameter without index", args: []string{"CreateVpcEndpoint", "--SecurityGroupId", "sg"}, wantErr: "did you mean --SecurityGroupId.N?"},
		{name: "index zero", args: []string{"CreateVpcEndpoint", "--Zone.0.ZoneId", "x"}, wantErr: "index \"0\" must be 1..100"},
		{name: "index with leading zero", args: []string{"CreateVpcEndpoint", "--SecurityGroupId.01", "x"}, wantErr: "must be 1..100"},
		{name: "index too big", args: []string{"CreateVpcEndpoint", "--SecurityGroupId.101", "x"}, wantErr: "must be 1..100"},
		{name: "given twice", args: []string{"GetVpcEndpointAttribute", "--EndpointId", "a", "--EndpointId", "b"}, wantErr: "given twice"},
		{name: "empty value", args: []string{"GetVpcEndpointAttribute", "--EndpointId="}, wantErr: "empty value"},
		{name: "cli flag without value", args: []string{"ListVpcEndpoints", "--endpoint"}, wantErr: "--endpoint needs a value"},
		// An empty shell variable: --EndpointName $NAME must not rename the endpoint to "true".
		{name: "parameter without value before another", args: []string{"UpdateVpcEndpointAttribute", "--EndpointId", "ep-1", "--EndpointName", "--EndpointDescription", "d"}, wantErr: "--EndpointName needs a value"},
		{name: "parameter without value at the end", args: []string{"GetVpcEndpointAttribute", "--EndpointId"}, wantErr: "--EndpointId needs a value"},
		{name: "bare boolean parameter", args: []string{"DeleteVpcEndpoint", "--EndpointId", "ep-1", "--DryRun"}, wantErr: "--DryRun needs a value"},
		{name: "forced parameter without value", args: []string{"ListVpcEndpoints", "--force", "--Bogus"}, wantErr: "--Bogus needs a value"},
		{name: "stray argument", args: []string{"ListVpcEndpoints", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "bad method", args: []string{"ListVpcEndpoints", "--method", "PUT"}, wantErr: "POST or GET"},
		{name: "bad wait timeout", args: []string{"ListVpcEndpoints", "--wait-timeout", "soon"}, wantErr: "positive duration"},
		{name: "wait on a list", args: []string{"ListVpcEndpoints", "--wait", "Active"}, wantErr: "no object to wait for"},
		{name: "wait for a state the object has not", args: []string{"AddZoneToVpcEndpoint", "--wait", "Active"}, wantErr: "can wait for one of Connected, Connecting, Creating, Deleted, Deleting"},
		{name: "force takes no value", args: []string{"ListVpcEndpoints", "--force=yes"}, wantErr: "takes no value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseAPIArgs(tt.args)
			if tt.wantErr != "" {
				var ue *usageError
				if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.params != nil && !reflect.DeepEqual(r.params, tt.params) {
				t.Errorf("params = %v, want %v", r.params, tt.params)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// TestSignedRequestVectors checks the request the CLI builds against the
// SDK's own vectors (reference A3, A4).
func TestSignedRequestVectors(t *testing.T) {
	fixed := func(c *apiClient) {
		c.now = func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }
		c.nonce = func() string { return "0123456789abcdef0123456789abcdef" }
	}
	t.Run("DescribeRegions", func(t *testing.T) {
		c := &apiClient{keyID: "testid", secret: "testsecret", region: "cn-hangzhou", method: http.MethodPost}
		fixed(c)
		q, body := c.signedRequest("DescribeRegions", nil, false)
		if got := q.Get("Signature"); got != "wsKSaElwkV0JVXWBKrNzWuml8NA=" {
			t.Errorf("Signature = %s", got)
		}
		if len(body) != 0 {
			t.Errorf("body = %v, want empty", body)
		}
	})
	t.Run("CreateVpcEndpoint from the command line", func(t *testing.T) {
		r, err := parseAPIArgs([]string{"CreateVpcEndpoint", "--EndpointName", "my ep", "--SecurityGroupId.1", "sg-consumer1",
			"--ServiceId", "epsrv-demo1", "--Tag.1.Key", "env", "--Tag.1.Value", "dev", "--VpcId", "vpc-consumer1",
			"--Zone.1.VSwitchId", "vsw-consumer1-h", "--Zone.1.ZoneId", "cn-hangzhou-h", "--Zone.1.ip", "127.10.0.5"})
		if err != nil {
			t.Fatal(err)
		}
		c := &apiClient{keyID: consumerKey, secret: consumerSecret, region: "cn-hangzhou", method: http.MethodPost}
		fixed(c)
		q, _ := c.signedRequest(r.action.Name, r.params, r.action.Body)
		if got := q.Get("Signature"); got != "xgBejqCp0MV3i7gU5ysA2Cr2210=" {
			t.Errorf("Signature = %s", got)
		}
		want := "AccessKeyId=LTAIconsumer000002&Action=CreateVpcEndpoint&EndpointName=my+ep&Format=JSON&RegionId=cn-hangzhou" +
			"&SecurityGroupId.1=sg-consumer1&ServiceId=epsrv-demo1&Signature=xgBejqCp0MV3i7gU5ysA2Cr2210%3D&SignatureMethod=HMAC-SHA1" +
			"&SignatureNonce=0123456789abcdef0123456789abcdef&SignatureType=&SignatureVersion=1.0&Tag.1.Key=env&Tag.1.Value=dev" +
			"&Timestamp=2024-01-02T03%3A04%3A05Z&Version=2020-04-15&VpcId=vpc-consumer1&Zone.1.VSwitchId=vsw-consumer1-h" +
			"&Zone.1.ZoneId=cn-hangzhou-h&Zone.1.ip=127.10.0.5"
		if got := q.Encode(); got != want {
			t.Errorf("query\n got %s\nwant %s", got, want)
		}
	})
}

// fakeAPI is an rpc.Server with test handlers behind an httptest server;
// it records where each request carried its parameters.
type fakeAPI struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	method string
	query  url.Values
	body   url.Values
	call   *rpc.Call
}

func newFakeAPI(t *testing.T, actions map[string]rpc.Handler, extra http.Handler) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	wrapped := map[string]rpc.Handler{}
	for name, h := range actions {
		wrapped[name] = func(ctx context.Context, c *rpc.Call) (any, error) {
			f.mu.Lock()
			f.seen[len(f.seen)-1].call = c
			f.mu.Unlock()
			return h(ctx, c)
		}
	}
	srv := &rpc.Server{
		Version: apiVersion, HostID: "privatelink.cn-hangzhou.aliyuncs.com", Product: "Privatelink",
		Actions: wrapped,
		Credentials: func(id string) (string, string, bool) {
			if id == consumerKey {
				return consumerSecret, consumerUID, true
			}
			return "", "", false
		},
	}
	mux := http.NewServeMux()
	if extra != nil {
		mux.Handle("/metrics", extra)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		body, _ := url.ParseQuery(string(data))
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{method: r.Method, query: r.URL.Query(), body: body})
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(data))
		srv.ServeHTTP(w, r)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) last() seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[len(f.seen)-1]
}

// cliEnv points the CLI at no profile file and at the consumer's keys.
func cliEnv(t *testing.T) {
	t.Setenv("EPLINK_CONFIG", filepath.Join(t.TempDir(), "none.json"))
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", consumerKey)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", consumerSecret)
}

func TestAPICommand(t *testing.T) {
	cliEnv(t)
	api := newFakeAPI(t, map[string]rpc.Handler{
		"GetVpcEndpointAttribute": func(ctx context.Context, c *rpc.Call) (any, error) {
			if c.Params.Get("EndpointId") != "ep-1" {
				return nil, rpc.Errorf(400, "EndpointNotFound", "The specified endpoint %s is not found.", c.Params.Get("EndpointId"))
			}
			return map[string]any{"EndpointId": "ep-1", "EndpointStatus": "Active", "Bandwidth": 1024,
				"Zones": []any{map[string]any{"ZoneId": "cn-hangzhou-h", "EniIp": "127.10.0.5"}}}, nil
		},
		"TagResources": func(ctx context.Context, c *rpc.Call) (any, error) {
			return map[string]any{}, nil
		},
	}, nil)
	host := strings.TrimPrefix(api.URL, "http://")

	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // exact, or substring when contains
		contains   bool
		stderr     string // substring
		check      func(t *testing.T, s seenRequest)
		noRequests bool
	}{
		{
			name: "success is pretty JSON",
			args: []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1"},
			stdout: `
  "Bandwidth": 1024,
  "EndpointId": "ep-1",
  "EndpointStatus": "Active",
  "Zones": [
    {
      "EniIp": "127.10.0.5",`, contains: true,
			check: func(t *testing.T, s seenRequest) {
				if s.method != http.MethodPost || s.query.Get("EndpointId") != "ep-1" || len(s.body) != 0 {
					t.Errorf("request: %s query=%v body=%v", s.method, s.query, s.body)
				}
				if s.call.CallerUID != consumerUID || s.call.RegionID != "cn-hangzhou" {
					t.Errorf("call: %+v", s.call)
				}
			},
		},
		{
			name:   "cli-query prints a bare string",
			args:   []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--cli-query", "Zones[0].EniIp"},
			stdout: "127.10.0.5\n",
		},
		{
			name:   "cli-query number and object",
			args:   []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--cli-query", "Zones.0"},
			stdout: "{\n  \"EniIp\": \"127.10.0.5\",\n  \"ZoneId\": \"cn-hangzhou-h\"\n}\n",
		},
		{
			name: "cli-query missing field",
			args: []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--cli-query", "Zones[3].EniIp"},
			code: 1, stderr: "--cli-query Zones[3].EniIp: selects nothing in the response",
		},
		{
			name:   "cli-query is JMESPath: projection",
			args:   []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--cli-query", "Zones[*].ZoneId"},
			stdout: "[\n  \"cn-hangzhou-h\"\n]\n",
		},
		{
			name:   "cli-query is JMESPath: multiselect hash",
			args:   []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--cli-query", "{id:EndpointId,bw:Bandwidth}"},
			stdout: "{\n  \"bw\": 1024,\n  \"id\": \"ep-1\"\n}\n",
		},
		{
			name:   "cli-query is JMESPath: filter and function",
			args:   []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--cli-query", "length(Zones[?ZoneId=='cn-hangzhou-h'])"},
			stdout: "1\n",
		},
		{
			name:   "cli-query number",
			args:   []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--cli-query", "Bandwidth"},
			stdout: "1024\n",
		},
		{
			name: "cli-query syntax error",
			args: []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--cli-query", "Zones[0"},
			code: 1, stderr: "--cli-query Zones[0: not a JMESPath expression",
		},
		{
			name: "API error: Code, Message, RequestId on stderr, exit 1",
			args: []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-nope"},
			code: 1, stderr: "eplink api: EndpointNotFound (HTTP 400): The specified endpoint ep-nope is not found.\nRequestId: ",
		},
		{
			name:   "TagResources travels in the form body",
			args:   []string{"TagResources", "--ResourceType", "VpcEndpoint", "--ResourceId.1", "ep-1", "--Tag.1.Key", "env", "--Tag.1.Value", "dev"},
			stdout: "RequestId", contains: true,
			check: func(t *testing.T, s seenRequest) {
				if s.body.Get("ResourceId.1") != "ep-1" || s.body.Get("Tag.1.Key") != "env" || s.query.Has("ResourceId.1") {
					t.Errorf("query=%v body=%v", s.query, s.body)
				}
				if s.query.Get("Action") != "TagResources" || s.query.Get("Signature") == "" {
					t.Errorf("common params not in the query: %v", s.query)
				}
				if got := s.call.Params.Get("ResourceId.1"); got != "ep-1" {
					t.Errorf("server saw ResourceId.1=%q", got)
				}
			},
		},
		{
			name:   "GET carries everything in the query, signed",
			args:   []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--method", "GET"},
			stdout: "ep-1", contains: true,
			check: func(t *testing.T, s seenRequest) {
				if s.method != http.MethodGet {
					t.Errorf("method %s", s.method)
				}
			},
		},
		{
			name:   "--signature v3: action and version in headers, signed with ACS3-HMAC-SHA256",
			args:   []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--signature", "v3"},
			stdout: `"EndpointId": "ep-1"`, contains: true,
			check: func(t *testing.T, s seenRequest) {
				if s.query.Get("EndpointId") != "ep-1" || s.query.Get("RegionId") != "cn-hangzhou" ||
					s.query.Has("Action") || s.query.Has("Signature") || s.query.Has("SignatureNonce") {
					t.Errorf("query %v", s.query)
				}
				if s.call.CallerUID != consumerUID || s.call.RegionID != "cn-hangzhou" || s.call.Params.Get("EndpointId") != "ep-1" {
					t.Errorf("call: %+v", s.call)
				}
			},
		},
		{
			name:   "--signature v3: TagResources travels in the form body",
			args:   []string{"TagResources", "--ResourceType", "VpcEndpoint", "--ResourceId.1", "ep-1", "--signature=V3"},
			stdout: "RequestId", contains: true,
			check: func(t *testing.T, s seenRequest) {
				if s.body.Get("ResourceId.1") != "ep-1" || s.query.Has("ResourceId.1") || s.query.Has("Signature") {
					t.Errorf("query=%v body=%v", s.query, s.body)
				}
			},
		},
		{
			name:   "--signature v3 with GET",
			args:   []string{"TagResources", "--ResourceType", "VpcEndpoint", "--ResourceId.1", "ep-1", "--signature", "v3", "--method", "GET"},
			stdout: "RequestId", contains: true,
			check: func(t *testing.T, s seenRequest) {
				if s.method != http.MethodGet || s.query.Get("ResourceId.1") != "ep-1" {
					t.Errorf("%s query=%v", s.method, s.query)
				}
			},
		},
		{
			name: "--signature v3 with a wrong secret is the server's SignatureDoesNotMatch",
			args: []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--signature", "v3", "--access-key-secret", "wrong"},
			code: 1, stderr: "SignatureDoesNotMatch (HTTP 400): Specified signature is not matched with our calculation. server string to sign is:ACS3-HMAC-SHA256",
		},
		{
			name: "--signature v2: usage error, no request",
			args: []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--signature", "v2"},
			code: 2, stderr: "--signature must be v1 or v3", noRequests: true,
		},
		{
			name: "wrong secret is the server's SignatureDoesNotMatch",
			args: []string{"GetVpcEndpointAttribute", "--EndpointId", "ep-1", "--access-key-secret", "wrong"},
			code: 1, stderr: "SignatureDoesNotMatch (HTTP 400)",
		},
		{
			name: "unknown parameter: usage error, exit 2, no request",
			args: []string{"GetVpcEndpointAttribute", "--EndpointID", "ep-1"},
			code: 2, stderr: "did you mean --EndpointId?", noRequests: true,
		},
		{
			name:   "action help lists rules",
			args:   []string{"UpdateVpcEndpointZoneConnectionResourceAttribute", "--help"},
			stdout: "--ResourceReplaceMode   optional, string, one of Graceful|Force; zone Connected or Disconnected,", contains: true, noRequests: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api.mu.Lock()
			before := len(api.seen)
			api.mu.Unlock()
			var stdout, stderr bytes.Buffer
			args := append([]string{"api", "--endpoint", host}, tt.args...)
			code := run(args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if tt.contains && !strings.Contains(stdout.String(), tt.stdout) ||
				!tt.contains && tt.stdout != "" && stdout.String() != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr.String(), tt.stderr)
			}
			api.mu.Lock()
			after := len(api.seen)
			api.mu.Unlock()
			if tt.noRequests && after != before {
				t.Errorf("%d requests sent, want none", after-before)
			}
			if tt.check != nil {
				tt.check(t, api.last())
			}
		})
	}
}

func TestAPIHelpListsEveryAction(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"api", "--help"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, a := range catalog {
		if !strings.Contains(out.String(), "  "+a.Name+" ") {
			t.Errorf("help does not list %s", a.Name)
		}
	}
}

func TestCredentialsFromProfile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	t.Setenv("EPLINK_CONFIG", path)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
	pf := &profileFile{Endpoint: "127.0.0.1:18080", Region: "cn-shanghai", Current: "provider", Profiles: map[string]profile{
		"provider": {AccessKeyID: "LTAIprovider000001", AccessKeySecret: "provider-secret-1", UID: "1000000000000001"},
		"consumer": {AccessKeyID: consumerKey, AccessKeySecret: consumerSecret, UID: consumerUID},
	}}
	if _, err := saveProfile(pf); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name                             string
		keyID, secret, profile, endpoint string
		env                              map[string]string
		wantKey, wantURL, wantRegion     string
		wantErr                          string
	}{
		{name: "current profile", wantKey: "LTAIprovider000001", wantURL: "http://127.0.0.1:18080", wantRegion: "cn-shanghai"},
		{name: "named profile", profile: "consumer", wantKey: consumerKey, wantURL: "http://127.0.0.1:18080", wantRegion: "cn-shanghai"},
		{name: "environment beats the current profile", env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "envkey", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"}, wantKey: "envkey", wantURL: "http://127.0.0.1:18080", wantRegion: "cn-shanghai"},
		{name: "flags beat everything", keyID: "flagkey", secret: "s", profile: "consumer", endpoint: "http://127.0.0.2:9", wantKey: "flagkey", wantURL: "http://127.0.0.2:9", wantRegion: "cn-shanghai"},
		{name: "unknown profile", profile: "nobody", wantErr: "no such profile (have consumer, provider)"},
		{name: "bad endpoint", endpoint: "http://", wantErr: "want HOST:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newAPIClient(tt.keyID, tt.secret, tt.profile, tt.endpoint, "", env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.keyID != tt.wantKey || c.baseURL != tt.wantURL || c.region != tt.wantRegion {
				t.Errorf("got key %s url %s region %s", c.keyID, c.baseURL, c.region)
			}
		})
	}
	t.Run("no keys anywhere", func(t *testing.T) {
		t.Setenv("EPLINK_CONFIG", filepath.Join(dir, "missing.json"))
		_, err := newAPIClient("", "", "", "", "", env(nil))
		if err == nil || !strings.Contains(err.Error(), "ALIBABA_CLOUD_ACCESS_KEY_ID") {
			t.Fatalf("err = %v", err)
		}
	})
}

// sequence answers with the next state on each call and then keeps the last.
type sequence struct {
	mu     sync.Mutex
	states []string
	calls  int
}

func (s *sequence) next() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := min(s.calls, len(s.states)-1)
	s.calls++
	return s.states[i]
}

func TestWait(t *testing.T) {
	cliEnv(t)
	endpoint := &sequence{states: []string{"Creating", "Creating", "Active"}}
	conn := &sequence{states: []string{"Connecting", "Connected"}}
	zone := &sequence{states: []string{"Connected", "Migrating", "Migrating", "Migrated"}}
	consumerZone := &sequence{states: []string{"Creating", "Wait", "gone"}}
	service := &sequence{states: []string{"Pending", "Active", "gone"}}
	api := newFakeAPI(t, map[string]rpc.Handler{
		"GetVpcEndpointAttribute": func(ctx context.Context, c *rpc.Call) (any, error) {
			return map[string]any{"EndpointId": "ep-1", "EndpointStatus": endpoint.next(), "ConnectionStatus": "Disconnected"}, nil
		},
		"GetVpcEndpointServiceAttribute": func(ctx context.Context, c *rpc.Call) (any, error) {
			s := service.next()
			if s == "gone" {
				return nil, rpc.Errorf(400, "EndpointServiceNotFound", "The specified service is not found.")
			}
			return map[string]any{"ServiceId": "epsrv-1", "ServiceStatus": s}, nil
		},
		"ListVpcEndpointConnections": func(ctx context.Context, c *rpc.Call) (any, error) {
			// ep-1's connection changes state, ep-2's zone does.
			ep := c.Params.Get("EndpointId")
			connStatus, zoneStatus := "Connected", "Connected"
			switch {
			case c.Params.Get("ServiceId") != "epsrv-1":
				return map[string]any{"Connections": []any{}}, nil
			case ep == "ep-1":
				connStatus = conn.next()
			case ep == "ep-2":
				zoneStatus = zone.next()
			}
			return map[string]any{"Connections": []any{map[string]any{
				"EndpointId": ep, "EndpointOwnerId": 1000000000000002, "ConnectionStatus": connStatus,
				"Zones": []any{map[string]any{"ZoneId": "cn-hangzhou-h", "ZoneStatus": zoneStatus}},
			}}}, nil
		},
		"ListVpcEndpointZones": func(ctx context.Context, c *rpc.Call) (any, error) {
			s := consumerZone.next()
			if s == "gone" {
				return map[string]any{"Zones": []any{}}, nil
			}
			return map[string]any{"Zones": []any{map[string]any{"ZoneId": "cn-hangzhou-i", "ZoneStatus": s}}}, nil
		},
	}, nil)
	c, err := newAPIClient("", "", "", api.URL, "", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		action   string
		params   map[string]string
		answer   string
		want     string
		timeout  time.Duration
		progress string
		wantErr  string
	}{
		{name: "endpoint created: id from the answer", action: "CreateVpcEndpoint", answer: `{"EndpointId":"ep-1"}`, want: "Active",
			progress: "waiting: EndpointStatus of ep-1 is Creating, want Active\nEndpointStatus of ep-1 is Active\n"},
		{name: "provider accepts: connection status", action: "EnableVpcEndpointConnection",
			params: map[string]string{"ServiceId": "epsrv-1", "EndpointId": "ep-1"}, want: "Connected",
			progress: "waiting: ConnectionStatus of ep-1 to epsrv-1 is Connecting, want Connected\nConnectionStatus of ep-1 to epsrv-1 is Connected\n"},
		{name: "graceful migration: zone status from the provider's connection", action: "UpdateVpcEndpointZoneConnectionResourceAttribute",
			params: map[string]string{"ServiceId": "epsrv-1", "EndpointId": "ep-2", "ZoneId": "cn-hangzhou-h"}, want: "Migrated",
			progress: "waiting: ZoneStatus of ep-2 in cn-hangzhou-h is Connected, want Migrated\nwaiting: ZoneStatus of ep-2 in cn-hangzhou-h is Migrating, want Migrated\nZoneStatus of ep-2 in cn-hangzhou-h is Migrated\n"},
		{name: "consumer zone removed", action: "RemoveZoneFromVpcEndpoint",
			params: map[string]string{"EndpointId": "ep-1", "ZoneId": "cn-hangzhou-i"}, want: "Deleted",
			progress: "waiting: ZoneStatus of ep-1 in cn-hangzhou-i is Creating, want Deleted\nwaiting: ZoneStatus of ep-1 in cn-hangzhou-i is Wait, want Deleted\nZoneStatus of ep-1 in cn-hangzhou-i is Deleted\n"},
		{name: "service deleted: NotFound means gone", action: "DeleteVpcEndpointService",
			params: map[string]string{"ServiceId": "epsrv-1"}, want: "Deleted",
			progress: "waiting: ServiceStatus of epsrv-1 is Pending, want Deleted\nwaiting: ServiceStatus of epsrv-1 is Active, want Deleted\nServiceStatus of epsrv-1 is Deleted\n"},
		{name: "timeout names the last state", action: "GetVpcEndpointAttribute",
			params: map[string]string{"EndpointId": "ep-1"}, want: "Connected", timeout: 100 * time.Millisecond,
			wantErr: "--wait Connected: ConnectionStatus of ep-1 still Disconnected after 100ms"},
		{name: "missing id", action: "EnableVpcEndpointConnection", params: map[string]string{"ServiceId": "epsrv-1"}, want: "Connected",
			wantErr: "EndpointId to wait for is not known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := lookupAction(tt.action)
			var progress bytes.Buffer
			w := waiter{c: c, interval: 5 * time.Millisecond, progress: &progress}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			err := w.wait(context.Background(), a, tt.params, []byte(orDefault(tt.answer, "{}")), tt.want, timeout)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if progress.String() != tt.progress {
				t.Errorf("progress:\n%s\nwant:\n%s", progress.String(), tt.progress)
			}
		})
	}
}

// TestCatalogCoversSDK checks the catalog against the official SDK's
// request types: every action the SDK can call is there, with every
// parameter the SDK can send, in the right place.
func TestCatalogCoversSDK(t *testing.T) {
	ct := reflect.TypeOf(&privatelink.Client{})
	checked := 0
	for i := 0; i < ct.NumMethod(); i++ {
		m := ct.Method(i)
		if m.Type.NumIn() != 2 || m.Type.NumOut() != 2 || strings.Contains(m.Name, "With") {
			continue
		}
		reqType := m.Type.In(1)
		if reqType.Kind() != reflect.Pointer || reqType.Elem().Name() != m.Name+"Request" {
			continue
		}
		checked++
		a, ok := lookupAction(m.Name)
		if !ok {
			t.Errorf("catalog lacks %s", m.Name)
			continue
		}
		inBody := false
		for _, name := range sdkParams(reqType.Elem(), &inBody) {
			if p, err := a.findParam(strings.ReplaceAll(name, ".N", ".1")); p == nil || err != nil {
				t.Errorf("%s: catalog lacks parameter %s", m.Name, name)
			}
		}
		if inBody != a.Body {
			t.Errorf("%s: SDK sends parameters in the body: %v, catalog says %v", m.Name, inBody, a.Body)
		}
	}
	if checked < 35 {
		t.Errorf("only %d SDK actions found; the reflection walk is broken", checked)
	}
}

// sdkParams flattens an SDK request struct into parameter names as the
// SDK sends them (X, X.N, X.N.Field).
func sdkParams(t reflect.Type, inBody *bool) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("name")
		if name == "" {
			continue
		}
		if f.Tag.Get("position") == "Body" {
			*inBody = true
		}
		if f.Tag.Get("type") != "Repeated" {
			names = append(names, name)
			continue
		}
		elem := f.Type
		for elem.Kind() == reflect.Pointer || elem.Kind() == reflect.Slice {
			elem = elem.Elem()
		}
		if elem.Kind() != reflect.Struct {
			names = append(names, name+".N")
			continue
		}
		for j := 0; j < elem.NumField(); j++ {
			if sub := elem.Field(j).Tag.Get("name"); sub != "" {
				names = append(names, name+".N."+sub)
			}
		}
	}
	return names
}

func TestCatalogIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range catalog {
		if seen[a.Name] {
			t.Errorf("%s listed twice", a.Name)
		}
		seen[a.Name] = true
		params := map[string]bool{}
		for _, p := range a.Params {
			if params[p.Name] {
				t.Errorf("%s: %s listed twice", a.Name, p.Name)
			}
			params[p.Name] = true
			if p.Type != "string" && p.Type != "integer" && p.Type != "boolean" {
				t.Errorf("%s: %s has type %q", a.Name, p.Name, p.Type)
			}
		}
	}
}

// FuzzCLIQuery: a query either selects something or says why; the same
// query on the same document always answers the same.
func FuzzCLIQuery(f *testing.F) {
	f.Add(`{"Zones":[{"EniIp":"127.0.0.1"}]}`, "Zones[0].EniIp")
	f.Add(`{"a":{"b":[1,2,3]}}`, "a.b.2")
	f.Add(`{"a":[{"n":"x"}]}`, "a[?n=='x'].{m:n}")
	f.Add(`[]`, "[")
	f.Add(`{"a":[{"b":{"c":null}},7]}`, "a[0]")
	f.Fuzz(func(t *testing.T, doc, query string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		got, err := cliQuery(v, query)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error that says nothing")
			}
			return
		}
		if got == nil {
			t.Fatalf("%q selects nil without an error", query)
		}
		if again, err := cliQuery(v, query); err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("%q answered %v, then %v, %v", query, got, again, err)
		}
	})
}

// FuzzParseAPIArgs: every command line either fails with a usage error or
// names an action (or asks for help); and a parsed request written back as
// a command line (action, --Param=value, flags) parses to the same
// request: nothing is lost, added or reinterpreted on the way.
func FuzzParseAPIArgs(f *testing.F) {
	f.Add("CreateVpcEndpoint --Zone.1.ZoneId x --DryRun true")
	f.Add("--wait Active GetVpcEndpointAttribute --EndpointId=e")
	f.Add("TagResources --ResourceId.100 x --Tag.99.Key=k")
	f.Add("--force ListVpcEndpoints --Nope=1 --method get --wait-timeout 3s --wait-interval=15ms --cli-query Endpoints[0]")
	f.Fuzz(func(t *testing.T, line string) {
		r, err := parseAPIArgs(strings.Fields(line))
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("%q: %T %v, want a usage error", line, err, err)
			}
			return
		}
		if r.action == nil && !r.help {
			t.Fatalf("no action and no error for %q", line)
		}
		if r.help {
			return
		}
		args := []string{r.action.Name, "--method=" + r.method,
			"--wait-timeout=" + r.waitTimeout.String(), "--wait-interval=" + r.waitEvery.String()}
		for flag, v := range map[string]string{"access-key-id": r.keyID, "access-key-secret": r.secret,
			"profile": r.profile, "endpoint": r.endpoint, "region": r.region, "wait": r.wait, "cli-query": r.query,
			"signature": r.signature} {
			if v != "" {
				args = append(args, "--"+flag+"="+v)
			}
		}
		if r.force {
			args = append(args, "--force")
		}
		for k, v := range r.params {
			args = append(args, "--"+k+"="+v)
		}
		back, err := parseAPIArgs(args)
		if err != nil {
			t.Fatalf("%q parsed, but written back as %q: %v", line, args, err)
		}
		if back.action != r.action || !maps.Equal(back.params, r.params) || back.keyID != r.keyID ||
			back.secret != r.secret || back.profile != r.profile || back.endpoint != r.endpoint ||
			back.region != r.region || back.method != r.method || back.wait != r.wait ||
			back.waitTimeout != r.waitTimeout || back.waitEvery != r.waitEvery || back.query != r.query ||
			back.force != r.force || back.signature != r.signature {
			t.Fatalf("%q and its rewrite %q parse differently:\n%+v\n%+v", line, args, *r, *back)
		}
	})
}

// TestAgainstControlPlane drives the CLI against the real control plane,
// transitional states included, through the guide's walkthrough.
func TestAgainstControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	t.Setenv("EPLINK_CONFIG", filepath.Join(t.TempDir(), "none.json"))
	env := apitest.New(t, apitest.Options{TransitionDelay: 30 * time.Millisecond})
	cli := func(t *testing.T, wantCode int, ak, sk string, args ...string) (stdout, stderr string) {
		t.Helper()
		var out, errOut bytes.Buffer
		full := append([]string{"api", "--endpoint", env.Addr, "--access-key-id", ak, "--access-key-secret", sk,
			"--wait-timeout", "10s", "--wait-interval", "20ms"}, args...)
		if code := run(full, &out, &errOut); code != wantCode {
			t.Fatalf("eplink api %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, errOut.String())
		}
		return strings.TrimSpace(out.String()), errOut.String()
	}
	provider := func(args ...string) string {
		t.Helper()
		out, _ := cli(t, 0, apitest.ProviderAK, apitest.ProviderSK, args...)
		return out
	}
	consumer := func(args ...string) string {
		t.Helper()
		out, _ := cli(t, 0, apitest.ConsumerAK, apitest.ConsumerSK, args...)
		return out
	}

	svc := provider("CreateVpcEndpointService", "--Resource.1.ResourceType", "slb", "--Resource.1.ResourceId", apitest.CLB1,
		"--Resource.1.ZoneId", apitest.ZoneH, "--cli-query", "ServiceId", "--wait", "Active")
	provider("AddUserToVpcEndpointService", "--ServiceId", svc, "--UserId", apitest.ConsumerUID, "--wait", "Active")
	ep := consumer("CreateVpcEndpoint", "--VpcId", apitest.VPCConsumer, "--ServiceId", svc,
		"--SecurityGroupId.1", apitest.SGConsumer, "--Zone.1.ZoneId", apitest.ZoneH, "--Zone.1.VSwitchId", apitest.VSwConsumerH,
		"--cli-query", "EndpointId", "--wait", "Active")
	if !strings.HasPrefix(svc, "epsrv-") || !strings.HasPrefix(ep, "ep-") {
		t.Fatalf("ids %q %q", svc, ep)
	}
	provider("EnableVpcEndpointConnection", "--ServiceId", svc, "--EndpointId", ep, "--wait", "Connected")
	consumer("GetVpcEndpointAttribute", "--EndpointId", ep, "--wait", "Connected")
	provider("ListVpcEndpointConnections", "--ServiceId", svc) // a provider-side list works
	provider("AttachResourceToVpcEndpointService", "--ServiceId", svc, "--ResourceId", apitest.CLB3, "--ResourceType", "slb",
		"--ZoneId", apitest.ZoneI, "--wait", "Active")
	consumer("AddZoneToVpcEndpoint", "--EndpointId", ep, "--ZoneId", apitest.ZoneI, "--VSwitchId", apitest.VSwConsumerI,
		"--wait", "Connected")

	// DryRun success is an API error, exit 1, and changes nothing.
	_, stderr := cli(t, 1, apitest.ConsumerAK, apitest.ConsumerSK, "RemoveZoneFromVpcEndpoint", "--EndpointId", ep,
		"--ZoneId", apitest.ZoneI, "--DryRun", "true")
	if !strings.Contains(stderr, "DryRunOperation") || !strings.Contains(stderr, "RequestId: ") {
		t.Errorf("DryRun stderr: %s", stderr)
	}
	consumer("RemoveZoneFromVpcEndpoint", "--EndpointId", ep, "--ZoneId", apitest.ZoneI, "--wait", "Deleted")

	// Graceful migration to CLB2, then clean up the replaced resource.
	provider("AttachResourceToVpcEndpointService", "--ServiceId", svc, "--ResourceId", apitest.CLB2, "--ResourceType", "slb",
		"--ZoneId", apitest.ZoneH, "--wait", "Active")
	provider("UpdateVpcEndpointServiceResourceAttribute", "--ServiceId", svc, "--ResourceId", apitest.CLB1,
		"--ZoneId", apitest.ZoneH, "--AutoAllocatedEnabled", "false", "--wait", "Active")
	provider("UpdateVpcEndpointZoneConnectionResourceAttribute", "--ServiceId", svc, "--EndpointId", ep, "--ZoneId", apitest.ZoneH,
		"--ResourceReplaceMode", "Graceful", "--ResourceId", apitest.CLB2, "--ResourceType", "slb", "--wait", "Migrated")
	zone := func(field string) string {
		return consumer("ListVpcEndpointZones", "--EndpointId", ep, "--cli-query", "Zones[0]."+field)
	}
	if got := zone("ResourceId") + "/" + zone("ReplacedResourceId"); got != apitest.CLB2+"/"+apitest.CLB1 {
		t.Errorf("after Graceful: resource/replaced = %s", got)
	}

	// status shows the migrated zone from both sides (no /metrics here).
	for _, keys := range [][2]string{{apitest.ConsumerAK, apitest.ConsumerSK}, {apitest.ProviderAK, apitest.ProviderSK}} {
		var out, errOut bytes.Buffer
		code := run([]string{"status", "--endpoint", env.Addr, "--once", "--interval", "10ms",
			"--access-key-id", keys[0], "--access-key-secret", keys[1]}, &out, &errOut)
		if code != 0 {
			t.Fatalf("status: exit %d: %s", code, errOut.String())
		}
		if !strings.Contains(out.String(), "Migrated") || !strings.Contains(out.String(), apitest.CLB2+"  "+apitest.CLB1) {
			t.Errorf("status as %s:\n%s", keys[0], out.String())
		}
		// The service-linked role comes with an account's first endpoint.
		role := "service-linked role: " + controlplane.ServiceLinkedRoleName + " (created "
		if keys[0] == apitest.ProviderAK {
			role = "service-linked role: none yet"
		}
		if !strings.Contains(out.String(), role) {
			t.Errorf("status as %s: no %q in\n%s", keys[0], role, out.String())
		}
	}

	provider("DisableVpcEndpointZoneConnection", "--ServiceId", svc, "--EndpointId", ep, "--ZoneId", apitest.ZoneH,
		"--ReplacedResource", "true")
	apitest.Eventually(t, "replaced resource cleaned up", func() (bool, string) {
		out, _ := cli(t, 0, apitest.ConsumerAK, apitest.ConsumerSK, "ListVpcEndpointZones", "--EndpointId", ep)
		return !strings.Contains(out, apitest.CLB1), out
	})

	// Clean up in the order the API requires.
	provider("DisableVpcEndpointConnection", "--ServiceId", svc, "--EndpointId", ep, "--wait", "Disconnected")
	consumer("RemoveZoneFromVpcEndpoint", "--EndpointId", ep, "--ZoneId", apitest.ZoneH, "--wait", "Deleted")
	consumer("DeleteVpcEndpoint", "--EndpointId", ep, "--wait", "Deleted")
	// CLB1 is not auto-allocated: it goes before CLB2, the zone's last auto-allocated one.
	for _, clb := range []string{apitest.CLB3, apitest.CLB1, apitest.CLB2} {
		provider("DetachResourceFromVpcEndpointService", "--ServiceId", svc, "--ResourceId", clb, "--ResourceType", "slb",
			"--wait", "Active")
	}
	provider("DeleteVpcEndpointService", "--ServiceId", svc, "--wait", "Deleted")
}
