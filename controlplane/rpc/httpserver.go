package rpc

import (
	"net/http"
	"time"
)

// Timeouts of the http.Server that NewHTTPServer returns. A request has
// ReadHeaderTimeout to deliver its headers and ReadTimeout for all of it
// (body included), so a client that trickles bytes (slowloris) is cut off
// instead of pinning a goroutine and a socket; idle keep-alive connections
// are closed after IdleTimeout.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 2 * time.Minute
	// MaxHeaderBytes bounds the request line (the query string travels
	// there) plus headers.
	MaxHeaderBytes = 64 << 10
	// hardHeaderBytes is what net/http itself reads before it gives up
	// with a plain-text 431. Between MaxHeaderBytes and this, the answer
	// is a JSON 431 like every other error of the API.
	hardHeaderBytes = 4 * MaxHeaderBytes
)

// NewHTTPServer returns an http.Server for h on addr with the timeouts and
// header bound above. Serve it with ListenAndServe or Serve; the fields may
// be changed before that.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           boundHeaders(h),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    hardHeaderBytes,
	}
}

// boundHeaders answers a request whose request line and headers exceed
// MaxHeaderBytes with 431 in the API's JSON error form, so that clients
// (and the SDK) read a Code and a Message as for any other refusal.
func boundHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n <= MaxHeaderBytes {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := marshal(errorBody{
			RequestID: newRequestID(),
			Code:      "RequestHeaderFieldsTooLarge",
			Message:   "The request line and headers exceed 65536 bytes: send long parameters in the POST body, as the SDK does.",
		})
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
		w.Write(body)
	})
}
