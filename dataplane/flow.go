package dataplane

import (
	"errors"
	"net/netip"
	"sync/atomic"
)

// Directions of a flow, which are also its sides: direction up reads the
// client (side 0) and writes the backend (side 1); down the other way.
const (
	up   = 0 // client → backend
	down = 1 // backend → client
)

var dirNames = [2]string{"client->backend", "backend->client"}

// Flow is one forwarded TCP connection: the client's socket, the backend's,
// and the state of each direction between them. It is owned by the loop
// that accepted it: only that loop touches its sockets and state; other
// goroutines read Bytes and call abort.
//
// Once it forwards, it keeps the assignment it started with (route:
// endpoint, zone, ENI, CLB) even when newer snapshots route the same
// address elsewhere; that is what makes a Graceful migration leave it alone
// and lets a Force migration find and close it. Until then (while its
// backend connect is in flight) it is decided again against each new table
// (loop.redecide).
type Flow struct {
	route *route
	src   netip.Addr
	lp    *loop
	l     *listener
	// table is the route table the accept path read, for the check in
	// established.
	table *routeTable

	fds   [2]int // client, backend socket; -1 once closed
	half  [2]half
	state flowState
	slot  int   // index in the loop's flow list
	last  int64 // loop clock of the last byte moved either way
	// kaSet says the backend leg's keepalive is on (the sweep sets it).
	kaSet bool

	// Backend dialing.
	attempts int
	tried    uint64
	backend  netip.AddrPort
	dialAt   int64 // loop clock when the connect in progress times out
	dslot    int   // index in the loop's dialSet, -1 if not dialing

	bytes    [2]atomic.Int64
	aborting atomic.Bool
}

type flowState int8

const (
	flowDialing flowState = iota // the backend connect is in progress
	flowOpen                     // forwarding
	flowClosed
)

// half is one direction of a flow, from the socket on side dir to the
// other.
type half struct {
	ready  bool // an edge came and no read since came back short: the source may have bytes
	hup    bool // the source hung up or failed: read until EOF or the error
	eof    bool // the source's EOF was read
	done   bool // the EOF was passed on (or the flow ended)
	bulk   bool // move with splice(2), a full read buffer ago this was a bulk transfer
	paused bool // waiting for the shaper's tokens
	// copying: no splice pipe could be had (out of descriptors), so the
	// direction moves everything through the loop's buffer.
	copying bool
	queued  bool // in the loop's queue for another turn (loop.later)

	// Bytes read but not yet written: in the pipe (bulk) or copied out of
	// the loop's buffer after a short write.
	pipe   pipe
	held   bool
	inPipe int
	pend   []byte

	counted bool // counted in buckets.flows
}

// Bytes returns the bytes forwarded so far client→backend and back.
func (f *Flow) Bytes() (toBackend, toClient int64) {
	return f.bytes[up].Load(), f.bytes[down].Load()
}

// abort resets the flow (both sockets get an RST, so a client never
// mistakes a cut stream for a complete one). Any goroutine may call it:
// Force migration, disconnection, a security-group change, shutdown; the
// flow's loop does the closing.
func (f *Flow) abort() {
	if f.aborting.CompareAndSwap(false, true) {
		f.lp.post(func() { f.lp.finish(f, true) })
	}
}

var errIdle = errors.New("idle timeout")
