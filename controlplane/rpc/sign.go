package rpc

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/url"
	"slices"
	"sync"
)

// Signature v1 as the Alibaba SDKs compute it (reference §A4): the string to
// sign is METHOD&%2F&percent(canonical), where canonical is the sorted
// k=v pairs of every parameter but Signature, each key and value
// percent-encoded per RFC 3986; the signature is
// base64(HMAC-SHA1(secret+"&", StringToSign)).

const (
	// SignatureMethod is the only signature method accepted.
	SignatureMethod = "HMAC-SHA1"
	// SignatureVersion is the only signature version accepted.
	SignatureVersion = "1.0"
)

// StringToSign returns the v1 string to sign for a request made with
// method (GET or POST) carrying params (query and form body merged,
// decoded). The Signature parameter is skipped; empty values are included,
// as the SDK signs SignatureType= too. A key with several values
// contributes one pair per value, in order.
func StringToSign(method string, params url.Values) string {
	return string(appendStringToSign(nil, method, params))
}

// Sign returns the v1 signature of a request made with method carrying
// params, for an AccessKey secret.
func Sign(method string, params url.Values, secret string) string {
	return signBytes(appendStringToSign(nil, method, params), secret)
}

// appendStringToSign appends the string to sign to dst. It sizes the
// buffer exactly first: this runs on every call, and strings.Builder-style
// doubling would copy the (often kilobyte-long) result several times.
func appendStringToSign(dst []byte, method string, params url.Values) []byte {
	keys := make([]string, 0, len(params))
	n := len(method) + len("&%2F&")
	for k, vs := range params {
		if k == "Signature" {
			continue
		}
		keys = append(keys, k)
		for _, v := range vs {
			n += twiceEncodedLen(k) + len("%3D") + twiceEncodedLen(v) + len("%26")
		}
	}
	slices.Sort(keys)

	dst = slices.Grow(dst, n)
	dst = append(dst, method...)
	dst = append(dst, "&%2F&"...)
	first := true
	for _, k := range keys {
		for _, v := range params[k] {
			if !first {
				dst = append(dst, "%26"...) // "&" encoded once
			}
			first = false
			dst = appendTwiceEncoded(dst, k)
			dst = append(dst, "%3D"...) // "=" encoded once
			dst = appendTwiceEncoded(dst, v)
		}
	}
	return dst
}

func signBytes(stringToSign []byte, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write(stringToSign)
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}

// macCache keeps HMAC states keyed by secret, pooled: hmac.New hashes
// the key into fresh inner and outer states on every call, and after its
// first Reset an HMAC restores them instead of recomputing. One cache
// serves one signature: v1 (HMAC-SHA1 keyed with secret+"&") or v3
// (HMAC-SHA256 keyed with the secret).
type macCache struct {
	v3    bool
	mu    sync.RWMutex
	pools map[string]*sync.Pool
}

// pooledMAC is an HMAC with room for its sum (a sum on the stack would
// escape through the hash.Hash interface).
type pooledMAC struct {
	mac hash.Hash
	sum []byte
}

// maxCachedSecrets bounds the cache; past it the cache starts over (keys
// come and go with the lab; a handful is the normal case).
const maxCachedSecrets = 256

func (c *macCache) pool(secret string) *sync.Pool {
	c.mu.RLock()
	p := c.pools[secret]
	c.mu.RUnlock()
	if p != nil {
		return p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p = c.pools[secret]; p != nil {
		return p
	}
	if c.pools == nil || len(c.pools) >= maxCachedSecrets {
		c.pools = make(map[string]*sync.Pool)
	}
	newHash, key := sha1.New, []byte(secret+"&")
	if c.v3 {
		newHash, key = sha256.New, []byte(secret)
	}
	p = &sync.Pool{New: func() any {
		m := hmac.New(newHash, key)
		return &pooledMAC{mac: m, sum: make([]byte, 0, m.Size())}
	}}
	c.pools[secret] = p
	return p
}

// verify reports whether signature is the signature of stringToSign under
// secret, comparing in constant time: base64 for v1, lower-case hex for
// v3.
func (c *macCache) verify(secret string, stringToSign []byte, signature string) bool {
	p := c.pool(secret)
	m := p.Get().(*pooledMAC)
	m.mac.Reset()
	m.mac.Write(stringToSign)
	m.sum = m.mac.Sum(m.sum[:0])
	var buf [64]byte // hex of 32 bytes; base64 of 20 is 28
	var want []byte
	if c.v3 {
		want = buf[:hex.EncodedLen(len(m.sum))]
		hex.Encode(want, m.sum)
	} else {
		want = buf[:base64.StdEncoding.EncodedLen(len(m.sum))]
		base64.StdEncoding.Encode(want, m.sum)
	}
	p.Put(m)
	return len(signature) == len(want) &&
		subtle.ConstantTimeCompare([]byte(signature), want) == 1
}

const upperHex = "0123456789ABCDEF"

// appendTwiceEncoded appends percent(percent(s)) in one pass: the first
// RFC 3986 encoding leaves unreserved bytes alone and turns any other byte
// into %XX; the second leaves the unreserved bytes and the hex digits alone
// and turns each '%' into %25. So a reserved byte ends up as %25XX.
func appendTwiceEncoded(dst []byte, s string) []byte { return appendEscaped(dst, s, "%25") }

// appendEncoded appends s percent-encoded once per RFC 3986: unreserved
// bytes kept, every other byte %XX.
func appendEncoded(dst []byte, s string) []byte { return appendEscaped(dst, s, "%") }

// appendEscaped appends s with every byte but the unreserved ones written
// as escape followed by its two upper-case hex digits. Runs of unreserved
// bytes are copied whole: most names and values are one.
func appendEscaped(dst []byte, s, escape string) []byte {
	for len(s) > 0 {
		i := 0
		for i < len(s) && unreservedBytes[s[i]] {
			i++
		}
		dst = append(dst, s[:i]...)
		if i == len(s) {
			break
		}
		c := s[i]
		dst = append(dst, escape...)
		dst = append(dst, upperHex[c>>4], upperHex[c&15])
		s = s[i+1:]
	}
	return dst
}

// twiceEncodedLen is len(appendTwiceEncoded(nil, s)).
func twiceEncodedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !unreservedBytes[s[i]] {
			n += 4
		}
	}
	return n
}

// unreservedBytes marks the bytes RFC 3986 leaves unencoded.
var unreservedBytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = unreserved(byte(c))
	}
	return t
}()

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
