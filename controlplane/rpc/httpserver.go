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
)

// NewHTTPServer returns an http.Server for h on addr with the timeouts and
// header bound above. Serve it with ListenAndServe or Serve; the fields may
// be changed before that.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}
