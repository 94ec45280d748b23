// Package console is eplink's web console: the pages of the product guide
// (endpoint services with their service resources, endpoint connections and
// whitelist tabs; endpoints and their wizard; monitoring; a live topology),
// served at /console/ on the API address, with every asset embedded.
//
// The console is a client of the OpenAPI, not a second implementation of
// it. A signed-in session holds the AccessKey pair it signed in with; each
// action the browser asks for is signed with that pair (signature v1, as
// the SDK signs) and handed to the same rpc.Server the SDK reaches, in
// process. So a session sees and may do exactly what its account may do
// through the API, and a rejected call shows the API's own Code and
// Message:
//
//	browser ─► POST /console/api/call (cookie, X-CSRF-Token, same origin)
//	        ─► session's AccessKey signs Action+params ─► rpc.Server ─► handler
//
// Sessions: an HttpOnly, SameSite=Strict cookie naming a random token that
// expires (Options.SessionTTL). Every POST needs the session's CSRF token in
// the X-CSRF-Token header, and cross-origin POSTs are refused before that
// (http.CrossOriginProtection: Sec-Fetch-Site, then Origin against Host).
//
// The monitoring and topology views read the data plane's Prometheus
// counters (the ones `eplink status` reads), sampled every Options.Sample
// for the last 15 minutes, filtered to the endpoints, services and CLBs the
// session's account sees through the API.
package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"eplink/controlplane/rpc"
)

//go:embed assets
var assets embed.FS

// Path is where the console is served.
const Path = "/console/"

// CookieName names the session cookie.
const CookieName = "eplink_console"

// CSRFHeader carries the session's CSRF token on every POST.
const CSRFHeader = "X-CSRF-Token"

// DefaultSessionTTL is how long a session lasts when Options leaves it zero.
const DefaultSessionTTL = 8 * time.Hour

// DefaultMaxSessions is the cap on live sessions when Options leaves it zero.
const DefaultMaxSessions = 1000

// Account is an AccessKey pair the sign-in page offers to pick (the demo's).
type Account struct {
	Name            string `json:"Name"`
	UID             string `json:"Uid"`
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
}

// Options configure a Console. API is required.
type Options struct {
	// API is the OpenAPI handler (the rpc.Server of api.New) every console
	// action goes through.
	API http.Handler
	// Version is the PrivateLink API version the console calls.
	Version string
	// Region is the lab's region, sent as RegionId.
	Region string
	// Gatherer is the registry the data plane's metrics are on; nil leaves
	// the monitoring and topology views without traffic figures.
	Gatherer prometheus.Gatherer
	// Accounts are offered on the sign-in page (the demo's); nil offers none.
	Accounts []Account
	// UIDOf names the account an AccessKey id belongs to (the control
	// plane's Credentials); nil leaves sessions without a UID.
	UIDOf func(accessKeyID string) (secret, uid string, ok bool)
	// SessionTTL is how long a session lasts; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	// MaxSessions bounds the live sessions, so that signing in again and
	// again costs bounded memory; zero means DefaultMaxSessions. Beyond it a
	// sign-in gets 429 until sessions expire or sign out.
	MaxSessions int
	// Sample is the interval of the monitoring samples; zero means 2 s.
	Sample time.Duration
	// Now is the clock; nil means time.Now. A test seam.
	Now func() time.Time
	// Logger gets the console's errors; nil discards.
	Logger *slog.Logger
}

// Console is the web console's http.Handler. Run samples the metrics.
type Console struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	hist    *history

	mu       sync.Mutex
	sessions map[string]*session
}

// session is one signed-in browser.
type session struct {
	UID, Name, KeyID, secret string
	CSRF                     string
	Expires                  time.Time
}

// New returns a Console.
func New(opts Options) *Console {
	if opts.Version == "" {
		opts.Version = "2020-04-15"
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Sample <= 0 {
		opts.Sample = 2 * time.Second
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	c := &Console{opts: opts, log: opts.Logger, sessions: map[string]*session{}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.hist = newHistory(int(15 * time.Minute / opts.Sample))
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	m := http.NewServeMux()
	m.HandleFunc("GET /console/{$}", c.serveIndex)
	m.Handle("GET /console/static/", http.StripPrefix("/console/static/", noSniff(files)))
	m.HandleFunc("GET /console/api/accounts", c.serveAccounts)
	m.HandleFunc("GET /console/api/session", c.serveSession)
	m.HandleFunc("POST /console/api/login", c.serveLogin)
	m.HandleFunc("POST /console/api/logout", c.withSession(true, c.serveLogout))
	m.HandleFunc("POST /console/api/call", c.withSession(true, c.serveCall))
	m.HandleFunc("GET /console/api/topology", c.withSession(false, c.serveTopology))
	m.HandleFunc("GET /console/api/metrics", c.withSession(false, c.serveMetrics))
	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFound", "No such console page or call.")
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "Forbidden.CrossOrigin",
			"The console refuses cross-origin requests that change state.")
	}))
	c.handler = cop.Handler(securityHeaders(m))
	return c
}

// ServeHTTP implements the http.Handler interface.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// RedirectBrowsers sends a browser that opens the API address's root
// (GET / with no parameters, asking for HTML) to the console; everything
// else goes to next, the OpenAPI, unchanged.
func RedirectBrowsers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.Method == http.MethodGet && r.URL.RawQuery == "" &&
			strings.Contains(r.Header.Get("Accept"), "text/html") && r.Header.Get("Authorization") == "" {
			http.Redirect(w, r, Path, http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (c *Console) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now()
	}
	return time.Now()
}

// securityHeaders: nothing but the console's own assets may run or load.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func noSniff(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func (c *Console) serveIndex(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

func (c *Console) serveAccounts(w http.ResponseWriter, r *http.Request) {
	accts := c.opts.Accounts
	if accts == nil {
		accts = []Account{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"Accounts": accts})
}

// sessionInfo is what the browser learns of its session (never the secret).
type sessionInfo struct {
	UID         string `json:"Uid"`
	Name        string `json:"Name"`
	AccessKeyID string `json:"AccessKeyId"`
	CSRF        string `json:"CsrfToken"`
	Region      string `json:"RegionId"`
	Expires     string `json:"Expires"`
}

func (c *Console) info(s *session) sessionInfo {
	return sessionInfo{UID: s.UID, Name: s.Name, AccessKeyID: s.KeyID, CSRF: s.CSRF,
		Region: c.opts.Region, Expires: s.Expires.UTC().Format(time.RFC3339)}
}

func (c *Console) serveSession(w http.ResponseWriter, r *http.Request) {
	s := c.lookup(r)
	if s == nil {
		writeError(w, http.StatusUnauthorized, "NotSignedIn", "Sign in with an AccessKey pair.")
		return
	}
	writeJSON(w, http.StatusOK, c.info(s))
}

// serveLogin checks the AccessKey pair by calling DescribeRegions with it,
// through the API, and opens a session if the API accepts it.
func (c *Console) serveLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxCallBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidParameter", err.Error())
		return
	}
	id, secret := r.PostForm.Get("AccessKeyId"), r.PostForm.Get("AccessKeySecret")
	if id == "" || secret == "" {
		writeError(w, http.StatusBadRequest, "MissingParameter", "AccessKeyId and AccessKeySecret are both needed.")
		return
	}
	s := &session{KeyID: id, secret: secret}
	status, body := c.call(r.Context(), s, "", "DescribeRegions", nil)
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	s.UID, s.Name = c.whoIs(id)
	s.CSRF = randomToken()
	s.Expires = c.now().Add(c.opts.SessionTTL)
	token := randomToken()
	c.mu.Lock()
	c.expireLocked()
	full := len(c.sessions) >= c.opts.MaxSessions
	if !full {
		c.sessions[token] = s
	}
	c.mu.Unlock()
	if full {
		writeError(w, http.StatusTooManyRequests, "Throttling.Sessions",
			"Too many console sessions are open: sign out of one, or wait for one to expire.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: Path, MaxAge: int(c.opts.SessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, c.info(s))
}

// whoIs names the account of an AccessKey the API has accepted: its UID,
// and the demo's name for it when it is one of Options.Accounts.
func (c *Console) whoIs(keyID string) (uid, name string) {
	if c.opts.UIDOf != nil {
		_, uid, _ = c.opts.UIDOf(keyID)
	}
	for _, a := range c.opts.Accounts {
		if a.AccessKeyID == keyID {
			return a.UID, a.Name
		}
	}
	return uid, ""
}

func (c *Console) serveLogout(w http.ResponseWriter, r *http.Request, s *session) {
	if ck, err := r.Cookie(CookieName); err == nil {
		c.mu.Lock()
		delete(c.sessions, ck.Value)
		c.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Path, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]any{})
}

// lookup returns the request's live session, nil if none.
func (c *Console) lookup(r *http.Request) *session {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[ck.Value]
	if s == nil {
		return nil
	}
	if !c.now().Before(s.Expires) {
		delete(c.sessions, ck.Value)
		return nil
	}
	return s
}

func (c *Console) expireLocked() {
	now := c.now()
	for k, s := range c.sessions {
		if !now.Before(s.Expires) {
			delete(c.sessions, k)
		}
	}
}

// withSession requires a live session, and for mutations its CSRF token.
func (c *Console) withSession(mutation bool, h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := c.lookup(r)
		if s == nil {
			writeError(w, http.StatusUnauthorized, "NotSignedIn", "The session has expired or does not exist: sign in again.")
			return
		}
		if mutation {
			got := r.Header.Get(CSRFHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
				writeError(w, http.StatusForbidden, "Forbidden.CsrfToken", "The request does not carry this session's CSRF token.")
				return
			}
		}
		h(w, r, s)
	}
}

// maxCallBody bounds a console call's form, as the API bounds its own.
const maxCallBody = rpc.MaxBodyBytes

// serveCall signs Action and its parameters with the session's AccessKey
// and hands them to the API. The answer (status, body) is the API's.
func (c *Console) serveCall(w http.ResponseWriter, r *http.Request, s *session) {
	r.Body = http.MaxBytesReader(w, r.Body, maxCallBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidParameter", err.Error())
		return
	}
	params := url.Values{}
	for k, vs := range r.PostForm {
		params[k] = vs
	}
	action, version := params.Get("Action"), params.Get("Version")
	params.Del("Action")
	params.Del("Version")
	if action == "" {
		writeError(w, http.StatusBadRequest, "MissingParameter", "Action is needed.")
		return
	}
	status, body := c.call(r.Context(), s, version, action, params)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// call makes one signed API call as the session's account, in process.
func (c *Console) call(ctx context.Context, s *session, version, action string, params url.Values) (int, []byte) {
	if version == "" {
		version = c.opts.Version
	}
	q := url.Values{}
	for k, vs := range params {
		if !commonParam[k] {
			q[k] = vs
		}
	}
	q.Set("Action", action)
	q.Set("Version", version)
	q.Set("Format", "JSON")
	q.Set("AccessKeyId", s.KeyID)
	q.Set("SignatureMethod", "HMAC-SHA1")
	q.Set("SignatureVersion", "1.0")
	q.Set("SignatureNonce", randomToken())
	// The wall clock, not Options.Now: the API checks it against its own.
	q.Set("Timestamp", time.Now().UTC().Format("2006-01-02T15:04:05Z"))
	if c.opts.Region != "" {
		q.Set("RegionId", c.opts.Region)
	}
	q.Set("Signature", rpc.Sign(http.MethodPost, q, s.secret))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(q.Encode()))
	if err != nil {
		b, _ := json.Marshal(map[string]string{"Code": "InternalError", "Message": err.Error()})
		return http.StatusInternalServerError, b
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:0"
	rec := &recorder{h: http.Header{}, status: http.StatusOK}
	c.opts.API.ServeHTTP(rec, req)
	return rec.status, rec.body.Bytes()
}

// commonParam are parameters the console sets itself; a browser cannot.
var commonParam = map[string]bool{
	"AccessKeyId": true, "Signature": true, "SignatureMethod": true, "SignatureVersion": true,
	"SignatureNonce": true, "SignatureType": true, "Timestamp": true, "Format": true,
	"RegionId": true, "SecurityToken": true, "BearerToken": true,
}

// recorder is the in-process http.ResponseWriter of an API call.
type recorder struct {
	h      http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}

func randomToken() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"Code": code, "Message": msg})
}

// apiErr is the API's error answer as an error.
func apiErr(status int, body []byte) error {
	var e struct{ Code, Message string }
	json.Unmarshal(body, &e)
	return &rpc.Error{Status: status, Code: e.Code, Message: e.Message}
}
