package rpc

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Products serves several RPC products on one address, as the lab serves
// PrivateLink and CloudMonitor: each request goes to the Server whose
// Version it asks for (the Action names of two products may overlap; the
// Version tells them apart). A request for no known Version goes to the
// first Server, which answers it as it would alone (InvalidVersion, …).
type Products []*Server

// ServeHTTP implements the http.Handler interface.
func (ps Products) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(ps) > 1 {
		if v := requestVersion(r); v != "" {
			for _, s := range ps {
				if s.Version == v {
					s.ServeHTTP(w, r)
					return
				}
			}
		}
	}
	ps[0].ServeHTTP(w, r)
}

// requestVersion finds the Version a request asks for without consuming
// it: the x-acs-version header (the V3 form), the query string, or a form
// body, which is read (bounded as the Server bounds it) and put back.
func requestVersion(r *http.Request) string {
	if v := r.Header.Get("x-acs-version"); v != "" {
		return v
	}
	if v := queryValue(r.URL.RawQuery, "Version"); v != "" {
		return v
	}
	if r.Method != http.MethodPost || r.Body == nil || !isFormType(r.Header.Get("Content-Type")) {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil {
		return ""
	}
	return queryValue(string(body), "Version")
}

// queryValue is the first value of name in a query string, "" if absent
// or malformed.
func queryValue(q, name string) string {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != name {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
		return ""
	}
	return ""
}
