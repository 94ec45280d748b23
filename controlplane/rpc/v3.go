package rpc

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// The v3 headers in net/http's canonical form, to index r.Header without
// canonicalizing a name on every request.
const (
	headerAuthorization    = "Authorization"
	canonicalAction        = "X-Acs-Action"
	canonicalVersion       = "X-Acs-Version"
	canonicalDate          = "X-Acs-Date"
	canonicalNonce         = "X-Acs-Signature-Nonce"
	canonicalContentSHA256 = "X-Acs-Content-Sha256"
)

// header1 is the first value of a header given in canonical form.
func header1(r *http.Request, canonical string) string {
	if vs := r.Header[canonical]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// incompleteV3 is the error of a v3 request whose signature is malformed.
func incompleteV3(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "IncompleteSignature",
		"The request signature does not conform to Aliyun standards: "+format, args...)
}

// readV3 is the front door of signature v3 (sign3.go): the action, version,
// date and nonce are headers, the credentials in Authorization;
// parameters are in the query and the body as for v1.
func (s *Server) readV3(r *http.Request, sc *scratch, in *incoming) error {
	// Shape: what is being asked for.
	in.action, in.version = header1(r, canonicalAction), header1(r, canonicalVersion)
	switch {
	case in.action == "":
		return MissingParameter(HeaderAction)
	case in.version == "":
		return MissingParameter(HeaderVersion)
	}
	if err := s.route(in); err != nil {
		return err
	}

	// Is it signed at all, and how.
	h := header1(r, headerAuthorization)
	if h == "" {
		return incompleteV3("the Authorization header is missing.")
	}
	a, ok := parseAuthorizationV3(h)
	switch {
	case !ok:
		return incompleteV3("Authorization must be %q.",
			SignatureAlgorithmV3+" Credential=…,SignedHeaders=…,Signature=…")
	case a.algorithm != SignatureAlgorithmV3:
		return incompleteV3("the signature algorithm must be %s, got %q.", SignatureAlgorithmV3, a.algorithm)
	case a.credential == "":
		return incompleteV3("Credential is missing from Authorization.")
	case a.signedHeaders == "":
		return incompleteV3("SignedHeaders is missing from Authorization.")
	case a.signature == "":
		return incompleteV3("Signature is missing from Authorization.")
	}
	in.auth, in.accessKeyID, in.signature = a, a.credential, a.signature
	in.timestamp, in.nonce = header1(r, canonicalDate), header1(r, canonicalNonce)
	in.payloadHash = header1(r, canonicalContentSHA256)
	switch {
	case in.timestamp == "":
		return MissingParameter(HeaderDate)
	case in.nonce == "":
		return MissingParameter(HeaderNonce)
	case in.payloadHash == "":
		return MissingParameter(HeaderContentSHA256)
	}
	return checkSignedHeaders(headerGetter{r, sc.host[:]}, a.signedHeaders)
}

// checkSignedHeaders checks the SignedHeaders list: lower case, sorted,
// each name once, each header present in the request, and the ones the
// server relies on among them (requiredSignedV3).
func checkSignedHeaders(g headerGetter, list string) error {
	need := 0 // how many of requiredSignedV3 (sorted) were seen
	prev := ""
	for rest := list; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		if name == "" || name != strings.ToLower(name) || name <= prev {
			return incompleteV3("SignedHeaders must be lower-case header names, sorted, each once, separated by \";\"; got %q.",
				truncate(list, 256))
		}
		prev = name
		if len(g.get(name)) == 0 {
			return incompleteV3("header %q is in SignedHeaders but not in the request.", truncate(name, 64))
		}
		if need < len(requiredSignedV3) && name == requiredSignedV3[need] {
			need++
		}
	}
	if need < len(requiredSignedV3) {
		return incompleteV3("header %q must be signed (in SignedHeaders).", requiredSignedV3[need])
	}
	return nil
}

// checkV3 verifies a v3 signature, then that the body is the one whose
// hash was signed.
func (s *Server) checkV3(r *http.Request, sc *scratch, secret string, in *incoming) error {
	g := headerGetter{r, sc.host[:]}
	sc.cr = appendCanonicalRequestV3(sc.cr[:0], r.Method, sc.query, g.get, in.auth.signedHeaders, in.payloadHash)
	sc.sts = appendStringToSignV3(sc.sts[:0], sc.cr)
	if !s.macs3.verify(secret, sc.sts, in.signature) {
		return Errorf(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:%s, server canonical request is:%s",
			sc.sts, sc.cr)
	}
	var hash [2 * sha256.Size]byte
	if len(sc.body) == 0 {
		copy(hash[:], emptyPayloadSHA256)
	} else {
		sum := sha256.Sum256(sc.body)
		hex.Encode(hash[:], sum[:])
	}
	if !equalFoldHex(in.payloadHash, hash[:]) {
		return Errorf(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified x-acs-content-sha256 is not matched with our calculation: the request body hashes to %s, not %s.",
			string(hash[:]), truncate(in.payloadHash, 64))
	}
	return nil
}

// equalFoldHex reports whether hex string s is lower-case hex h, in any
// case.
func equalFoldHex(s string, h []byte) bool {
	if len(s) != len(h) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		if c != h[i] {
			return false
		}
	}
	return true
}
