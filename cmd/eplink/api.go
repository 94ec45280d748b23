package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmespath/go-jmespath"

	"eplink/controlplane/rpc"
)

// `eplink api ACTION [--Param value …]` calls the PrivateLink OpenAPI the way
// the aliyun CLI and the Go SDK do: POST, common parameters and signature v1
// in the query, JSON out. It prints the response pretty on stdout; an API
// error goes to stderr as Code, Message and RequestId, with exit status 1.

const (
	apiVersion    = "2020-04-15"
	defaultRegion = "cn-hangzhou"
)

const apiUsage = `usage: eplink api ACTION [--Param value | --Param=value ...] [flags]

Call the PrivateLink OpenAPI (2020-04-15), signed like the official SDK.
'eplink api cms ACTION …' calls CloudMonitor (2019-01-01): 'eplink api cms --help'.
Repeated parameters are numbered from 1: --Zone.1.ZoneId cn-hangzhou-h --SecurityGroupId.1 sg-x
Every parameter takes a value, booleans too: --DryRun true

flags:
  --access-key-id ID        AccessKey id (default $ALIBABA_CLOUD_ACCESS_KEY_ID or the profile)
  --access-key-secret KEY   AccessKey secret (default $ALIBABA_CLOUD_ACCESS_KEY_SECRET
                            or the profile)
  --profile NAME            use a profile from the file 'eplink serve' writes ($EPLINK_CONFIG)
  --endpoint HOST:PORT      API address (default: the profile's, else 127.0.0.1:8080)
  --region ID               RegionId (default: the profile's, else cn-hangzhou)
  --method POST|GET         HTTP method (default POST, as the SDK)
  --signature v1|v3         v1: HMAC-SHA1 parameters, as the aliyun CLI (default);
                            v3: ACS3-HMAC-SHA256 headers, as the current SDK cores
  --wait STATUS             after the call, poll until the object reaches STATUS
                            (Deleted: until it is gone); see ACTION --help
  --wait-timeout D          give up waiting after D (default 60s)
  --wait-interval D         poll every D while waiting (default 500ms)
  --cli-query JMESPATH      print only this part of the response (JMESPath, as the aliyun CLI):
                            Zones[0].EniIp, Zones[*].ZoneId, {n:EndpointName}
  --force                   send parameters the catalog does not know
  -h, --help                this help; 'eplink api ACTION --help' for an action's parameters

`

// apiRequest is a parsed `eplink api` command line.
type apiRequest struct {
	action      *action
	params      map[string]string
	keyID       string
	secret      string
	profile     string
	endpoint    string
	region      string
	method      string
	signature   string
	wait        string
	waitTimeout time.Duration
	waitEvery   time.Duration
	query       string
	force       bool
	help        bool
}

// cliFlags are the command's own flags; any other --Name is an API
// parameter. The bool says whether the flag takes a value.
var cliFlags = map[string]bool{
	"access-key-id": true, "access-key-secret": true, "profile": true,
	"endpoint": true, "region": true, "method": true, "signature": true, "wait": true,
	"wait-timeout": true, "wait-interval": true, "cli-query": true, "force": false, "help": false, "h": false,
}

// apiProduct is an OpenAPI product on eplink's API address: `eplink api
// ACTION` calls PrivateLink, `eplink api cms ACTION` CloudMonitor. Both go
// through one parser and one client; a product only names its version and
// its actions.
type apiProduct struct {
	cmd     string // how the help names the command: "eplink api" or "eplink api cms"
	version string
	lookup  func(name string) (*action, bool)
	names   func() []string
}

var privateLink = apiProduct{cmd: "eplink api", version: apiVersion, lookup: lookupAction, names: actionNames}

// parseAPIArgs parses a PrivateLink command line.
func parseAPIArgs(args []string) (*apiRequest, error) { return parseProductArgs(args, privateLink) }

// parseProductArgs parses the command line; it checks names against the
// product's catalog but leaves values to the server.
func parseProductArgs(args []string, prod apiProduct) (*apiRequest, error) {
	req := &apiRequest{params: map[string]string{}, method: http.MethodPost,
		waitTimeout: 60 * time.Second, waitEvery: 500 * time.Millisecond}
	var actionName string
	type given struct{ name, value string }
	var apiParams []given
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") {
			if actionName != "" {
				return nil, usagef("unexpected argument %q (values follow their --Param)", arg)
			}
			actionName = arg
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if name == "" {
			return nil, usagef("bad flag %q", arg)
		}
		takesValue, isFlag := cliFlags[name]
		if isFlag && !takesValue {
			if hasValue {
				return nil, usagef("--%s takes no value", name)
			}
			switch name {
			case "force":
				req.force = true
			default:
				req.help = true
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				// Only the CLI's own switches stand alone. A bare API
				// parameter is most often an empty shell variable
				// (--EndpointName $NAME): sending "true" for it would
				// rename the endpoint to "true".
				return nil, usagef("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if !isFlag {
			apiParams = append(apiParams, given{name, value})
			continue
		}
		switch name {
		case "access-key-id":
			req.keyID = value
		case "access-key-secret":
			req.secret = value
		case "profile":
			req.profile = value
		case "endpoint":
			req.endpoint = value
		case "region":
			req.region = value
		case "method":
			req.method = strings.ToUpper(value)
			if req.method != http.MethodPost && req.method != http.MethodGet {
				return nil, usagef("--method must be POST or GET")
			}
		case "signature":
			if req.signature = strings.ToLower(value); req.signature != "v1" && req.signature != "v3" {
				return nil, usagef("--signature must be v1 or v3")
			}
		case "wait":
			req.wait = value
		case "wait-timeout":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return nil, usagef("--wait-timeout %q: want a positive duration like 90s", value)
			}
			req.waitTimeout = d
		case "wait-interval":
			d, err := time.ParseDuration(value)
			if err != nil || d < 10*time.Millisecond {
				return nil, usagef("--wait-interval %q: want a duration of at least 10ms", value)
			}
			req.waitEvery = d
		case "cli-query":
			req.query = value
		}
	}
	if actionName == "" {
		if req.help {
			return req, nil
		}
		return nil, usagef("missing ACTION; '%s --help' lists them", prod.cmd)
	}
	a, ok := prod.lookup(actionName)
	if !ok {
		msg := fmt.Sprintf("unknown action %q", actionName)
		if s := closest(actionName, prod.names()); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		}
		return nil, usagef("%s ('%s --help' lists the actions)", msg, prod.cmd)
	}
	req.action = a
	if req.help {
		return req, nil
	}
	for _, g := range apiParams {
		if err := req.addParam(g.name, g.value); err != nil {
			return nil, err
		}
	}
	if req.wait != "" {
		if err := req.checkWait(); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func (r *apiRequest) addParam(name, value string) error {
	if _, dup := r.params[name]; dup {
		return usagef("--%s given twice", name)
	}
	if !r.force && !r.action.Open {
		p, err := r.action.findParam(name)
		if err != nil {
			return &usageError{err.Error()}
		}
		if p == nil {
			return r.unknownParam(name)
		}
	}
	if value == "" {
		// The SDK never sends an empty parameter; neither do we.
		return usagef("--%s has an empty value", name)
	}
	r.params[name] = value
	return nil
}

func (r *apiRequest) unknownParam(name string) error {
	names := make([]string, 0, len(r.action.Params))
	for _, p := range r.action.Params {
		names = append(names, p.Name)
	}
	pat, _ := paramPattern(name)
	msg := fmt.Sprintf("%s has no parameter %q", r.action.Name, name)
	if s := closest(pat, names); s != "" {
		msg += fmt.Sprintf("; did you mean --%s?", withIndexes(s, name))
	}
	return usagef("%s ('eplink api %s --help' lists them; --force sends it anyway)", msg, r.action.Name)
}

// withIndexes puts the indexes the user typed back into a catalog name:
// ("Zone.N.VSwitchId", "Zone.2.VswitchId") gives "Zone.2.VSwitchId".
func withIndexes(pattern, typed string) string {
	pp, tp := strings.Split(pattern, "."), strings.Split(typed, ".")
	if len(pp) != len(tp) {
		return pattern
	}
	for i := range pp {
		if pp[i] == "N" && tp[i] != "" && tp[i][0] >= '0' && tp[i][0] <= '9' {
			pp[i] = tp[i]
		}
	}
	return strings.Join(pp, ".")
}

func (r *apiRequest) checkWait() error {
	valid := r.action.waitStatuses()
	if valid == nil {
		return usagef("--wait: %s has no object to wait for", r.action.Name)
	}
	for _, v := range valid {
		if v == r.wait {
			return nil
		}
	}
	return usagef("--wait %q: %s can wait for one of %s", r.wait, r.action.Name, strings.Join(valid, ", "))
}

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

func actionNames() []string {
	names := make([]string, len(catalog))
	for i, a := range catalog {
		names[i] = a.Name
	}
	return names
}

func apiCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	prod := privateLink
	if len(args) > 0 && args[0] == "cms" {
		prod, args = cloudMonitor, args[1:]
	}
	req, err := parseProductArgs(args, prod)
	if err != nil {
		return err
	}
	if req.help {
		switch {
		case req.action == nil && prod.cmd == privateLink.cmd:
			printActions(stdout)
		case req.action == nil:
			printCMSActions(stdout)
		default:
			printActionHelp(stdout, req.action)
		}
		return nil
	}
	c, err := newAPIClient(req.keyID, req.secret, req.profile, req.endpoint, req.region, os.Getenv)
	if err != nil {
		return err
	}
	c.method, c.signature, c.version = req.method, req.signature, prod.version
	body, err := c.call(ctx, req.action.Name, req.params, req.action.Body)
	if err != nil {
		return err
	}
	if err := printResponse(stdout, body, req.query); err != nil {
		return err
	}
	if req.wait == "" {
		return nil
	}
	w := waiter{c: c, interval: req.waitEvery, progress: stderr}
	return w.wait(ctx, req.action, req.params, body, req.wait, req.waitTimeout)
}

// apiVersion is the version the client calls: PrivateLink's unless set.
func (c *apiClient) apiVersion() string {
	if c.version != "" {
		return c.version
	}
	return apiVersion
}

// printResponse writes the JSON body indented, or only the part named by
// query (strings unquoted, so that shell scripts can use them as is).
func printResponse(w io.Writer, body []byte, query string) error {
	if query == "" {
		var out bytes.Buffer
		if err := json.Indent(&out, body, "", "  "); err != nil {
			// Not JSON: show it as it came.
			_, err = w.Write(body)
			return err
		}
		out.WriteByte('\n')
		_, err := w.Write(out.Bytes())
		return err
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("--cli-query: response is not JSON: %w", err)
	}
	v, err := cliQuery(doc, query)
	if err != nil {
		return fmt.Errorf("--cli-query %s: %w", query, err)
	}
	switch v := v.(type) {
	case string:
		_, err = fmt.Fprintln(w, v)
	case float64:
		// JSON numbers decode as float64; ids and counts print whole.
		_, err = fmt.Fprintln(w, strconv.FormatFloat(v, 'f', -1, 64))
	default:
		var out []byte
		out, err = json.MarshalIndent(v, "", "  ")
		if err == nil {
			_, err = fmt.Fprintf(w, "%s\n", out)
		}
	}
	return err
}

// dotIndex is a list index written after a dot (Zones.0.EniIp), the form
// --cli-query took before it was JMESPath.
var dotIndex = regexp.MustCompile(`\.([0-9]+)`)

// cliQuery evaluates a JMESPath expression against the response, as the
// aliyun CLI's --cli-query does: Zones[0].EniIp, Zones[*].ZoneId,
// Endpoints[?EndpointStatus=='Active'].EndpointId, {n:EndpointName}. A
// query that selects nothing is an error, so that scripts do not go on
// with an empty value.
func cliQuery(doc any, query string) (any, error) {
	expr, err := jmespath.Compile(query)
	if err != nil {
		// Zones.0.EniIp is no JMESPath; read it as Zones[0].EniIp.
		var err2 error
		if expr, err2 = jmespath.Compile(dotIndex.ReplaceAllString(query, "[$1]")); err2 != nil {
			return nil, fmt.Errorf("not a JMESPath expression: %w", err)
		}
	}
	v, err := expr.Search(doc)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errors.New("selects nothing in the response")
	}
	return v, nil
}

func printActions(w io.Writer) {
	fmt.Fprint(w, apiUsage)
	fmt.Fprintln(w, "actions:")
	rows := make([][2]string, len(catalog))
	for i, a := range catalog {
		rows[i] = [2]string{a.Name, a.Doc}
	}
	writeTable(w, rows)
}

// helpWidth is the widest line help output may have.
const helpWidth = 100

// writeTable writes two-column rows indented by two spaces, the second
// column word-wrapped so that no line is wider than helpWidth; its
// continuation lines start under it.
func writeTable(w io.Writer, rows [][2]string) {
	first := 0
	for _, r := range rows {
		first = max(first, utf8.RuneCountInString(r[0]))
	}
	indent := 2 + first + 2
	room := max(helpWidth-indent, 30)
	for _, r := range rows {
		lines := wrapWords(r[1], room)
		if len(lines) == 0 {
			lines = []string{""}
		}
		pad := strings.Repeat(" ", first-utf8.RuneCountInString(r[0])+2)
		fmt.Fprintln(w, strings.TrimRight("  "+r[0]+pad+lines[0], " "))
		for _, l := range lines[1:] {
			fmt.Fprintln(w, strings.Repeat(" ", indent)+l)
		}
	}
}

// wrapWords breaks s at spaces, and long words after a '|' (the lists of
// values), into lines of at most width runes where it can.
func wrapWords(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		for i, piece := range splitAfterBars(word, width) {
			sep := " "
			if i > 0 {
				sep = "" // the rest of the same word
			}
			switch {
			case line == "":
				line = piece
			case utf8.RuneCountInString(line)+len(sep)+utf8.RuneCountInString(piece) <= width:
				line += sep + piece
			default:
				lines = append(lines, line)
				line = piece
			}
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// splitAfterBars cuts a word longer than width/2 after each '|'.
func splitAfterBars(word string, width int) []string {
	if utf8.RuneCountInString(word) <= width/2 || !strings.Contains(word, "|") {
		return []string{word}
	}
	return strings.SplitAfter(word, "|")
}

func printActionHelp(w io.Writer, a *action) {
	cmd := privateLink.cmd
	if a.Open {
		cmd = cloudMonitor.cmd
	}
	fmt.Fprintf(w, "usage: %s %s [--Param value ...]\n\n%s\n", cmd, a.Name, strings.Join(wrapWords(a.Doc, helpWidth), "\n"))
	if a.Body {
		fmt.Fprintln(w, "The parameters travel in the form body, as the SDK sends them.")
	}
	if a.Open {
		// No catalog here: the server says which parameters are wrong.
	} else if len(a.Params) == 0 {
		fmt.Fprintln(w, "\nNo parameters besides the common ones (RegionId comes from --region).")
	} else {
		fmt.Fprintln(w, "\nparameters:")
		rows := make([][2]string, len(a.Params))
		for i, p := range a.Params {
			text := p.rule()
			if p.Note != "" {
				text += "; " + p.Note
			}
			rows[i] = [2]string{"--" + p.Name, text}
		}
		writeTable(w, rows)
	}
	if vs := a.waitStatuses(); vs != nil {
		const lead = "--wait accepts: "
		lines := wrapWords(strings.Join(vs, ", "), helpWidth-len(lead))
		fmt.Fprintf(w, "\n%s%s\n", lead, strings.Join(lines, "\n"+strings.Repeat(" ", len(lead))))
	}
}

// apiClient calls the API: it signs each request as the SDK does.
type apiClient struct {
	baseURL string // http://host:port
	region  string
	keyID   string
	secret  string
	method  string // POST unless set
	// signature is "v1" (or "": what the aliyun CLI sends) or "v3" (what
	// the current SDK cores send).
	signature string
	// version is the API version called: PrivateLink's unless set
	// (CloudMonitor's for 'eplink api cms').
	version string
	http    *http.Client
	// now and nonce are the request's Timestamp and SignatureNonce; tests
	// fix them to check signatures against known vectors.
	now   func() time.Time
	nonce func() string
}

// newAPIClient resolves credentials, endpoint and region: explicit flags
// first, then --profile, then the Alibaba environment variables, then the
// profile file's current profile; getenv is os.Getenv outside tests.
func newAPIClient(keyID, secret, profileName, endpoint, region string, getenv func(string) string) (*apiClient, error) {
	pf, err := loadProfile()
	if err != nil {
		return nil, fmt.Errorf("reading profiles: %w", err)
	}
	var from string // the profile whose server is called, if any
	if profileName != "" {
		if pf == nil {
			return nil, usagef("--profile %s: no profile file (start 'eplink serve' or set $EPLINK_CONFIG)", profileName)
		}
		p, ok := pf.Profiles[profileName]
		if !ok {
			return nil, usagef("--profile %s: no such profile (have %s)", profileName, strings.Join(profileNames(pf), ", "))
		}
		keyID, secret = orDefault(keyID, p.AccessKeyID), orDefault(secret, p.AccessKeySecret)
		from = profileName
	}
	keyID = orDefault(keyID, getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"))
	secret = orDefault(secret, getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"))
	if pf != nil {
		if p, ok := pf.Profiles[pf.Current]; ok && keyID == "" && secret == "" {
			keyID, secret = p.AccessKeyID, p.AccessKeySecret
			from = pf.Current
		}
		if from == "" {
			from = pf.Current // its server is the file's top-level endpoint
		}
		p := pf.Profiles[from]
		if endpoint == "" && p.gone() {
			others := profileNames(pf)
			for i, n := range others {
				if pf.Profiles[n].gone() {
					others[i] = ""
				}
			}
			hint := "start 'eplink serve' again, or pass --endpoint"
			if live := strings.Join(strings.Fields(strings.Join(others, " ")), ", "); live != "" {
				hint += "; live profiles: " + live
			}
			return nil, fmt.Errorf("profile %s: the eplink that served it (pid %d, API %s) has stopped; %s",
				from, p.PID, orDefault(p.Endpoint, pf.Endpoint), hint)
		}
		endpoint = orDefault(endpoint, orDefault(p.Endpoint, pf.Endpoint))
		region = orDefault(region, orDefault(p.Region, pf.Region))
	}
	if (keyID == "" || secret == "") && pf != nil && len(pf.Profiles) == 0 {
		return nil, usagef("no AccessKey, and no profile: no 'eplink serve' is running (a server removes its " +
			"profiles when it stops); start one, or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	}
	if keyID == "" || secret == "" {
		return nil, usagef("no AccessKey: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, " +
			"or pass --access-key-id/--access-key-secret or --profile NAME")
	}
	base := orDefault(endpoint, defaultAPIAddr) // where `eplink serve` listens by default
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, usagef("--endpoint %q: want HOST:PORT or http://HOST:PORT", endpoint)
	}
	return clientAt(u.Scheme+"://"+u.Host, orDefault(region, defaultRegion), keyID, secret), nil
}

// clientAt is a client of the eplink at baseURL (http://HOST:PORT) with an
// AccessKey, as the SDK sends: POST, signature v1, a 30 s timeout.
func clientAt(baseURL, region, keyID, secret string) *apiClient {
	return &apiClient{
		baseURL: baseURL,
		region:  region,
		keyID:   keyID,
		secret:  secret,
		method:  http.MethodPost,
		http:    &http.Client{Timeout: 30 * time.Second},
		now:     time.Now,
		nonce:   randomNonce,
	}
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// randomNonce is 32 lower-case hex characters, the SDK's nonce form.
func randomNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// signedRequest returns the query and form body of a request, signed.
// Like the SDK (reference A1–A4), action parameters go in the query unless
// inBody, and the signature covers query and body together.
func (c *apiClient) signedRequest(action string, params map[string]string, inBody bool) (query, body url.Values) {
	query = url.Values{
		"Action":           {action},
		"Version":          {c.apiVersion()},
		"Format":           {"JSON"},
		"AccessKeyId":      {c.keyID},
		"SignatureMethod":  {rpc.SignatureMethod},
		"SignatureVersion": {rpc.SignatureVersion},
		"SignatureType":    {""},
		"SignatureNonce":   {c.nonce()},
		"Timestamp":        {c.now().UTC().Format("2006-01-02T15:04:05Z")},
		"RegionId":         {c.region},
	}
	body = url.Values{}
	all := url.Values{}
	for k, v := range query {
		all[k] = v
	}
	for k, v := range params {
		if inBody {
			body.Set(k, v)
		} else {
			query.Set(k, v)
		}
		all.Set(k, v)
	}
	query.Set("Signature", rpc.Sign(c.method, all, c.secret))
	return query, body
}

// apiError is an error answer of the API.
type apiError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
	if e.RequestID != "" {
		s += "\nRequestId: " + e.RequestID
	}
	return s
}

// requestV1 is a call signed with v1, as the aliyun CLI and the classic
// SDK send it: everything in parameters, x-acs-action and x-acs-version
// besides.
func (c *apiClient) requestV1(ctx context.Context, action string, params map[string]string, inBody bool) (*http.Request, error) {
	query, form := c.signedRequest(action, params, inBody)
	target := c.baseURL + "/?" + query.Encode()
	var bodyReader io.Reader
	if c.method == http.MethodPost {
		bodyReader = strings.NewReader(form.Encode())
	} else if len(form) > 0 {
		// GET has no body: everything rides in the query, signed the same.
		for k, v := range form {
			query[k] = v
		}
		target = c.baseURL + "/?" + query.Encode()
	}
	hreq, err := http.NewRequestWithContext(ctx, c.method, target, bodyReader)
	if err != nil {
		return nil, err
	}
	if c.method == http.MethodPost {
		hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hreq.Header.Set("x-acs-version", c.apiVersion())
	hreq.Header.Set("x-acs-action", action)
	return hreq, nil
}

// requestV3 is a call signed with v3 (ACS3-HMAC-SHA256), as the current
// SDK cores send it: action, version, date and nonce in x-acs-* headers,
// the parameters (with RegionId) in the query, or in a form body when
// inBody (always in the query for GET), the signature in Authorization.
func (c *apiClient) requestV3(ctx context.Context, action string, params map[string]string, inBody bool) (*http.Request, error) {
	query, form := url.Values{"RegionId": {c.region}}, url.Values{}
	for k, v := range params {
		if inBody && c.method == http.MethodPost {
			form.Set(k, v)
		} else {
			query.Set(k, v)
		}
	}
	body := form.Encode()
	hreq, err := http.NewRequestWithContext(ctx, c.method, c.baseURL+"/?"+query.Encode(), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != "" {
		hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hreq.Header.Set(rpc.HeaderAction, action)
	hreq.Header.Set(rpc.HeaderVersion, c.apiVersion())
	hreq.Header.Set(rpc.HeaderDate, c.now().UTC().Format("2006-01-02T15:04:05Z"))
	hreq.Header.Set(rpc.HeaderNonce, c.nonce())
	rpc.SignRequestV3(hreq, []byte(body), c.keyID, c.secret)
	return hreq, nil
}

// call makes one API call and returns the body of a 2xx answer; any other
// answer is an *apiError.
func (c *apiClient) call(ctx context.Context, action string, params map[string]string, inBody bool) ([]byte, error) {
	newRequest := c.requestV1
	if c.signature == "v3" {
		newRequest = c.requestV3
	}
	hreq, err := newRequest(ctx, action, params, inBody)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("User-Agent", "eplink/"+version)
	resp, err := c.http.Do(hreq)
	if err != nil {
		// *url.Error repeats the whole signed URL; say only where.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return nil, fmt.Errorf("%s %s: %w (is 'eplink serve' running there?)", c.method, c.baseURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the answer: %w", action, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, nil
	}
	e := &apiError{Status: resp.StatusCode}
	var fields struct{ Code, Message, RequestId string }
	if json.Unmarshal(body, &fields) == nil && fields.Code != "" {
		e.Code, e.Message, e.RequestID = fields.Code, fields.Message, fields.RequestId
	} else {
		e.Code = http.StatusText(resp.StatusCode)
		e.Message = strings.TrimSpace(string(body))
	}
	return nil, e
}

// callJSON calls an action and decodes the answer into out.
func (c *apiClient) callJSON(ctx context.Context, action string, params map[string]string, out any) error {
	body, err := c.call(ctx, action, params, false)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", action, err)
	}
	return nil
}

// waiter polls the object an action acted on until it reaches a status.
type waiter struct {
	c        *apiClient
	interval time.Duration // between polls
	progress io.Writer     // state changes are reported here (stderr)
}

// probe reads the current status of the waited-for object; statusDeleted
// when it is gone.
type probe func(ctx context.Context) (string, error)

// wait polls until the object of action a, named by params or by the
// action's answer (CreateVpcEndpoint's EndpointId …), has status want.
func (w waiter) wait(ctx context.Context, a *action, params map[string]string, answer []byte, want string, timeout time.Duration) error {
	ids := map[string]string{}
	for _, k := range []string{"EndpointId", "ServiceId", "ZoneId"} {
		ids[k] = params[k]
	}
	var created struct{ EndpointId, ServiceId string }
	_ = json.Unmarshal(answer, &created) // absent fields stay empty
	ids["EndpointId"] = orDefault(ids["EndpointId"], created.EndpointId)
	ids["ServiceId"] = orDefault(ids["ServiceId"], created.ServiceId)

	what, get, err := w.probeFor(a, ids, want)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	timer := time.NewTimer(0)
	defer timer.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("--wait %s: %s still %s after %s", want, what, orDefault(last, "unknown"), timeout)
			}
			return ctx.Err()
		case <-timer.C:
		}
		got, err := get(ctx)
		if err != nil {
			if ctx.Err() != nil {
				continue // the select above says why
			}
			return fmt.Errorf("--wait %s: %w", want, err)
		}
		if got == want {
			fmt.Fprintf(w.progress, "%s is %s\n", what, got)
			return nil
		}
		if got != last {
			fmt.Fprintf(w.progress, "waiting: %s is %s, want %s\n", what, got, want)
			last = got
		}
		timer.Reset(w.interval)
	}
}

// probeFor picks what to poll: the field that holds want for the action's
// object, read with the call a user of that side (consumer or provider) may
// make.
func (w waiter) probeFor(a *action, ids map[string]string, want string) (string, probe, error) {
	ep, svc, zone := ids["EndpointId"], ids["ServiceId"], ids["ZoneId"]
	need := func(names ...string) error {
		for _, n := range names {
			if ids[n] == "" {
				return usagef("--wait: %s to wait for is not known (pass --%s)", n, n)
			}
		}
		return nil
	}
	switch a.Object {
	case objEndpoint:
		if err := need("EndpointId"); err != nil {
			return "", nil, err
		}
		field := "EndpointStatus"
		if !contains(endpointStatuses, want) && want != statusDeleted {
			field = "ConnectionStatus"
		}
		return fmt.Sprintf("%s of %s", field, ep), func(ctx context.Context) (string, error) {
			var out map[string]any
			err := w.c.callJSON(ctx, "GetVpcEndpointAttribute", map[string]string{"EndpointId": ep}, &out)
			if isNotFound(err) {
				return statusDeleted, nil
			}
			if err != nil {
				return "", err
			}
			s, _ := out[field].(string)
			return s, nil
		}, nil
	case objService:
		if err := need("ServiceId"); err != nil {
			return "", nil, err
		}
		return "ServiceStatus of " + svc, func(ctx context.Context) (string, error) {
			var out struct{ ServiceStatus string }
			err := w.c.callJSON(ctx, "GetVpcEndpointServiceAttribute", map[string]string{"ServiceId": svc}, &out)
			if isNotFound(err) {
				return statusDeleted, nil
			}
			return out.ServiceStatus, err
		}, nil
	case objConnection:
		if err := need("ServiceId", "EndpointId"); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("ConnectionStatus of %s to %s", ep, svc), func(ctx context.Context) (string, error) {
			conn, err := connectionOf(ctx, w.c, svc, ep)
			if isNotFound(err) {
				return statusDeleted, nil
			}
			if err != nil {
				return "", err
			}
			if conn == nil {
				return statusDeleted, nil
			}
			return conn.ConnectionStatus, nil
		}, nil
	case objZone:
		if err := need("EndpointId", "ZoneId"); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("ZoneStatus of %s in %s", ep, zone), func(ctx context.Context) (string, error) {
			var zones []zoneInfo
			var err error
			if svc != "" {
				// The provider sees the zones through its connection.
				var conn *connectionInfo
				conn, err = connectionOf(ctx, w.c, svc, ep)
				if conn != nil {
					zones = conn.Zones
				}
			} else {
				zones, err = endpointZones(ctx, w.c, ep)
			}
			if isNotFound(err) {
				return statusDeleted, nil
			}
			if err != nil {
				return "", err
			}
			for _, z := range zones {
				if z.ZoneId == zone {
					return z.ZoneStatus, nil
				}
			}
			return statusDeleted, nil
		}, nil
	}
	return "", nil, usagef("--wait: %s has no object to wait for", a.Name)
}

// connectionOf returns the provider's view of one endpoint connection, nil
// if the service has none for that endpoint.
func connectionOf(ctx context.Context, c *apiClient, serviceID, endpointID string) (*connectionInfo, error) {
	conns, err := serviceConnections(ctx, c, serviceID, endpointID)
	if err != nil {
		return nil, err
	}
	for i := range conns {
		if conns[i].EndpointId == endpointID {
			return &conns[i], nil
		}
	}
	return nil, nil
}

// isNotFound reports an API answer that the object does not exist:
// EndpointNotFound, EndpointServiceNotFound, ….
func isNotFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && (strings.HasSuffix(ae.Code, "NotFound") || strings.Contains(ae.Code, "NotFound."))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
