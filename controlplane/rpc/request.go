package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// param is one decoded name=value pair of a request.
type param struct{ k, v string }

// params are a request's parameters, query and form body merged, sorted by
// name, each name once. Sorted is the order the string to sign wants, and
// it makes lookups a binary search: a slice instead of url.Values saves a
// map and a one-element slice per parameter on every call.
type params []param

// get returns the value of name, "" if absent.
func (ps params) get(name string) string {
	i, ok := slices.BinarySearchFunc(ps, name, func(p param, name string) int {
		return strings.Compare(p.k, name)
	})
	if !ok {
		return ""
	}
	return ps[i].v
}

// values returns ps as url.Values (for tests and the reference signer).
func (ps params) values() url.Values {
	v := make(url.Values, len(ps))
	for _, p := range ps {
		v[p.k] = append(v[p.k], p.v)
	}
	return v
}

// appendStringToSign is the package-level appendStringToSign for sorted,
// distinct parameters.
func (ps params) appendStringToSign(dst []byte, method string) []byte {
	n := len(method) + len("&%2F&")
	for _, p := range ps {
		n += twiceEncodedLen(p.k) + len("%3D") + twiceEncodedLen(p.v) + len("%26")
	}
	dst = slices.Grow(dst, n)
	dst = append(dst, method...)
	dst = append(dst, "&%2F&"...)
	first := true
	for _, p := range ps {
		if p.k == "Signature" {
			continue
		}
		if !first {
			dst = append(dst, "%26"...)
		}
		first = false
		dst = appendTwiceEncoded(dst, p.k)
		dst = append(dst, "%3D"...)
		dst = appendTwiceEncoded(dst, p.v)
	}
	return dst
}

// scratch is the per-request working memory of authenticate, pooled: the
// parameter slices and the string to sign.
type scratch struct {
	query, form params
	merged      params
	sts         []byte
	cr          []byte // v3 canonical request
	body        []byte
	host        [1]string // v3: the Host as a signed header's values
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// putScratch returns sc to the pool unless one request made it large:
// a pool of big buffers would keep the memory of the worst request.
func putScratch(sc *scratch) {
	if cap(sc.query) > 64 || cap(sc.form) > 64 || cap(sc.merged) > 64 ||
		cap(sc.sts) > 8<<10 || cap(sc.cr) > 8<<10 || cap(sc.body) > 8<<10 {
		return
	}
	clear(sc.query[:cap(sc.query)]) // drop the strings for the GC
	clear(sc.form[:cap(sc.form)])
	clear(sc.merged[:cap(sc.merged)])
	sc.query, sc.form, sc.merged = sc.query[:0], sc.form[:0], sc.merged[:0]
	sc.sts, sc.cr, sc.body = sc.sts[:0], sc.cr[:0], sc.body[:0]
	sc.host[0] = ""
	scratchPool.Put(sc)
}

// maxQuerySegments is net/url's own limit on the &-separated segments of a
// query (its urlmaxqueryparams default): beyond it ParseQuery refuses the
// whole string, and so do we.
const maxQuerySegments = 10000

// parseQuery appends the pairs of a query string to dst as url.ParseQuery
// decodes them (same splitting, unescaping and errors), without building
// url.Values. Unescaping leaves a name or value without % or + as a
// substring of s: no copy.
func parseQuery(dst params, s string) (params, error) {
	if strings.Count(s, "&")+1 > maxQuerySegments {
		return dst, errors.New("too many query parameters")
	}
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if strings.Contains(kv, ";") {
			return dst, errors.New("invalid semicolon separator in query")
		}
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return dst, err
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			return dst, err
		}
		dst = append(dst, param{k, v})
	}
	return dst, nil
}

// readParams returns the query and form-body parameters merged and sorted,
// each with exactly one value. The body may only add parameters: a name
// given twice, in one place or both, is refused, since which of the values
// was meant (and signed) would be a guess. With allowJSON, a JSON object
// body is accepted too (parseJSONBody). The result lives in sc; the raw
// body stays in sc.body.
func readParams(w http.ResponseWriter, r *http.Request, sc *scratch, allowJSON bool) (params, error) {
	var err error
	sc.query, err = parseQuery(sc.query[:0], r.URL.RawQuery)
	if err != nil {
		return nil, InvalidParameter("query", "malformed query string")
	}
	sortParams(sc.query)
	if err := checkParams(sc.query, 0); err != nil {
		return nil, err
	}
	if r.Body == nil || r.ContentLength == 0 {
		return sc.query, nil
	}
	body, err := readBody(sc.body[:0], http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	sc.body = body
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				"The request body is larger than %d bytes.", MaxBodyBytes)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, Errorf(http.StatusRequestTimeout, "RequestTimeout",
				"The request body was not received in time.")
		}
		return nil, Errorf(http.StatusBadRequest, "InvalidParameter",
			"The request body could not be read.")
	}
	if len(body) == 0 {
		return sc.query, nil
	}
	switch ct := r.Header.Get("Content-Type"); {
	case isFormType(ct):
		// One string for the whole body: the parameters are substrings of
		// it and outlive the pooled buffer in Call.Params.
		sc.form, err = parseQuery(sc.form[:0], string(body))
		if err != nil {
			return nil, InvalidParameter("body", "malformed form body")
		}
	case allowJSON && isMediaType(ct, "application/json"):
		sc.form, err = parseJSONBody(sc.form[:0], body)
		if err != nil {
			return nil, InvalidParameter("body", "malformed JSON body: "+err.Error())
		}
	case allowJSON:
		return nil, Errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"The request body must be application/x-www-form-urlencoded or application/json, not %q.", ct)
	default:
		return nil, Errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"The request body must be application/x-www-form-urlencoded, not %q.", ct)
	}
	sortParams(sc.form)
	if err := checkParams(sc.form, distinct(sc.query)); err != nil {
		return nil, err
	}
	// Merge the two sorted lists; a name in both is refused.
	q, f := sc.query, sc.form
	m := slices.Grow(sc.merged[:0], len(q)+len(f))
	for len(q) > 0 || len(f) > 0 {
		switch {
		case len(f) == 0:
			m, q = append(m, q...), nil
		case len(q) == 0:
			m, f = append(m, f...), nil
		case q[0].k < f[0].k:
			m, q = append(m, q[0]), q[1:]
		case q[0].k > f[0].k:
			m, f = append(m, f[0]), f[1:]
		default:
			sc.merged = m
			return nil, InvalidParameter(f[0].k, "given in both the query and the body")
		}
	}
	sc.merged = m
	return m, nil
}

// readBody reads all of r into dst (a pooled buffer, grown as needed).
func readBody(dst []byte, r io.Reader) ([]byte, error) {
	if cap(dst) < 512 {
		dst = make([]byte, 0, 512)
	}
	for {
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, len(dst))
		}
	}
}

func sortParams(ps params) {
	slices.SortStableFunc(ps, func(a, b param) int { return strings.Compare(a.k, b.k) })
}

// distinct is the number of distinct names in sorted ps.
func distinct(ps params) int {
	n := 0
	for i := range ps {
		if i == 0 || ps[i].k != ps[i-1].k {
			n++
		}
	}
	return n
}

// checkParams applies the per-request bounds to sorted ps; already is the
// number of parameters seen before these.
func checkParams(ps params, already int) error {
	if already+distinct(ps) > MaxParams {
		return Errorf(http.StatusBadRequest, "InvalidParameter",
			"The request has more than %d parameters.", MaxParams)
	}
	for i, p := range ps {
		if i+1 < len(ps) && ps[i+1].k == p.k {
			return InvalidParameter(p.k, "given more than once")
		}
		if len(p.k) > MaxValueBytes || len(p.v) > MaxValueBytes {
			return InvalidParameter(truncate(p.k, 64), fmt.Sprintf("longer than %d bytes", MaxValueBytes))
		}
	}
	return nil
}

// parseJSONBody appends the parameters of a JSON object body to dst,
// flattened the way the SDK cores flatten a body into a form: a scalar
// member is one parameter (numbers as written), an array X gives X.1,
// X.2, …, an object X gives X.Key; null members are left out.
func parseJSONBody(dst params, body []byte) (params, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return dst, err
	}
	if obj == nil {
		return dst, errors.New("not an object")
	}
	if d.More() {
		return dst, errors.New("data after the object")
	}
	var flatten func(prefix string, v any) error
	flatten = func(prefix string, v any) error {
		if len(dst) > MaxParams {
			return fmt.Errorf("more than %d parameters", MaxParams)
		}
		switch v := v.(type) {
		case nil:
		case string:
			dst = append(dst, param{prefix, v})
		case json.Number:
			dst = append(dst, param{prefix, v.String()})
		case bool:
			dst = append(dst, param{prefix, strconv.FormatBool(v)})
		case []any:
			for i, e := range v {
				if err := flatten(prefix+"."+strconv.Itoa(i+1), e); err != nil {
					return err
				}
			}
		case map[string]any:
			for k, e := range v {
				if err := flatten(prefix+"."+k, e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for k, v := range obj {
		if err := flatten(k, v); err != nil {
			return dst, err
		}
	}
	return dst, nil
}
