// Package backend is the demo HTTP server eplink runs behind a CLB listener
// (lab `builtin: http`, `eplink backend`): it says who it is, and serves a
// bounded stream of bytes for throughput tests.
//
//	GET /             Hello World ! This is NAME.
//	GET /bytes?n=N    N zero bytes (0 ≤ N ≤ MaxBytes), streamed
package backend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// MaxBytes bounds /bytes so a typo cannot ask for an endless response.
const MaxBytes = 64 << 30

// Handler answers "Hello World ! This is NAME." on / and N bytes on
// /bytes?n=N.
func Handler(name string) http.Handler {
	// The newline keeps a shell prompt off the answer's line after curl, as
	// nginx's `return 200 "…\n"` does in the bench.
	hello := []byte("Hello World ! This is " + name + ".\n")
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(hello)))
		w.Write(hello)
	})
	mux.HandleFunc("/bytes", serveBytes)
	return mux
}

// zeros is what /bytes streams; 64 KiB keeps syscalls per byte low.
var zeros [64 << 10]byte

func serveBytes(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err != nil || n < 0 || n > MaxBytes {
		http.Error(w, fmt.Sprintf("n must be an integer in [0, %d]", int64(MaxBytes)), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	if r.Method == http.MethodHead {
		return
	}
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return // client went away
		}
		n -= k
	}
}

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully
// (in-flight requests get a few seconds) and returns nil.
func Serve(ctx context.Context, ln net.Listener, name string) error {
	srv := &http.Server{
		Handler:           Handler(name),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       900 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
		case <-stop: // Serve failed on its own
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	close(stop)
	<-done
	if ctx.Err() != nil {
		return nil // Shutdown raced the error; it is the cause
	}
	srv.Close()
	return err
}
