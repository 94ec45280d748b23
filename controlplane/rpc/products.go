package rpc

import "net/http"

// Products serves several RPC products on one address, as the lab serves
// PrivateLink and CloudMonitor. The first Server is the front door for
// all: it parses each request, checks its signature against its own
// Credentials and its nonce in its one replay table; the Server whose
// Version the request names (the Action names of two products may
// overlap) runs the action, and its HostID and Product name the errors of
// its handlers. A request for no known Version gets InvalidVersion.
type Products []*Server

// ServeHTTP implements the http.Handler interface.
func (ps Products) ServeHTTP(w http.ResponseWriter, r *http.Request) { ps[0].serve(w, r, ps[1:]) }
