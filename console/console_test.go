package console_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
	"github.com/prometheus/client_golang/prometheus"

	"eplink/console"
	"eplink/controlplane/api"
	"eplink/controlplane/apitest"
)

// stack is a control plane (apitest's lab) with the console in front of
// its OpenAPI, as eplink serve mounts them.
type stack struct {
	*apitest.Env
	URL  string
	con  *console.Console
	reg  *prometheus.Registry
	now  time.Time
	mu   sync.Mutex
	ttl  time.Duration
	http *httptest.Server
}

func newStack(t *testing.T) *stack { return newStackMax(t, 0) }

func newStackMax(t *testing.T, maxSessions int) *stack {
	t.Helper()
	env := apitest.New(t, apitest.Options{})
	s := &stack{Env: env, reg: prometheus.NewRegistry(), now: time.Now(), ttl: time.Hour}
	mux := http.NewServeMux()
	apiH := api.New(env.CP, nil)
	s.con = console.New(console.Options{
		API: mux, Version: api.Version, Region: apitest.Region, Gatherer: s.reg,
		UIDOf: env.CP.Credentials, SessionTTL: s.ttl, Sample: time.Second, MaxSessions: maxSessions,
		Now: func() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now },
	})
	mux.Handle(console.Path, s.con)
	mux.Handle("/", console.RedirectBrowsers(apiH))
	s.http = httptest.NewServer(mux)
	t.Cleanup(s.http.Close)
	s.URL = s.http.URL
	return s
}

func (s *stack) advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
}

// browser is a cookie-keeping client, as a browser on the console's origin.
type browser struct {
	t    *testing.T
	s    *stack
	c    *http.Client
	csrf string
}

func (s *stack) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) (int, map[string]any, *http.Response) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.s.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, resp
}

func (b *browser) login(id, secret string) (int, map[string]any, *http.Response) {
	st, m, resp := b.do("POST", "/console/api/login", url.Values{"AccessKeyId": {id}, "AccessKeySecret": {secret}}, nil)
	if st == http.StatusOK {
		b.csrf, _ = m["CsrfToken"].(string)
	}
	return st, m, resp
}

// call is a console action with the session's CSRF token, same origin.
func (b *browser) call(action string, params map[string]string) (int, map[string]any) {
	b.t.Helper()
	f := url.Values{"Action": {action}}
	for k, v := range params {
		f.Set(k, v)
	}
	st, m, _ := b.do("POST", "/console/api/call", f, map[string]string{console.CSRFHeader: b.csrf, "Sec-Fetch-Site": "same-origin"})
	return st, m
}

func TestSignInCookieAndExpiry(t *testing.T) {
	s := newStack(t)
	b := s.browser(t)

	// A wrong secret gets the API's own refusal, and no session.
	st, m, resp := b.login(apitest.ConsumerAK, "not-the-secret")
	if st != http.StatusBadRequest || m["Code"] != "SignatureDoesNotMatch" || len(resp.Cookies()) != 0 {
		t.Fatalf("bad secret: %d %v cookies %v, want 400 SignatureDoesNotMatch and no cookie", st, m["Code"], resp.Cookies())
	}
	st, m, _ = b.login("LTAInobody", "x")
	if st != http.StatusNotFound || m["Code"] != "InvalidAccessKeyId.NotFound" {
		t.Fatalf("unknown key: %d %v", st, m)
	}

	st, m, resp = b.login(apitest.ConsumerAK, apitest.ConsumerSK)
	if st != http.StatusOK || m["Uid"] != apitest.ConsumerUID || b.csrf == "" {
		t.Fatalf("login: %d %v", st, m)
	}
	if _, ok := m["AccessKeySecret"]; ok {
		t.Fatal("the session answer carries the secret")
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == console.CookieName {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != console.Path || ck.MaxAge <= 0 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console/, Max-Age", ck)
	}
	if st, _ := b.call("ListVpcEndpoints", nil); st != http.StatusOK {
		t.Fatalf("call in session: %d", st)
	}
	s.advance(s.ttl + time.Second)
	if st, m := b.call("ListVpcEndpoints", nil); st != http.StatusUnauthorized || m["Code"] != "NotSignedIn" {
		t.Fatalf("after expiry: %d %v, want 401 NotSignedIn", st, m)
	}
	if st, _, _ := b.do("GET", "/console/api/session", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("session after expiry: %d", st)
	}
}

func TestSignOutEndsSession(t *testing.T) {
	s := newStack(t)
	b := s.browser(t)
	b.login(apitest.ConsumerAK, apitest.ConsumerSK)
	if st, _, _ := b.do("POST", "/console/api/logout", url.Values{}, map[string]string{}); st != http.StatusForbidden {
		t.Fatalf("logout without CSRF token: %d, want 403", st)
	}
	if st, _, _ := b.do("POST", "/console/api/logout", url.Values{}, map[string]string{console.CSRFHeader: b.csrf}); st != http.StatusOK {
		t.Fatalf("logout: %d", st)
	}
	if st, _ := b.call("ListVpcEndpoints", nil); st != http.StatusUnauthorized {
		t.Fatalf("call after logout: %d, want 401", st)
	}
}

// whitelist is the service's whitelisted UIDs, read with the SDK.
func whitelist(t *testing.T, s *stack, svc string) string {
	req := privatelink.CreateListVpcEndpointServiceUsersRequest()
	req.ServiceId = svc
	r, err := s.Provider.ListVpcEndpointServiceUsers(req)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range r.Users {
		out = append(out, json.Number(strings.TrimSpace(jsonString(u.UserId))).String())
	}
	return strings.Join(out, ",")
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestMutationsNeedCSRFTokenAndSameOrigin(t *testing.T) {
	s := newStack(t)
	svc := s.CreateService(t, false, apitest.Res{ID: apitest.CLB1, Zone: apitest.ZoneH})
	before := whitelist(t, s, svc)
	b := s.browser(t)
	b.login(apitest.ProviderAK, apitest.ProviderSK)
	add := url.Values{"Action": {"AddUserToVpcEndpointService"}, "ServiceId": {svc}, "UserId": {apitest.OutsiderUID}}
	cases := []struct {
		name string
		hdr  map[string]string
		code string
	}{
		{"no token", map[string]string{}, "Forbidden.CsrfToken"},
		{"wrong token", map[string]string{console.CSRFHeader: "0123"}, "Forbidden.CsrfToken"},
		{"cross-site fetch", map[string]string{console.CSRFHeader: b.csrf, "Sec-Fetch-Site": "cross-site"}, "Forbidden.CrossOrigin"},
		{"other origin", map[string]string{console.CSRFHeader: b.csrf, "Origin": "http://attacker.example"}, "Forbidden.CrossOrigin"},
	}
	for _, c := range cases {
		st, m, _ := b.do("POST", "/console/api/call", add, c.hdr)
		if st != http.StatusForbidden || m["Code"] != c.code {
			t.Errorf("%s: %d %v, want 403 %s", c.name, st, m, c.code)
		}
	}
	if got := whitelist(t, s, svc); got != before {
		t.Fatalf("refused requests changed the whitelist: %s, was %s", got, before)
	}
	// The same request, same origin with the token, goes through the API.
	if st, m := b.call("AddUserToVpcEndpointService", map[string]string{"ServiceId": svc, "UserId": apitest.OutsiderUID}); st != http.StatusOK {
		t.Fatalf("same-origin call: %d %v", st, m)
	}
	if got := whitelist(t, s, svc); !strings.Contains(got, apitest.OutsiderUID) {
		t.Fatalf("whitelist %s lacks the added account", got)
	}
}

func TestSessionSeesWhatItsAccountSees(t *testing.T) {
	s := newStack(t)
	svc := s.CreateService(t, true, apitest.Res{ID: apitest.CLB1, Zone: apitest.ZoneH})
	s.AddUser(t, svc, apitest.ConsumerUID)
	ep := s.CreateEndpoint(t, svc, apitest.EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: apitest.ZoneH, VSwitchId: apitest.VSwConsumerH}}})

	consumer, outsider, provider := s.browser(t), s.browser(t), s.browser(t)
	consumer.login(apitest.ConsumerAK, apitest.ConsumerSK)
	outsider.login(apitest.OutsiderAK, apitest.OutsiderSK)
	provider.login(apitest.ProviderAK, apitest.ProviderSK)

	// The API's answers, whatever the browser claims: an AccessKeyId or
	// Signature in the form cannot make the call another account's.
	st, m := outsider.call("GetVpcEndpointAttribute", map[string]string{"EndpointId": ep, "AccessKeyId": apitest.ConsumerAK})
	if st != http.StatusNotFound || m["Code"] != "EndpointNotFound" {
		t.Fatalf("outsider reads the consumer's endpoint: %d %v", st, m)
	}
	if st, m := consumer.call("GetVpcEndpointAttribute", map[string]string{"EndpointId": ep}); st != http.StatusOK || m["EndpointId"] != ep {
		t.Fatalf("consumer reads its endpoint: %d %v", st, m)
	}
	if _, m := outsider.call("ListVpcEndpointServicesByEndUser", nil); len(m["Services"].([]any)) != 0 {
		t.Fatalf("outsider sees services it is not whitelisted for: %v", m["Services"])
	}

	// Data plane figures for this endpoint and for one nobody here owns.
	flows := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eplink_dataplane_flows_active"}, []string{"endpoint_id", "service_id", "resource_id", "zone_id"})
	up := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eplink_dataplane_backend_up"}, []string{"resource_id", "backend"})
	s.reg.MustRegister(flows, up)
	flows.WithLabelValues(ep, svc, apitest.CLB1, apitest.ZoneH).Set(3)
	flows.WithLabelValues("ep-someoneelse", "epsrv-someoneelse", "lb-other", apitest.ZoneH).Set(7)
	up.WithLabelValues(apitest.CLB1, "ECS01").Set(1)
	up.WithLabelValues("lb-other", "ECS09").Set(1)
	s.con.Sample()

	topo := func(b *browser) map[string]any {
		st, m, _ := b.do("GET", "/console/api/topology", nil, nil)
		if st != http.StatusOK {
			t.Fatalf("topology: %d %v", st, m)
		}
		return m
	}
	text := func(v any) string { return jsonString(v) }
	if o := topo(outsider); len(o["Endpoints"].([]any)) != 0 || len(o["Resources"].([]any)) != 0 {
		t.Fatalf("outsider's topology: %s", text(o))
	}
	c := text(topo(consumer))
	if !strings.Contains(c, ep) || !strings.Contains(c, `"Flows":3`) || strings.Contains(c, "ECS01") || strings.Contains(c, "someoneelse") {
		t.Fatalf("consumer's topology (own endpoint with 3 flows, no provider backends, nothing else): %s", c)
	}
	p := text(topo(provider))
	if !strings.Contains(p, ep) || !strings.Contains(p, "ECS01") || strings.Contains(p, "ECS09") || strings.Contains(p, "someoneelse") {
		t.Fatalf("provider's topology (connection and own backends only): %s", p)
	}
	metrics := func(b *browser) string {
		st, m, _ := b.do("GET", "/console/api/metrics", nil, nil)
		if st != http.StatusOK {
			t.Fatalf("metrics: %d", st)
		}
		return text(m["Series"])
	}
	if o := metrics(outsider); o != "[]" {
		t.Fatalf("outsider's metrics: %s", o)
	}
	if c := metrics(consumer); !strings.Contains(c, ep) || strings.Contains(c, "someoneelse") || strings.Contains(c, "ECS") {
		t.Fatalf("consumer's metrics: %s", c)
	}
}

func TestBrowserAtRootGoesToConsole(t *testing.T) {
	s := newStack(t)
	b := s.browser(t)
	st, _, resp := b.do("GET", "/", nil, map[string]string{"Accept": "text/html,application/xhtml+xml"})
	if st != http.StatusFound || resp.Header.Get("Location") != console.Path {
		t.Fatalf("browser at /: %d %q", st, resp.Header.Get("Location"))
	}
	// An API client at / still gets the API's answer.
	st, m, _ := b.do("GET", "/", nil, nil)
	if st == http.StatusFound || m["Code"] == nil {
		t.Fatalf("API client at /: %d %v", st, m)
	}
	st, _, resp = b.do("GET", "/console/", nil, nil)
	if st != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("console page: %d CSP %q", st, resp.Header.Get("Content-Security-Policy"))
	}
}

func TestSessionsAreBounded(t *testing.T) {
	s := newStackMax(t, 2)
	for i := 0; i < 2; i++ {
		if st, m, _ := s.browser(t).login(apitest.ConsumerAK, apitest.ConsumerSK); st != http.StatusOK {
			t.Fatalf("sign-in %d: %d %v", i, st, m)
		}
	}
	b := s.browser(t)
	if st, m, resp := b.login(apitest.ConsumerAK, apitest.ConsumerSK); st != http.StatusTooManyRequests || m["Code"] != "Throttling.Sessions" || len(resp.Cookies()) != 0 {
		t.Fatalf("third sign-in: %d %v, want 429 Throttling.Sessions and no cookie", st, m)
	}
	s.advance(s.ttl + time.Second) // the two expire
	if st, m, _ := b.login(apitest.ConsumerAK, apitest.ConsumerSK); st != http.StatusOK {
		t.Fatalf("sign-in after expiry: %d %v", st, m)
	}
}
