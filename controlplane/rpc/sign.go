package rpc

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
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
	keys := make([]string, 0, len(params))
	n := len(method) + 4
	for k, vs := range params {
		if k == "Signature" {
			continue
		}
		keys = append(keys, k)
		for _, v := range vs {
			// Worst case every byte becomes %25XX (5 bytes), plus %3D and %26.
			n += 5*(len(k)+len(v)) + 6
		}
	}
	slices.Sort(keys)

	var b strings.Builder
	b.Grow(n)
	b.WriteString(method)
	b.WriteString("&%2F&")
	first := true
	for _, k := range keys {
		for _, v := range params[k] {
			if !first {
				b.WriteString("%26") // "&" encoded once
			}
			first = false
			writeTwiceEncoded(&b, k)
			b.WriteString("%3D") // "=" encoded once
			writeTwiceEncoded(&b, v)
		}
	}
	return b.String()
}

// Sign returns the v1 signature of a request made with method carrying
// params, for an AccessKey secret.
func Sign(method string, params url.Values, secret string) string {
	return signString(StringToSign(method, params), secret)
}

func signString(stringToSign, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}

// signatureMatches compares signatures in constant time.
func signatureMatches(got, want string) bool {
	return hmac.Equal([]byte(got), []byte(want))
}

const upperHex = "0123456789ABCDEF"

// writeTwiceEncoded writes percent(percent(s)) in one pass: the first RFC
// 3986 encoding leaves unreserved bytes alone and turns any other byte into
// %XX; the second leaves the unreserved bytes and the hex digits alone and
// turns each '%' into %25. So a reserved byte ends up as %25XX.
func writeTwiceEncoded(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%25")
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
