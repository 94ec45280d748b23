// Package rpctest is a lean client for load-testing an RPC-style OpenAPI
// server (controlplane/rpc): signed calls over one raw keep-alive HTTP/1.1
// connection, without net/http's per-request goroutine handoffs, header
// maps and url.Values encoding. Measuring a server on the same 2 cores as
// its clients, the client's CPU is the server's loss; this one costs a few
// microseconds a call.
//
// Every call is a real one: signature v1 (HMAC-SHA1) over all parameters,
// a fresh SignatureNonce, the current Timestamp; the server verifies all
// of them as it would the SDK's. Parameters travel in the query of a POST,
// as the SDK sends them. With V3 set, calls are signed with v3
// (ACS3-HMAC-SHA256) as the current SDK cores sign them: action, version,
// date and nonce in x-acs-* headers, the signature in Authorization.
//
// It signs on its own, without controlplane/rpc, so that rpc's own tests
// can use it and it checks the server's signing independently.
package rpctest

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Client sends signed calls over one connection. It is not safe for
// concurrent use: give each load goroutine its own.
type Client struct {
	// Region is the RegionId sent with every call; "" sends none.
	Region string
	// Timeout bounds each call (write and response); zero means none.
	Timeout time.Duration
	// V3 signs calls with signature v3 instead of v1.
	V3 bool

	addr, version, accessKeyID string
	conn                       net.Conn
	br                         *bufio.Reader
	mac                        hash.Hash // v1: HMAC-SHA1 keyed secret+"&"
	mac3                       hash.Hash // v3: HMAC-SHA256 keyed secret

	nonceBase [16]byte // random hex prefix of this client's nonces
	seq       uint64
	stampSec  int64
	stamp     []byte

	params []kv
	sts    []byte
	req    []byte
	form   []byte
	body   []byte
}

type kv struct {
	k, v string
	form bool // sent in the form body, not the query
}

// Dial connects to addr (host:port) for API version, signing as
// accessKeyID with secret.
func Dial(addr, version, accessKeyID, secret string) (*Client, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Client{
		addr: addr, version: version, accessKeyID: accessKeyID,
		conn: conn,
		br:   bufio.NewReaderSize(conn, 16<<10),
		mac:  hmac.New(sha1.New, []byte(secret+"&")),
		mac3: hmac.New(sha256.New, []byte(secret)),
	}
	var r [8]byte
	rand.Read(r[:])
	hex.Encode(c.nonceBase[:], r[:])
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Call sends action with parameters given as name, value pairs, in the
// query, and returns the HTTP status and the response body. The body is
// valid until the next call. An error means the connection is unusable,
// and so is a response that closed it (Connection: close).
func (c *Client) Call(action string, pairs ...string) (status int, body []byte, err error) {
	return c.CallForm(action, pairs, nil)
}

// CallForm is Call with some parameters in a form body (as the SDK sends
// a few actions' parameters): query and form are name, value pairs.
func (c *Client) CallForm(action string, query, form []string) (status int, body []byte, err error) {
	if len(query)%2 != 0 || len(form)%2 != 0 {
		return 0, nil, errors.New("rpctest: odd number of parameter strings")
	}
	c.seq++
	var nonce [32]byte
	copy(nonce[:16], c.nonceBase[:])
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], c.seq)
	hex.Encode(nonce[16:], seq[:])
	if now := time.Now().UTC(); now.Unix() != c.stampSec {
		c.stampSec = now.Unix()
		c.stamp = now.AppendFormat(c.stamp[:0], "2006-01-02T15:04:05Z")
	}
	if c.V3 {
		return c.callV3(action, string(nonce[:]), query, form)
	}

	ps := append(c.params[:0],
		kv{k: "AccessKeyId", v: c.accessKeyID}, kv{k: "Action", v: action}, kv{k: "Format", v: "JSON"},
		kv{k: "SignatureMethod", v: "HMAC-SHA1"}, kv{k: "SignatureNonce", v: string(nonce[:])},
		kv{k: "SignatureType", v: ""}, kv{k: "SignatureVersion", v: "1.0"},
		kv{k: "Timestamp", v: string(c.stamp)}, kv{k: "Version", v: c.version})
	ps = c.sorted(ps, query, form)

	// String to sign: POST&%2F&percent(canonical query).
	sts := append(c.sts[:0], "POST&%2F&"...)
	for i, p := range ps {
		if i > 0 {
			sts = append(sts, "%26"...)
		}
		sts = appendEncoded(sts, p.k, true)
		sts = append(sts, "%3D"...)
		sts = appendEncoded(sts, p.v, true)
	}
	c.sts = sts
	c.mac.Reset()
	c.mac.Write(sts)
	var sum [sha1.Size]byte
	var sig [28]byte
	base64.StdEncoding.Encode(sig[:], c.mac.Sum(sum[:0]))

	// The form body first, to know its length; then the request whole,
	// written at once.
	fb := appendForm(c.form[:0], ps)
	c.form = fb
	req := append(c.req[:0], "POST /?"...)
	for _, p := range ps {
		if !p.form {
			req = appendEncoded(req, p.k, false)
			req = append(req, '=')
			req = appendEncoded(req, p.v, false)
			req = append(req, '&')
		}
	}
	req = append(req, "Signature="...)
	req = appendEncoded(req, string(sig[:]), false)
	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, c.addr...)
	req = append(req, "\r\nAccept: application/json\r\nContent-Length: "...)
	return c.send(req, fb)
}

// sorted adds RegionId and the call's query and form parameters to ps,
// sorts them by name (as both signatures want) and keeps the slice for the
// next call.
func (c *Client) sorted(ps []kv, query, form []string) []kv {
	if c.Region != "" {
		ps = append(ps, kv{k: "RegionId", v: c.Region})
	}
	for i := 0; i < len(query); i += 2 {
		ps = append(ps, kv{query[i], query[i+1], false})
	}
	for i := 0; i < len(form); i += 2 {
		ps = append(ps, kv{form[i], form[i+1], true})
	}
	slices.SortFunc(ps, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	c.params = ps
	return ps
}

// callV3 sends one call signed with v3: parameters (and RegionId) in the
// query and the form body, the rest in headers. The query is sent in its
// canonical form (sorted, RFC 3986), so it is also what is signed.
func (c *Client) callV3(action, nonce string, query, form []string) (int, []byte, error) {
	ps := c.sorted(c.params[:0], query, form)
	fb := appendForm(c.form[:0], ps)
	c.form = fb
	var bodyHash [64]byte
	sum := sha256.Sum256(fb)
	hex.Encode(bodyHash[:], sum[:])

	// The request line first: its query is the canonical query too.
	req := append(c.req[:0], "POST /?"...)
	qstart := len(req)
	for _, p := range ps {
		if !p.form {
			if len(req) > qstart {
				req = append(req, '&')
			}
			req = appendEncoded(req, p.k, false)
			req = append(req, '=')
			req = appendEncoded(req, p.v, false)
		}
	}
	query3 := req[qstart:]
	signed := "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
	if len(fb) > 0 {
		signed = "content-type;" + signed
	}
	cr := append(c.sts[:0], "POST\n/\n"...)
	cr = append(cr, query3...)
	cr = append(cr, '\n')
	if len(fb) > 0 {
		cr = append(cr, "content-type:application/x-www-form-urlencoded\n"...)
	}
	cr = append(cr, "host:"...)
	cr = append(cr, c.addr...)
	cr = append(cr, "\nx-acs-action:"...)
	cr = append(cr, action...)
	cr = append(cr, "\nx-acs-content-sha256:"...)
	cr = append(cr, bodyHash[:]...)
	cr = append(cr, "\nx-acs-date:"...)
	cr = append(cr, c.stamp...)
	cr = append(cr, "\nx-acs-signature-nonce:"...)
	cr = append(cr, nonce...)
	cr = append(cr, "\nx-acs-version:"...)
	cr = append(cr, c.version...)
	cr = append(cr, "\n\n"...)
	cr = append(cr, signed...)
	cr = append(cr, '\n')
	cr = append(cr, bodyHash[:]...)
	c.sts = cr
	crSum := sha256.Sum256(cr)
	var sts [len("ACS3-HMAC-SHA256\n") + 64]byte
	copy(sts[:], "ACS3-HMAC-SHA256\n")
	hex.Encode(sts[len("ACS3-HMAC-SHA256\n"):], crSum[:])
	c.mac3.Reset()
	c.mac3.Write(sts[:])
	var mac [sha256.Size]byte
	var sig [64]byte
	hex.Encode(sig[:], c.mac3.Sum(mac[:0]))

	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, c.addr...)
	req = append(req, "\r\nAccept: application/json\r\nx-acs-action: "...)
	req = append(req, action...)
	req = append(req, "\r\nx-acs-version: "...)
	req = append(req, c.version...)
	req = append(req, "\r\nx-acs-date: "...)
	req = append(req, c.stamp...)
	req = append(req, "\r\nx-acs-signature-nonce: "...)
	req = append(req, nonce...)
	req = append(req, "\r\nx-acs-content-sha256: "...)
	req = append(req, bodyHash[:]...)
	req = append(req, "\r\nAuthorization: ACS3-HMAC-SHA256 Credential="...)
	req = append(req, c.accessKeyID...)
	req = append(req, ",SignedHeaders="...)
	req = append(req, signed...)
	req = append(req, ",Signature="...)
	req = append(req, sig[:]...)
	req = append(req, "\r\nContent-Length: "...)
	return c.send(req, fb)
}

// send finishes a request whose headers end with "Content-Length: ": the
// length, the form type when there is a body, the body; writes it whole
// and reads the answer.
func (c *Client) send(req, fb []byte) (int, []byte, error) {
	req = strconv.AppendInt(req, int64(len(fb)), 10)
	if len(fb) > 0 {
		req = append(req, "\r\nContent-Type: application/x-www-form-urlencoded"...)
	}
	req = append(req, "\r\n\r\n"...)
	req = append(req, fb...)
	c.req = req
	if c.Timeout > 0 {
		c.conn.SetDeadline(time.Now().Add(c.Timeout))
	}
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, err
	}
	return c.readResponse()
}

// readResponse reads one response framed by Content-Length (the rpc
// server always sends one).
func (c *Client) readResponse() (int, []byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("rpctest: bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("rpctest: bad status line %q", line)
	}
	length := -1
	closing, chunked := false, false
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, nil, fmt.Errorf("rpctest: bad header %q", h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, nil, fmt.Errorf("rpctest: bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return 0, nil, fmt.Errorf("rpctest: Transfer-Encoding %q not supported", value)
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			closing = true
		}
	}
	var body []byte
	switch {
	case chunked:
		if body, err = c.readChunked(); err != nil {
			return 0, nil, err
		}
	case length >= 0:
		if cap(c.body) < length {
			c.body = make([]byte, length)
		}
		body = c.body[:length]
		if _, err := io.ReadFull(c.br, body); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, errors.New("rpctest: response without Content-Length")
	}
	if closing {
		c.conn.Close()
	}
	return status, body, nil
}

// readChunked reads a chunked body (net/http servers send one when a body
// outgrows their buffer and no Content-Length was set).
func (c *Client) readChunked() ([]byte, error) {
	body := c.body[:0]
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseUint(string(size), 16, 31)
		if err != nil {
			return nil, fmt.Errorf("rpctest: bad chunk size %q", line)
		}
		if n == 0 {
			// Trailers, if any, end with an empty line.
			for {
				line, err := c.br.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					c.body = body
					return body, nil
				}
			}
		}
		start := len(body)
		body = slices.Grow(body, int(n))[:start+int(n)]
		if _, err := io.ReadFull(c.br, body[start:]); err != nil {
			return nil, err
		}
		if _, err := c.br.Discard(2); err != nil { // CRLF after the data
			return nil, err
		}
	}
}

const upperHex = "0123456789ABCDEF"

// unreserved marks the bytes RFC 3986 leaves unencoded.
var unreserved = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

// appendEncoded appends s percent-encoded per RFC 3986 (unreserved bytes
// kept, every other byte %XX), as the SDK encodes; twice, it encodes the
// result again (each '%' becomes %25), as the string to sign wants. Runs
// of unreserved bytes are copied whole: most values are all of one.
func appendEncoded(dst []byte, s string, twice bool) []byte {
	for len(s) > 0 {
		i := 0
		for i < len(s) && unreserved[s[i]] {
			i++
		}
		dst = append(dst, s[:i]...)
		if i == len(s) {
			break
		}
		b := s[i]
		if twice {
			dst = append(dst, '%', '2', '5', upperHex[b>>4], upperHex[b&15])
		} else {
			dst = append(dst, '%', upperHex[b>>4], upperHex[b&15])
		}
		s = s[i+1:]
	}
	return dst
}

// appendForm appends the form-body parameters of ps to dst (empty),
// encoded and joined by '&'.
func appendForm(dst []byte, ps []kv) []byte {
	for _, p := range ps {
		if p.form {
			if len(dst) > 0 {
				dst = append(dst, '&')
			}
			dst = appendEncoded(dst, p.k, false)
			dst = append(dst, '=')
			dst = appendEncoded(dst, p.v, false)
		}
	}
	return dst
}
