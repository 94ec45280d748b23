package rpc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// Signature v3 (ACS3-HMAC-SHA256), as the current ("V2") SDK cores send it
// by default: darabonba-openapi's GetAuthorization in Go,
// @alicloud/openapi-util's getAuthorization in Node. The action and version
// travel in headers (x-acs-action, x-acs-version) beside x-acs-date,
// x-acs-signature-nonce and x-acs-content-sha256 (the hex SHA-256 of the
// body), and
//
//	Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b;c>,Signature=<hex>
//
// where, for the headers named in SignedHeaders (lower case, sorted):
//
//	CanonicalRequest = METHOD \n "/" \n CanonicalQuery \n
//	                   name:value \n … (one line per signed header) \n
//	                   SignedHeaders \n HashedPayload
//	CanonicalQuery   = k=v pairs of the query, sorted by name, each name
//	                   and value percent-encoded per RFC 3986, joined by &
//	StringToSign     = "ACS3-HMAC-SHA256" \n hex(SHA-256(CanonicalRequest))
//	Signature        = hex(HMAC-SHA256(secret, StringToSign))
//
// A signed header's value is its values trimmed, sorted and joined by ","
// (the cores sort them); HashedPayload is the x-acs-content-sha256 the
// client sent, which the server then checks against the body.

// SignatureAlgorithmV3 is the only v3 algorithm accepted.
const SignatureAlgorithmV3 = "ACS3-HMAC-SHA256"

// Headers of a v3 request.
const (
	HeaderAction        = "x-acs-action"
	HeaderVersion       = "x-acs-version"
	HeaderDate          = "x-acs-date"
	HeaderNonce         = "x-acs-signature-nonce"
	HeaderContentSHA256 = "x-acs-content-sha256"
)

// requiredSignedV3 are the headers a v3 signature must cover: the call
// (action, version), its freshness (date, nonce), the body (its hash) and
// the host. The cores sign every x-acs-* header they send, content-type
// and host; a request that left one of these out could be altered in
// flight or replayed with a new nonce.
var requiredSignedV3 = []string{"host", HeaderAction, HeaderContentSHA256, HeaderDate, HeaderNonce, HeaderVersion}

// emptyPayloadSHA256 is hex(SHA-256("")), the x-acs-content-sha256 of a
// request without a body.
const emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// CanonicalRequestV3 returns the v3 canonical request of a request made
// with method to path "/" with query (decoded), whose headers are read by
// header (name in lower case → its values; "host" is the Host), signing
// the headers named in signedHeaders (lower case, sorted: the list as it
// appears in Authorization), with payloadHash its x-acs-content-sha256.
func CanonicalRequestV3(method string, query url.Values, header func(name string) []string,
	signedHeaders []string, payloadHash string) string {
	ps := make(params, 0, len(query))
	for k, vs := range query {
		for _, v := range vs {
			ps = append(ps, param{k, v})
		}
	}
	slices.SortStableFunc(ps, func(a, b param) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	return string(appendCanonicalRequestV3(nil, method, ps, header, strings.Join(signedHeaders, ";"), payloadHash))
}

// StringToSignV3 returns the v3 string to sign of a canonical request.
func StringToSignV3(canonicalRequest string) string {
	return string(appendStringToSignV3(nil, []byte(canonicalRequest)))
}

// SignV3 returns the v3 signature (lower-case hex) of a string to sign for
// an AccessKey secret.
func SignV3(stringToSign, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(stringToSign))
	return hex.EncodeToString(mac.Sum(nil))
}

// SignRequestV3 signs r as the SDK cores do: it sets x-acs-content-sha256
// to the hash of body (which must be what r sends) and Authorization,
// signing host, content-type and every x-acs-* header r carries. The
// caller sets x-acs-action, x-acs-version, x-acs-date and
// x-acs-signature-nonce first, and r.Host if it differs from r.URL.Host.
func SignRequestV3(r *http.Request, body []byte, accessKeyID, secret string) {
	sum := sha256.Sum256(body)
	r.Header.Set(HeaderContentSHA256, hex.EncodeToString(sum[:]))
	signed := []string{"host"}
	for name := range r.Header {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-acs-") || l == "content-type" {
			signed = append(signed, l)
		}
	}
	slices.Sort(signed)
	signed = slices.Compact(signed)
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	header := func(name string) []string {
		if name == "host" {
			return []string{host}
		}
		return r.Header.Values(name)
	}
	cr := CanonicalRequestV3(r.Method, r.URL.Query(), header, signed, r.Header.Get(HeaderContentSHA256))
	sig := SignV3(StringToSignV3(cr), secret)
	r.Header.Set("Authorization", SignatureAlgorithmV3+" Credential="+accessKeyID+
		",SignedHeaders="+strings.Join(signed, ";")+",Signature="+sig)
}

// appendCanonicalRequestV3 appends the canonical request to dst. query is
// sorted by name; signedHeaders is the ;-list as sent.
func appendCanonicalRequestV3(dst []byte, method string, query params,
	header func(name string) []string, signedHeaders, payloadHash string) []byte {
	dst = append(dst, method...)
	dst = append(dst, "\n/\n"...)
	for i, p := range query {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = appendEncoded(dst, p.k)
		dst = append(dst, '=')
		dst = appendEncoded(dst, p.v)
	}
	dst = append(dst, '\n')
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = appendHeaderValue(dst, header(name))
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	dst = append(dst, signedHeaders...)
	dst = append(dst, '\n')
	return append(dst, payloadHash...)
}

// appendHeaderValue appends a signed header's canonical value: its values
// trimmed, sorted, joined by ",".
func appendHeaderValue(dst []byte, vs []string) []byte {
	if len(vs) == 1 { // the usual case: no copy, no sort
		return append(dst, strings.TrimSpace(vs[0])...)
	}
	t := make([]string, len(vs))
	for i, v := range vs {
		t[i] = strings.TrimSpace(v)
	}
	slices.Sort(t)
	for i, v := range t {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, v...)
	}
	return dst
}

// appendStringToSignV3 appends the string to sign of canonicalRequest.
func appendStringToSignV3(dst, canonicalRequest []byte) []byte {
	sum := sha256.Sum256(canonicalRequest)
	dst = append(dst, SignatureAlgorithmV3...)
	dst = append(dst, '\n')
	return hex.AppendEncode(dst, sum[:])
}

// authorizationV3 is the parsed Authorization header of a v3 request.
type authorizationV3 struct {
	algorithm     string
	credential    string // the AccessKey id
	signedHeaders string // the ;-list as sent
	signature     string
}

// parseAuthorizationV3 splits "ALG Credential=…,SignedHeaders=…,Signature=…"
// (fields in any order, spaces around them allowed). It reports false when
// the header has no algorithm; missing fields are left empty.
func parseAuthorizationV3(h string) (a authorizationV3, ok bool) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg == "" {
		return a, false
	}
	a.algorithm = alg
	for rest != "" {
		var field string
		field, rest, _ = strings.Cut(rest, ",")
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch k {
		case "Credential":
			a.credential = v
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	return a, true
}

// headerGetter reads a server request's header values by lower-case name
// without allocating: the name is put in canonical form in a small buffer
// and the map is indexed with it. "host" is r.Host, which net/http keeps
// out of r.Header; host is a one-element slice holding it, kept by the
// caller (in pooled memory) so that returning it allocates nothing.
type headerGetter struct {
	r    *http.Request
	host []string
}

func (g headerGetter) get(name string) []string {
	if name == "host" {
		g.host[0] = g.r.Host
		return g.host
	}
	var buf [64]byte
	if len(name) > len(buf) {
		return g.r.Header[textproto.CanonicalMIMEHeaderKey(name)]
	}
	b := buf[:len(name)]
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	return g.r.Header[string(b)]
}
