package controlplane

import (
	"encoding/json"
	"errors"
	"sort"
	"time"

	"eplink/controlplane/store"
)

// Caller is who makes a call and how: the API layer fills it from the
// authenticated request.
type Caller struct {
	// UID is the caller's account.
	UID string
	// Action names the call (the idempotency key includes it).
	Action string
	// ClientToken makes a mutating call idempotent ("" = none).
	ClientToken string
	// Fingerprint identifies the call's parameters (without ClientToken);
	// the same token with another fingerprint is refused.
	Fingerprint string
	// DryRun validates only: a call that would succeed returns
	// DryRunOperation and changes nothing.
	DryRun bool
	// Region is the RegionId the caller gave ("" = the lab's).
	Region string
}

// txn is one mutating call in progress. Mutations go straight to the
// in-memory objects (under cp.mu); txn remembers what it touched so the
// records can be written.
type txn struct {
	cp      *ControlPlane
	c       Caller
	now     time.Time
	instant bool // lab application: transitions complete at once
	eps     map[string]bool
	svcs    map[string]bool
	accts   map[string]bool
	lab     bool // the lab's own state (CLB zone faults) changed
}

func (t *txn) touchEndpoint(id string) { t.eps[id] = true }
func (t *txn) touchService(id string)  { t.svcs[id] = true }
func (t *txn) touchAccount(id string)  { t.accts[id] = true }

// due is when a transition started now completes.
func (t *txn) due() time.Time {
	if t.instant {
		return t.now
	}
	return t.now.Add(t.cp.delay)
}

// dryRun ends a fully validated call that only asked for validation.
func (t *txn) dryRun() error {
	if t.c.DryRun {
		return errDryRun.with()
	}
	return nil
}

var errClosed = errors.New("controlplane: closed")

// mutate runs fn as one mutating call: idempotency, validation and changes
// in fn, then settle what is due, commit, publish. It returns fn's result
// (or, on a replayed ClientToken, the stored answer decoded into a fresh T).
func mutate[T any](cp *ControlPlane, c Caller, fn func(t *txn) (T, error)) (T, error) {
	var zero T
	if err := validClientToken(c.ClientToken); err != nil {
		return zero, err
	}
	if err := cp.checkRegion(c); err != nil {
		return zero, err
	}
	var (
		res    T
		replay *idemRecord
		seq    uint64
		done   <-chan error
	)
	// The locked part is a closure so that a panic in an action cannot
	// leave the model locked for every later call.
	err := func() error {
		cp.mu.Lock()
		defer cp.mu.Unlock()
		idemKey := ""
		if c.ClientToken != "" && !c.DryRun {
			idemKey = c.UID + "|" + c.Action + "|" + c.ClientToken
			if rec := cp.idem[idemKey]; rec != nil {
				if rec.Fingerprint != c.Fingerprint {
					return errIdemMismatch.with(c.ClientToken)
				}
				replay = rec
				return nil
			}
		}
		if err := cp.checkOpen(c); err != nil {
			return err
		}
		t := cp.newTxn(c)
		var err error
		if res, err = fn(t); err != nil {
			return err
		}
		var extra []store.Op
		var rec *idemRecord
		if idemKey != "" {
			b, err := json.Marshal(res)
			if err != nil {
				return err
			}
			rec = &idemRecord{Fingerprint: c.Fingerprint, Response: b, Time: t.now}
			v, _ := json.Marshal(rec)
			extra = append(extra, store.Op{Bucket: bucketIdem, Key: idemKey, Value: v})
			cp.idem[idemKey] = rec
			extra = append(extra, cp.pruneIdemLocked(t.now)...)
		}
		seq, done = cp.commitLocked(t, extra)
		if rec != nil {
			rec.seq = seq
		}
		return nil
	}()
	if err != nil {
		return zero, err
	}
	if replay != nil {
		// The first call's answer, once its change is durable.
		cp.durable.wait(replay.seq, cp.closed)
		var out T
		if err := json.Unmarshal(replay.Response, &out); err != nil {
			return zero, err
		}
		return out, nil
	}
	if err := cp.finish(seq, done); err != nil {
		return zero, err
	}
	return res, nil
}

// commitLocked settles what is due among the touched objects, queues their
// records for the group commit and returns the change's sequence number.
func (cp *ControlPlane) commitLocked(t *txn, extra []store.Op) (uint64, <-chan error) {
	for id := range t.eps {
		if e := cp.endpoints[id]; e != nil {
			cp.settleEndpoint(t, e)
		}
	}
	for id := range t.svcs {
		if s := cp.services[id]; s != nil {
			cp.settleService(t, s)
		}
	}
	ops := extra
	for id := range t.eps {
		e := cp.endpoints[id]
		var v []byte
		if e != nil {
			v, _ = json.Marshal(e)
			if due := e.nextDue(); !due.IsZero() {
				cp.sched.add(due, id, false)
			}
		}
		ops = append(ops, store.Op{Bucket: bucketEndpoints, Key: id, Value: v})
		cp.snap.dirtyEndpoint(id, cp.seq+1)
	}
	for id := range t.svcs {
		s := cp.services[id]
		var v []byte
		if s != nil {
			v, _ = json.Marshal(s)
			if s.Phase.busy() {
				cp.sched.add(s.Phase.Due, id, true)
			}
		}
		ops = append(ops, store.Op{Bucket: bucketServices, Key: id, Value: v})
		cp.snap.dirtyService(id, cp.seq+1)
	}
	for id := range t.accts {
		v, _ := json.Marshal(cp.accounts[id])
		ops = append(ops, store.Op{Bucket: bucketAccounts, Key: id, Value: v})
	}
	if t.lab {
		zones := []string{}
		for z := range cp.clbZonesDown {
			zones = append(zones, z)
		}
		sort.Strings(zones)
		v, _ := json.Marshal(zones)
		ops = append(ops, store.Op{Bucket: bucketLab, Key: labCLBZoneFaults, Value: v})
	}
	cp.seq++
	return cp.seq, cp.st.Enqueue(ops)
}

// finish waits until change seq is durable and in a published Snapshot.
func (cp *ControlPlane) finish(seq uint64, done <-chan error) error {
	if err := <-done; err != nil {
		cp.log.Error("store commit failed; changes are no longer acknowledged", "err", err)
		return err
	}
	cp.durable.advance(seq)
	cp.snap.request()
	if !cp.published.wait(seq, cp.closed) {
		return errClosed
	}
	return nil
}

// read runs fn under the read lock after checking the caller's region.
func read[T any](cp *ControlPlane, c Caller, fn func() (T, error)) (T, error) {
	if err := cp.checkRegion(c); err != nil {
		var zero T
		return zero, err
	}
	// A transition the scheduler completed is applied in memory before it
	// is durable and published. Nobody waits for that call, so reads do: the
	// API never shows a state (Connected, Migrated…) that the data plane and
	// DNS have not been given yet — a user who polls and then dials must not
	// be ahead of the Snapshot.
	for {
		if s := cp.settling.Load(); !cp.published.reached(s) && !cp.published.wait(s, cp.closed) {
			var zero T
			return zero, errClosed
		}
		cp.mu.RLock()
		if cp.published.reached(cp.settling.Load()) {
			break
		}
		cp.mu.RUnlock() // another batch settled meanwhile
	}
	defer cp.mu.RUnlock()
	if err := cp.checkOpen(c); err != nil {
		var zero T
		return zero, err
	}
	return fn()
}

func (cp *ControlPlane) checkRegion(c Caller) error {
	if c.Region != "" && c.Region != cp.w.region {
		return errUnsupportedRegion.with(c.Region, cp.w.region)
	}
	return nil
}

// settleEndpoint completes every transition of e that is due.
func (cp *ControlPlane) settleEndpoint(t *txn, e *Endpoint) {
	now := t.now
	due := func(p *Phase) bool { return p.busy() && !now.Before(p.Due) }
	if due(&e.Phase) && e.Phase.Next == gone {
		cp.unindexEndpoint(e)
		t.touchEndpoint(e.ID)
		return
	}
	if due(&e.Phase) {
		e.Phase.Status, e.Phase.Next = e.Phase.Next, ""
	}
	if due(&e.Conn.Phase) {
		e.Conn.Phase.Status, e.Conn.Phase.Next = e.Conn.Phase.Next, ""
		e.Conn.Modified = now
	}
	kept := e.Zones[:0]
	for _, z := range e.Zones {
		if due(&z.Phase) {
			next := z.Phase.Next
			z.Phase.Next = ""
			if next == gone {
				cp.dropZone(e, z)
				continue
			}
			z.Phase.Status = next
			if z.DropReplaced && z.Replaced != nil {
				cp.freeIP(z.VSwitchID, z.Replaced.ENI)
				cp.useResource(e.ServiceID, z.Replaced.ResourceID, 0, -1)
				z.Replaced, z.DropReplaced = nil, false
			}
			if next == "Disconnected" {
				cp.setResource(e, z, "")
			}
		}
		kept = append(kept, z)
	}
	e.Zones = kept
}

// settleService completes the service's transition if it is due.
func (cp *ControlPlane) settleService(t *txn, s *Service) {
	if !s.Phase.busy() || t.now.Before(s.Phase.Due) {
		return
	}
	if s.Phase.Next == gone {
		// Endpoints still pointing at it (all Disconnected) learn it is gone.
		if l := cp.epByService[s.ID]; l != nil {
			for _, id := range *l {
				if e := cp.endpoints[id]; e != nil {
					e.Conn.Phase = Phase{Status: "ServiceDeleted"}
					e.Conn.Modified = t.now
					t.touchEndpoint(id)
				}
			}
		}
		cp.unindexService(s)
		return
	}
	s.Phase.Status, s.Phase.Next = s.Phase.Next, ""
}

// resume completes transitions that fell due while the process was down and
// schedules the others.
func (cp *ControlPlane) resume() error {
	cp.mu.Lock()
	t := cp.newTxn(Caller{})
	for id, e := range cp.endpoints {
		if e.busy() {
			t.touchEndpoint(id)
		}
	}
	for id, s := range cp.services {
		if s.Phase.busy() {
			t.touchService(id)
		}
	}
	seq, done := cp.commitLocked(t, nil)
	cp.settling.Store(seq)
	cp.mu.Unlock()
	return cp.finish(seq, done)
}

func (cp *ControlPlane) newTxn(c Caller) *txn {
	return &txn{cp: cp, c: c, now: cp.now().UTC(), eps: map[string]bool{}, svcs: map[string]bool{}, accts: map[string]bool{}}
}

// settleDue is the scheduler's callback: complete what is due on the given
// objects, all in one commit (transitions started together end together).
func (cp *ControlPlane) settleDue(items []dueItem) {
	cp.mu.Lock()
	t := cp.newTxn(Caller{})
	n := 0
	for _, it := range items {
		if it.service {
			if s := cp.services[it.id]; s != nil && s.Phase.busy() {
				t.touchService(it.id)
				n++
			}
		} else if e := cp.endpoints[it.id]; e != nil && e.busy() {
			t.touchEndpoint(it.id)
			n++
		}
	}
	if n == 0 {
		cp.mu.Unlock()
		return
	}
	seq, done := cp.commitLocked(t, nil)
	cp.settling.Store(seq)
	cp.mu.Unlock()
	// The scheduler does not wait for the fsync: the next batch that falls
	// due joins the same group commit instead of queueing behind it.
	cp.wg.Add(1)
	go func() {
		defer cp.wg.Done()
		if err := cp.finish(seq, done); err != nil && !errors.Is(err, errClosed) {
			cp.log.Error("completing transitions", "objects", n, "err", err)
		}
	}()
}

// pruneIdemLocked forgets ClientTokens older than idemTTL, now and then (every
// 1024 new records), so the table stays bounded while the process runs.
func (cp *ControlPlane) pruneIdemLocked(now time.Time) []store.Op {
	cp.idemAdded++
	if cp.idemAdded%1024 != 0 {
		return nil
	}
	var ops []store.Op
	cutoff := now.Add(-idemTTL)
	for k, r := range cp.idem {
		if r.Time.Before(cutoff) {
			delete(cp.idem, k)
			ops = append(ops, store.Op{Bucket: bucketIdem, Key: k})
		}
	}
	return ops
}
