package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds on a request, so that one request costs bounded memory and CPU.
// The query string is also bounded by the http.Server's MaxHeaderBytes
// (see NewHTTPServer).
const (
	// MaxBodyBytes bounds a form body; a larger one gets 413.
	MaxBodyBytes = 64 << 10
	// MaxParams bounds the number of parameters, query and body together.
	MaxParams = 500
	// MaxValueBytes bounds the length of any one parameter name or value.
	MaxValueBytes = 16 << 10
)

// TimestampWindow is how far a request's Timestamp may be from the server's
// clock, either way; SignatureNonces are remembered that long.
const TimestampWindow = 15 * time.Minute

// DefaultMaxNonces is the default cap of the replay table: about 50 MB when
// full, which takes over 1100 calls/s sustained for the whole window.
const DefaultMaxNonces = 1 << 20

// Server is an http.Handler for an RPC-style OpenAPI: it checks the request
// the way the cloud's gateway does, in the gateway's order — request shape
// (path, method, parameters, Action, Version), then the AccessKey, then the
// signature, then Timestamp and SignatureNonce — and hands a *Call to the
// Action's Handler. Results and errors are always JSON, whatever Format
// asks for: the official SDK only reads JSON, and a twin that answered XML
// would be one more thing to get wrong.
//
// Set the fields before serving; a Server must not be copied after first use.
type Server struct {
	// Version is the API version served, e.g. "2020-04-15"; a request for
	// another gets 400 InvalidVersion.
	Version string
	// HostID names the endpoint in error bodies, e.g.
	// "privatelink.cn-hangzhou.aliyuncs.com".
	HostID string
	// Product is the product name used in the Recommend link of errors,
	// e.g. "Privatelink".
	Product string
	// Actions maps each Action name to its Handler; an unknown Action gets
	// 404 InvalidAction.NotFound.
	Actions map[string]Handler
	// Credentials returns the secret and the account UID of an AccessKey
	// id, ok=false when there is no such key. Nil means no key is known.
	Credentials func(accessKeyID string) (secret, uid string, ok bool)
	// Now returns the current time; nil means time.Now. A test seam.
	Now func() time.Time
	// MaxNonces caps how many SignatureNonces are remembered for replay
	// protection; when it is reached, requests get 429 Throttling until
	// old ones expire. Zero means DefaultMaxNonces.
	MaxNonces int
	// Logger gets one record per internal error; nil discards.
	Logger *slog.Logger

	initOnce sync.Once
	nonces   *nonceTable
	macs     macCache // v1
	macs3    macCache // v3
	log      *slog.Logger
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		max := s.MaxNonces
		if max <= 0 {
			max = DefaultMaxNonces
		}
		s.nonces = newNonceTable(TimestampWindow, max)
		s.macs3.v3 = true
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
	})
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// commonParams are the gateway's own parameters: they are checked here and
// not passed to handlers in Call.Params.
var commonParams = map[string]bool{
	"Action": true, "Version": true, "Format": true, "AccessKeyId": true,
	"Signature": true, "SignatureMethod": true, "SignatureVersion": true,
	"SignatureType": true, "SignatureNonce": true, "Timestamp": true,
	"RegionId": true, "SecurityToken": true, "BearerToken": true,
	"SourceIp": true, "SecureTransport": true,
}

// ServeHTTP implements the http.Handler interface.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, nil) }

// serve answers one request. beside are other products on the same
// address (Products): s parses the request and checks its signature and
// nonce for all of them, and the product whose Version it names runs the
// action and names itself in the errors of its handlers.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, beside []*Server) {
	s.init()
	requestID := newRequestID()
	// The cloud also names the request in a header, handy with curl -i.
	w.Header()["X-Acs-Request-Id"] = []string{requestID}
	call, p, err := s.authenticate(w, r, requestID, beside)
	if err != nil {
		s.writeError(w, requestID, err)
		return
	}
	if p != s {
		p.init()
	}
	res, err := p.invoke(r.Context(), call)
	if err != nil {
		p.writeError(w, requestID, err)
		return
	}
	p.writeResult(w, call, res)
}

// invoke runs the handler; a panic becomes an internal error, so one bad
// handler cannot take the connection (or, in tests, the process) down.
func (s *Server) invoke(ctx context.Context, c *Call) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panic: %v\n%s", p, debug.Stack())
		}
	}()
	return s.Actions[c.Action](ctx, c)
}

// incoming is what a front door makes of a request: the call it asks for
// and the credentials it claims. Signature v1 (readV1) and v3 (readV3)
// are two ways in; past them the checks and the Call are the same, and
// nothing after the front door knows which signature a request had.
type incoming struct {
	action, version string
	accessKeyID     string
	signature       string
	timestamp       string // v1 Timestamp, v3 x-acs-date
	nonce           string // v1 SignatureNonce, v3 x-acs-signature-nonce
	// params are query and body merged, sorted, common ones included.
	params params
	// v3 only: the Authorization header and x-acs-content-sha256.
	auth        authorizationV3
	payloadHash string
	// beside are the other products on the address; product is the one
	// whose Version the request names (route).
	beside  []*Server
	product *Server
}

// authenticate checks everything but the action itself and returns the Call.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, requestID string, beside []*Server) (*Call, *Server, error) {
	if r.URL.Path != "/" {
		return nil, nil, Errorf(http.StatusNotFound, "InvalidURI.NotFound",
			"The specified path %q does not exist; the API is served at /.", r.URL.Path)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		return nil, nil, Errorf(http.StatusMethodNotAllowed, "UnsupportedHTTPMethod",
			"The HTTP method %q is not supported; use GET or POST.", r.Method)
	}
	sc := getScratch()
	defer putScratch(sc)
	// v3 when signed so (an ACS3-* Authorization), or when v3 headers come
	// without a v1 Signature: a v3 request that lost its Authorization is
	// told so, not asked for an Action parameter. A v1 request stays v1
	// whatever Authorization a proxy adds.
	auth := header1(r, headerAuthorization)
	acs3 := strings.HasPrefix(auth, "ACS3-")
	v3Headers := auth != "" || r.Header[canonicalDate] != nil || r.Header[canonicalNonce] != nil ||
		r.Header[canonicalContentSHA256] != nil
	// A v3 request's body is covered by its hash, so it may be JSON; a v1
	// request's parameters are in its string to sign, so only a form.
	params, err := readParams(w, r, sc, acs3 || v3Headers)
	if err != nil {
		return nil, nil, err
	}
	v3 := acs3 || v3Headers && params.get("Signature") == ""
	if !v3 && len(sc.body) > 0 && !isFormType(r.Header.Get("Content-Type")) {
		return nil, nil, Errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"The request body must be application/x-www-form-urlencoded, not %q.", r.Header.Get("Content-Type"))
	}
	in := incoming{params: params, beside: beside}
	if v3 {
		err = s.readV3(r, sc, &in)
	} else {
		err = s.readV1(&in)
	}
	if err != nil {
		return nil, nil, err
	}

	// Who is asking.
	var secret, uid string
	ok := false
	if s.Credentials != nil {
		secret, uid, ok = s.Credentials(in.accessKeyID)
	}
	if !ok {
		return nil, nil, Errorf(http.StatusNotFound, "InvalidAccessKeyId.NotFound",
			"Specified access key is not found.")
	}

	// Did they sign it.
	if v3 {
		err = s.checkV3(r, sc, secret, &in)
	} else {
		err = s.checkV1(r.Method, sc, secret, &in)
	}
	if err != nil {
		return nil, nil, err
	}

	// Is it fresh.
	ts, err := parseTimestamp(in.timestamp)
	if err != nil {
		return nil, nil, Errorf(http.StatusBadRequest, "InvalidTimeStamp.Format",
			"Specified time stamp or date value is not well formatted.")
	}
	now := s.now()
	if d := now.Sub(ts); d > TimestampWindow || d < -TimestampWindow {
		return nil, nil, Errorf(http.StatusBadRequest, "InvalidTimeStamp.Expired",
			"Specified time stamp or date value is expired.")
	}
	switch s.nonces.use(now, ts, in.accessKeyID, in.nonce) {
	case nonceUsed:
		return nil, nil, Errorf(http.StatusBadRequest, "SignatureNonceUsed",
			"Specified signature nonce was used already.")
	case nonceFull:
		return nil, nil, Errorf(http.StatusTooManyRequests, "Throttling",
			"Request was denied due to request throttling.")
	}

	c := &Call{
		Action:      in.action,
		RequestID:   requestID,
		CallerUID:   uid,
		AccessKeyID: in.accessKeyID,
		RegionID:    params.get("RegionId"),
	}
	n := 0
	for _, p := range params {
		if p.v != "" && !commonParams[p.k] {
			n++
		}
	}
	c.Params = make(Params, n)
	for _, p := range params {
		if p.v != "" && !commonParams[p.k] {
			c.Params[p.k] = p.v
		}
	}
	return c, in.product, nil
}

// route checks that the server serves version and action.
// route finds the product that serves the request's Version (s, or one
// beside it) and checks that it has the action.
func (s *Server) route(in *incoming) error {
	p := s
	for _, o := range in.beside {
		if p.Version == in.version {
			break
		}
		p = o
	}
	if p.Version != in.version {
		return Errorf(http.StatusBadRequest, "InvalidVersion",
			"Specified parameter Version is not valid: %q is not a version of this API.", in.version)
	}
	if _, ok := p.Actions[in.action]; !ok {
		return Errorf(http.StatusNotFound, "InvalidAction.NotFound",
			"Specified api is not found, please check your url and method.")
	}
	in.product = p
	return nil
}

// readV1 is the front door of signature v1: everything is a parameter.
func (s *Server) readV1(in *incoming) error {
	get := in.params.get
	// Shape: what is being asked for, and is the request signed at all.
	in.action, in.version = get("Action"), get("Version")
	switch {
	case in.action == "":
		return MissingParameter("Action")
	case in.version == "":
		return MissingParameter("Version")
	}
	if err := s.route(in); err != nil {
		return err
	}
	in.accessKeyID, in.signature = get("AccessKeyId"), get("Signature")
	in.timestamp, in.nonce = get("Timestamp"), get("SignatureNonce")
	switch {
	case in.signature == "":
		return Errorf(http.StatusBadRequest, "IncompleteSignature",
			"The request signature does not conform to Aliyun standards: Signature is missing.")
	case in.accessKeyID == "":
		return MissingParameter("AccessKeyId")
	case in.timestamp == "":
		return MissingParameter("Timestamp")
	case in.nonce == "":
		return MissingParameter("SignatureNonce")
	}
	if m := get("SignatureMethod"); m != SignatureMethod {
		return Errorf(http.StatusBadRequest, "IncompleteSignature",
			"The request signature does not conform to Aliyun standards: SignatureMethod must be %s, got %q.", SignatureMethod, m)
	}
	if v := get("SignatureVersion"); v != SignatureVersion {
		return Errorf(http.StatusBadRequest, "IncompleteSignature",
			"The request signature does not conform to Aliyun standards: SignatureVersion must be %s, got %q.", SignatureVersion, v)
	}
	return nil
}

// checkV1 verifies a v1 signature.
func (s *Server) checkV1(method string, sc *scratch, secret string, in *incoming) error {
	sc.sts = in.params.appendStringToSign(sc.sts[:0], method)
	if !s.macs.verify(secret, sc.sts, in.signature) {
		return Errorf(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:%s", sc.sts)
	}
	return nil
}

// parseTimestamp accepts ISO 8601 UTC as the SDKs send it
// (2006-01-02T15:04:05Z), with or without fractional seconds.
func parseTimestamp(s string) (time.Time, error) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[len(s)-1] != 'Z' {
		return time.Time{}, errors.New("not UTC ISO 8601")
	}
	return time.Parse(time.RFC3339Nano, s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func isFormType(ct string) bool { return isMediaType(ct, "application/x-www-form-urlencoded") }

// isMediaType reports whether Content-Type ct is media type mt, whatever
// its parameters (charset=utf-8, as the SDK cores send with JSON).
func isMediaType(ct, mt string) bool {
	t, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(t), mt)
}

// errorBody is the error shape the SDK reads (reference §A5).
type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

func (s *Server) writeError(w http.ResponseWriter, requestID string, err error) {
	status, code, msg := http.StatusInternalServerError, "InternalError",
		"The request processing has failed due to some unknown error, exception or failure."
	ae, ok := errors.AsType[APIError](err)
	if ok && (ae.HTTPStatus() < 400 || ae.HTTPStatus() > 599) {
		// A 2xx would read as success to the SDK, a 3xx as a redirect to
		// follow: an error with such a status is a bug in its handler.
		ok = false
		err = fmt.Errorf("error %q has HTTP status %d, not 4xx/5xx: %w", ae.ErrorCode(), ae.HTTPStatus(), err)
	}
	if ok {
		status, code, msg = ae.HTTPStatus(), ae.ErrorCode(), errorMessage(ae)
	} else {
		s.log.Error("rpc: internal error", "request_id", requestID, "err", err)
	}
	body, _ := marshal(errorBody{
		RequestID: requestID,
		HostID:    s.HostID,
		Code:      code,
		Message:   msg,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(code) +
			"&product=" + url.QueryEscape(s.Product),
	})
	writeJSON(w, status, body)
}

// errorMessage is the Message of an APIError: *Error keeps its message
// apart from its code; any other implementation gives its Error().
func errorMessage(ae APIError) string {
	if e, ok := ae.(*Error); ok {
		return e.Message
	}
	return ae.Error()
}

// writeResult writes the handler's value with RequestId spliced in as the
// first key: marshalling once and inserting bytes is much cheaper than
// decoding into a map to add a key. The value is encoded into a pooled
// buffer after room for the RequestId prefix, which is then written in
// front of it: no second copy of the body.
func (s *Server) writeResult(w http.ResponseWriter, c *Call, res any) {
	if res == nil {
		writeJSON(w, http.StatusOK, []byte(`{"RequestId":"`+c.RequestID+`"}`))
		return
	}
	prefix := len(`{"RequestId":""`) + len(c.RequestID)
	e := getEncoder()
	defer putEncoder(e)
	e.buf.Grow(prefix)
	e.buf.Write(e.buf.AvailableBuffer()[:prefix]) // room for the prefix
	var err error
	if a, ok := res.(JSONAppender); ok {
		e.buf.Write(a.AppendJSON(e.buf.AvailableBuffer()))
	} else {
		err = e.enc.Encode(res)
	}
	out := bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))
	obj := out[prefix:]
	if err != nil || len(obj) < 2 || obj[0] != '{' {
		if err == nil {
			err = fmt.Errorf("result of %s is not a JSON object: %.64s", c.Action, obj)
		}
		s.writeError(w, c.RequestID, fmt.Errorf("marshal result of %s: %w", c.Action, err))
		return
	}
	// obj is out[prefix:]: its '{' becomes the ',' after the prefix, or,
	// for an empty object, the prefix starts one later and ends on the '{'.
	start := 0
	if rest := bytes.TrimSpace(obj[1:]); len(rest) > 0 && rest[0] != '}' {
		obj[0] = ','
	} else {
		start = 1
		obj = obj[1:]
	}
	body := out[start:]
	n := copy(body, `{"RequestId":"`)
	n += copy(body[n:], c.RequestID)
	body[n] = '"'
	writeJSON(w, http.StatusOK, body)
}

// encoder is a JSON encoder writing to its own buffer, pooled.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoderPool = sync.Pool{New: func() any {
	e := new(encoder)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

func getEncoder() *encoder { return encoderPool.Get().(*encoder) }

// putEncoder keeps buffers up to 64 KiB: a big list page should not pin
// its memory in the pool.
func putEncoder(e *encoder) {
	if e.buf.Cap() > 64<<10 {
		return
	}
	e.buf.Reset()
	encoderPool.Put(e)
}

// marshal is json.Marshal without HTML escaping (descriptions may hold & <
// >, and the cloud does not escape them) and without the trailing newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// jsonContentType is shared by all responses: header values are only read
// (net/http copies the map before writing it).
var jsonContentType = []string{"application/json"}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}
