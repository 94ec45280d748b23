// Package rpc is the front door of an Alibaba Cloud RPC-style OpenAPI:
// `GET|POST /?Action=…&Version=…`, JSON out, signed either way the SDKs
// sign: v1 (HMAC-SHA1, parameters only: the classic SDK, the aliyun CLI)
// or v3 (ACS3-HMAC-SHA256, action and version in x-acs-* headers: the
// current SDK cores, sign3.go).
//
// It knows nothing of PrivateLink: it authenticates the caller, parses the
// parameters and hands a *Call to the Handler registered for the Action,
// then writes the handler's result (with RequestId) or its error in the
// shape the official SDK unmarshals.
//
// A request goes through the checks in the order a real gateway makes them
// (server.go); the first that fails answers with its error:
//
//	path "/", GET|POST ─► params: query ∪ body, bounded
//	  ─► v1 (readV1): Action, Version, then Signature, AccessKeyId,
//	     Timestamp, SignatureNonce present, HMAC-SHA1 1.0
//	  ─► v3 (readV3, for an ACS3-* Authorization, or x-acs-date/nonce/
//	     content-sha256 without a v1 Signature): x-acs-action, x-acs-version, then
//	     Authorization, x-acs-date, x-acs-signature-nonce,
//	     x-acs-content-sha256 present, SignedHeaders sent and sufficient
//	  ─► AccessKey known (Credentials)
//	  ─► signature: v1 (sign.go) or v3 and its body hash (v3.go)
//	  ─► timestamp within 15 min ─► nonce not seen (one table, nonce.go)
//	  ─► Handler
//
// The two signatures are two ways into the same parsed request (incoming);
// the Call a handler gets does not say which one was used.
//
// Serving it:
//
//	s := &rpc.Server{Version: "2020-04-15", HostID: "privatelink.cn-hangzhou.aliyuncs.com",
//		Product: "Privatelink", Actions: actions, Credentials: keys, Logger: log}
//	hs := rpc.NewHTTPServer("127.0.0.1:8080", s) // timeouts against slow clients
//	err := hs.ListenAndServe()
//
// Signing a request as the SDKs do (for clients and tests):
//
//	q.Set("Signature", rpc.Sign("POST", q, secret)) // v1
//	rpc.SignRequestV3(req, body, accessKeyID, secret) // v3, x-acs-* headers set
//
// Load-testing it: package rpctest is a signed client lean enough that the
// server, not the client, is what a benchmark on the same cores measures.
//
// The hot path is kept free of per-parameter allocations: parameters are
// parsed into a pooled sorted slice (request.go), HMAC states are pooled
// per secret (sign.go), results are encoded into pooled buffers, and a
// result may encode itself (JSONAppender).
package rpc

import (
	"context"
	"fmt"
	"net/http"
)

// Handler serves one Action. It returns a value marshalled as the JSON
// response body (a struct or map; RequestId is added by the server) or an
// error. Errors that implement APIError are written with their status and
// code; any other error becomes 500 InternalError.
type Handler func(ctx context.Context, c *Call) (any, error)

// JSONAppender is implemented by handler results that encode themselves,
// sparing a hot response encoding/json's reflection: AppendJSON appends
// the value's JSON object to b. The server writes it as it is (with
// RequestId spliced in), so it must be a valid JSON object, and should be
// byte for byte what encoding/json (without HTML escaping) would write.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// Call is one authenticated request.
type Call struct {
	Action    string
	RequestID string
	// CallerUID is the 16-digit account UID the AccessKey belongs to.
	CallerUID   string
	AccessKeyID string
	// RegionId common parameter ("" if absent).
	RegionID string
	// Params are the action's parameters: query and form merged, without
	// the common ones (Signature*, AccessKeyId, Timestamp, Format, Version,
	// Action, RegionId, SecurityToken, BearerToken, SourceIp,
	// SecureTransport) and without empty values.
	Params Params
}

// APIError is an error in the API's terms. The server writes it as
// {"RequestId","HostId","Code","Message","Recommend"} with HTTPStatus.
type APIError interface {
	error
	HTTPStatus() int
	ErrorCode() string
}

// Error is a gateway or parameter error.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string     { return e.Code + ": " + e.Message }
func (e *Error) HTTPStatus() int   { return e.Status }
func (e *Error) ErrorCode() string { return e.Code }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// MissingParameter is the error for an absent required parameter.
func MissingParameter(name string) *Error {
	return Errorf(http.StatusBadRequest, "MissingParameter",
		"The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

// InvalidParameter is the error for a parameter whose value is wrong.
// The code is the plain "InvalidParameter"; the message names the parameter.
func InvalidParameter(name, why string) *Error {
	return Errorf(http.StatusBadRequest, "InvalidParameter",
		"The specified parameter %q is not valid: %s", name, why)
}
