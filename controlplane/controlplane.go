// Package controlplane is the PrivateLink model: accounts' services,
// endpoints, connections and zones, their state machines, and the rules of
// the product guide. It persists every change in controlplane/store before
// answering and publishes a snapshot.Snapshot for the data plane and DNS.
//
// Layers: controlplane/api (wire) → controlplane (this package) →
// controlplane/store (bbolt). Every mutating action runs as
//
//	validate (nothing changes on error) → DryRun stops here → apply in
//	memory → queue the touched records → group commit (fsync) → publish
//
// under one mutex for the in-memory part only, so concurrent calls share
// fsyncs and snapshot builds.
package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"eplink/controlplane/lab"
	"eplink/controlplane/snapshot"
	"eplink/controlplane/store"
)

// Config configures Open.
type Config struct {
	// DataDir holds the bbolt file <DataDir>/eplink.db (created if needed).
	DataDir string
	// Lab is the parsed lab: the world outside PrivateLink.
	Lab *lab.Lab
	// TransitionDelay is how long transitional states (Creating,
	// Connecting, Migrating…) stay visible; 0 completes them before the
	// call returns.
	TransitionDelay time.Duration
	// DNSZone is the PrivateLink apex; "" means "privatelink.aliyuncs.com".
	DNSZone string
	// Publisher receives a Snapshot after every committed change. Required.
	Publisher *snapshot.Publisher
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ENIStatus is the data plane's word on an ENI address: "" when it
	// serves it, else why not (another process holds it). A zone shows it
	// as its StatusInfo. nil = every ENI is served. It is called with the
	// control plane's lock held, so it must not call back into it.
	ENIStatus func(ip netip.Addr) string
}

// Buckets of the store.
const (
	bucketServices  = "services"
	bucketEndpoints = "endpoints"
	bucketAccounts  = "accounts"
	bucketIdem      = "idempotency"
)

// bucketLab holds the lab's own state: key labCLBZoneFaults is the JSON list
// of zones failed for CLBs.
const (
	bucketLab        = "lab"
	labCLBZoneFaults = "clbZoneFaults"
)

// ControlPlane is the running model.
type ControlPlane struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	delay time.Duration
	zone  string // DNS zone
	w     *world
	st    *store.Store

	mu          sync.RWMutex
	services    map[string]*Service
	endpoints   map[string]*Endpoint
	accounts    map[string]*Account
	idem        map[string]*idemRecord
	idemAdded   uint64                           // records added since start (pruning cadence)
	svcIDs      idList                           // every service
	svcByOwner  map[string]*idList               // owner UID → its services
	epByOwner   map[string]*idList               // owner UID → its endpoints
	epByService map[string]*idList               // service → endpoints connected to it
	epByVpc     map[string]*idList               // VPC → its endpoints (the common List filter)
	ips         map[string]map[netip.Addr]string // vSwitch → IP → ENI id
	ipCursor    map[string]netip.Addr            // vSwitch → where the next scan starts
	usage       map[string]*usage                // service|resource → zone use
	seq         uint64                           // last applied change

	// clbZonesDown are the zones failed for CLBs (lab fault injection):
	// a CLB whose primary zone is down runs in its backup zone. lbVer
	// counts their changes, so the Snapshot builder knows to redo its CLBs.
	clbZonesDown map[string]bool
	lbVer        uint64

	durable   watermark // highest seq on disk
	published watermark // highest seq in a published Snapshot
	// settling is the seq of the last batch of transitions the scheduler
	// completed; reads wait until it is published (see read).
	settling atomic.Uint64

	snap      snapBuilder
	sched     scheduler
	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup
}

// Open opens (or creates) the store, applies the lab, resumes transitions
// that were under way and publishes the first Snapshot.
func Open(cfg Config) (*ControlPlane, error) {
	if cfg.Publisher == nil {
		return nil, errors.New("controlplane: Config.Publisher is required")
	}
	w, err := newWorld(cfg.Lab)
	if err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		return nil, errors.New("controlplane: Config.DataDir is required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("controlplane: %w", err)
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "eplink.db"),
		bucketServices, bucketEndpoints, bucketAccounts, bucketIdem, bucketLab)
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{
		cfg:         cfg,
		log:         cfg.Logger,
		now:         cfg.Now,
		delay:       cfg.TransitionDelay,
		zone:        cfg.DNSZone,
		w:           w,
		st:          st,
		services:    map[string]*Service{},
		endpoints:   map[string]*Endpoint{},
		accounts:    map[string]*Account{},
		idem:        map[string]*idemRecord{},
		svcByOwner:  map[string]*idList{},
		epByOwner:   map[string]*idList{},
		epByService: map[string]*idList{},
		epByVpc:     map[string]*idList{},
		ips:         map[string]map[netip.Addr]string{},
		ipCursor:    map[string]netip.Addr{},
		usage:       map[string]*usage{},
		closed:      make(chan struct{}),
	}
	cp.clbZonesDown = map[string]bool{}
	if cp.log == nil {
		cp.log = slog.New(slog.DiscardHandler)
	}
	if cp.now == nil {
		cp.now = time.Now
	}
	if cp.zone == "" {
		cp.zone = "privatelink.aliyuncs.com"
	}
	if cp.delay < 0 {
		cp.delay = 0
	}
	fail := func(err error) (*ControlPlane, error) {
		st.Close()
		return nil, err
	}
	if err := cp.load(); err != nil {
		return fail(err)
	}
	cp.snap.init(cp)
	cp.sched.init(cp)
	cp.wg.Add(2)
	go cp.snap.loop()
	go cp.sched.loop()
	// Finish what is due, schedule the rest.
	if err := cp.resume(); err != nil {
		cp.Close()
		return nil, err
	}
	if err := cp.applyLab(); err != nil {
		cp.Close()
		return nil, err
	}
	cp.mu.RLock()
	seq := cp.seq
	cp.mu.RUnlock()
	cp.snap.request()
	cp.published.wait(seq, cp.closed)
	return cp, nil
}

// Close stops the timers and closes the store. Transitions still under way
// finish at the next Open.
func (cp *ControlPlane) Close() error {
	var err error
	cp.closeOnce.Do(func() {
		close(cp.closed)
		cp.wg.Wait()
		err = cp.st.Close()
	})
	return err
}

// Store is the control plane's bbolt store. Other products served beside
// PrivateLink (CloudMonitor) keep their records in it, in buckets of their
// own, so that one file holds a lab's state.
func (cp *ControlPlane) Store() *store.Store { return cp.st }

// Credentials returns the secret and account UID of an AccessKey id.
func (cp *ControlPlane) Credentials(accessKeyID string) (secret, uid string, ok bool) {
	k, ok := cp.w.keys[accessKeyID]
	return k.secret, k.uid, ok
}

// Region is the lab's region.
func (cp *ControlPlane) Region() string { return cp.w.region }

// load reads every record of the store into memory and checks it still fits
// the lab.
func (cp *ControlPlane) load() error {
	err := cp.st.ForEach(bucketServices, func(k, v []byte) error {
		s := &Service{}
		if err := json.Unmarshal(v, s); err != nil {
			return fmt.Errorf("service %s: %w", k, err)
		}
		for _, r := range s.Resources {
			if cp.w.clbs[r.ID] == nil {
				return fmt.Errorf("endpoint service %s uses load balancer %s, which the lab no longer has", s.ID, r.ID)
			}
		}
		cp.indexService(s)
		return nil
	})
	if err != nil {
		return fmt.Errorf("controlplane: load: %w", err)
	}
	err = cp.st.ForEach(bucketEndpoints, func(k, v []byte) error {
		e := &Endpoint{}
		if err := json.Unmarshal(v, e); err != nil {
			return fmt.Errorf("endpoint %s: %w", k, err)
		}
		if cp.w.vpcs[e.VpcID] == nil {
			return fmt.Errorf("endpoint %s is in VPC %s, which the lab no longer has", e.ID, e.VpcID)
		}
		for _, g := range e.SecurityGroups {
			if cp.w.sgs[g] == nil {
				return fmt.Errorf("endpoint %s uses security group %s, which the lab no longer has", e.ID, g)
			}
		}
		for _, z := range e.Zones {
			vs := cp.w.vswitches[z.VSwitchID]
			if vs == nil {
				return fmt.Errorf("endpoint %s zone %s uses vSwitch %s, which the lab no longer has", e.ID, z.ZoneID, z.VSwitchID)
			}
			if !vs.cidr.Contains(z.ENI.IP) || vs.vpc != e.VpcID {
				return fmt.Errorf("endpoint %s zone %s has ENI address %s, which the lab's vSwitch %s (%s in %s) no longer holds",
					e.ID, z.ZoneID, z.ENI.IP, vs.id, vs.cidr, vs.vpc)
			}
			// (A pinned Manual resource that is gone is only a preference:
			// allocation falls back to automatic.)
			rs := []string{z.ResourceID}
			if z.Replaced != nil {
				rs = append(rs, z.Replaced.ResourceID)
			}
			for _, r := range rs {
				if r != "" && cp.w.clbs[r] == nil {
					return fmt.Errorf("endpoint %s zone %s uses load balancer %s, which the lab no longer has", e.ID, z.ZoneID, r)
				}
			}
		}
		cp.indexEndpoint(e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("controlplane: load: %w", err)
	}
	err = cp.st.ForEach(bucketLab, func(k, v []byte) error {
		if string(k) != labCLBZoneFaults {
			return nil
		}
		var zones []string
		if err := json.Unmarshal(v, &zones); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		for _, z := range zones {
			cp.clbZonesDown[z] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("controlplane: load: %w", err)
	}
	err = cp.st.ForEach(bucketAccounts, func(k, v []byte) error {
		a := &Account{}
		if err := json.Unmarshal(v, a); err != nil {
			return fmt.Errorf("account %s: %w", k, err)
		}
		cp.accounts[a.UID] = a
		return nil
	})
	if err != nil {
		return fmt.Errorf("controlplane: load: %w", err)
	}
	// ClientTokens are remembered for idemTTL; older records are dropped
	// here, so the table stays bounded by the call rate of one period.
	var expired []store.Op
	cutoff := cp.now().Add(-idemTTL)
	err = cp.st.ForEach(bucketIdem, func(k, v []byte) error {
		r := &idemRecord{}
		if err := json.Unmarshal(v, r); err != nil {
			return fmt.Errorf("controlplane: load: idempotency record %s: %w", k, err)
		}
		if r.Time.Before(cutoff) {
			expired = append(expired, store.Op{Bucket: bucketIdem, Key: string(k)})
			return nil
		}
		cp.idem[string(k)] = r
		return nil
	})
	if err != nil || len(expired) == 0 {
		return err
	}
	return cp.st.Commit(expired)
}

// idemTTL is how long a ClientToken is remembered.
const idemTTL = 24 * time.Hour

func (cp *ControlPlane) indexService(s *Service) {
	cp.services[s.ID] = s
	cp.svcIDs.add(s.ID)
	l := cp.svcByOwner[s.Owner]
	if l == nil {
		l = &idList{}
		cp.svcByOwner[s.Owner] = l
	}
	l.add(s.ID)
}

func (cp *ControlPlane) unindexService(s *Service) {
	delete(cp.services, s.ID)
	cp.svcIDs.remove(s.ID)
	if l := cp.svcByOwner[s.Owner]; l != nil {
		l.remove(s.ID)
	}
	for k := range cp.usage {
		if len(k) > len(s.ID) && k[:len(s.ID)+1] == s.ID+"|" {
			delete(cp.usage, k)
		}
	}
}

func (cp *ControlPlane) indexEndpoint(e *Endpoint) {
	cp.endpoints[e.ID] = e
	for _, m := range []struct {
		idx map[string]*idList
		key string
	}{{cp.epByOwner, e.Owner}, {cp.epByService, e.ServiceID}, {cp.epByVpc, e.VpcID}} {
		l := m.idx[m.key]
		if l == nil {
			l = &idList{}
			m.idx[m.key] = l
		}
		l.add(e.ID)
	}
	for _, z := range e.Zones {
		cp.takeIP(z.VSwitchID, z.ENI)
		if z.Replaced != nil {
			cp.takeIP(z.VSwitchID, z.Replaced.ENI)
		}
		cp.useResource(e.ServiceID, z.ResourceID, 1, 0)
		if z.Replaced != nil {
			cp.useResource(e.ServiceID, z.Replaced.ResourceID, 0, 1)
		}
	}
}

func (cp *ControlPlane) unindexEndpoint(e *Endpoint) {
	delete(cp.endpoints, e.ID)
	if l := cp.epByOwner[e.Owner]; l != nil {
		l.remove(e.ID)
	}
	if l := cp.epByService[e.ServiceID]; l != nil {
		l.remove(e.ID)
	}
	if l := cp.epByVpc[e.VpcID]; l != nil {
		l.remove(e.ID)
	}
	for _, z := range e.Zones {
		cp.dropZone(e, z)
	}
}

// dropZone releases what a zone holds: its ENI addresses and resources.
func (cp *ControlPlane) dropZone(e *Endpoint, z *Zone) {
	cp.freeIP(z.VSwitchID, z.ENI)
	cp.useResource(e.ServiceID, z.ResourceID, -1, 0)
	if z.Replaced != nil {
		cp.freeIP(z.VSwitchID, z.Replaced.ENI)
		cp.useResource(e.ServiceID, z.Replaced.ResourceID, 0, -1)
	}
}

// usage counts the zone connections using a service resource.
type usage struct{ active, deprecated int }

func (cp *ControlPlane) useResource(svc, res string, active, deprecated int) {
	if res == "" {
		return
	}
	k := svc + "|" + res
	u := cp.usage[k]
	if u == nil {
		u = &usage{}
		cp.usage[k] = u
	}
	u.active += active
	u.deprecated += deprecated
}

func (cp *ControlPlane) resourceUse(svc, res string) usage {
	if u := cp.usage[svc+"|"+res]; u != nil {
		return *u
	}
	return usage{}
}

// setResource binds zone z of e to res (may be "").
func (cp *ControlPlane) setResource(e *Endpoint, z *Zone, res string) {
	cp.useResource(e.ServiceID, z.ResourceID, -1, 0)
	z.ResourceID = res
	cp.useResource(e.ServiceID, res, 1, 0)
}

// watermark is a monotonically increasing number others can wait for.
type watermark struct {
	mu sync.Mutex
	v  uint64
	ch chan struct{}
}

func (m *watermark) advance(v uint64) {
	m.mu.Lock()
	if v > m.v {
		m.v = v
		if m.ch != nil {
			close(m.ch)
			m.ch = nil
		}
	}
	m.mu.Unlock()
}

// reached reports whether the watermark is at v or beyond.
func (m *watermark) reached(v uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.v >= v
}

// wait returns true once the watermark reaches v, false if stop closes.
func (m *watermark) wait(v uint64, stop <-chan struct{}) bool {
	for {
		m.mu.Lock()
		if m.v >= v {
			m.mu.Unlock()
			return true
		}
		if m.ch == nil {
			m.ch = make(chan struct{})
		}
		ch := m.ch
		m.mu.Unlock()
		select {
		case <-ch:
		case <-stop:
			return false
		}
	}
}

// ServiceLinkedRole reports whether the account has the service-linked role
// AliyunServiceRoleForPrivatelink (created with its first endpoint).
func (cp *ControlPlane) ServiceLinkedRole(uid string) bool {
	cp.mu.RLock()
	defer cp.mu.RUnlock()
	a := cp.accounts[uid]
	return a != nil && !a.RoleCreated.IsZero()
}

// ServiceLinkedRoleName is the role PrivateLink creates for an account with
// its first endpoint (guide, 服务关联角色).
const ServiceLinkedRoleName = "AliyunServiceRoleForPrivatelink"

// AccountInfo is a lab account as the lab API shows it: no secrets.
type AccountInfo struct {
	UID          string   `json:"Uid"`
	AccessKeyIDs []string `json:"AccessKeyIds"`
	ProductOpen  bool     `json:"ProductOpen"`
	// ServiceLinkedRole is ServiceLinkedRoleName once the role exists.
	ServiceLinkedRole string `json:"ServiceLinkedRole,omitempty"`
	RoleCreateDate    string `json:"RoleCreateDate,omitempty"`
}

// Accounts lists the lab's accounts by UID.
func (cp *ControlPlane) Accounts() []AccountInfo {
	cp.mu.RLock()
	defer cp.mu.RUnlock()
	byUID := map[string]*AccountInfo{}
	var out []*AccountInfo
	for uid := range cp.w.accounts {
		a := &AccountInfo{UID: uid, AccessKeyIDs: []string{}, ProductOpen: cp.productOpen(uid)}
		if x := cp.accounts[uid]; x != nil && !x.RoleCreated.IsZero() {
			a.ServiceLinkedRole = ServiceLinkedRoleName
			a.RoleCreateDate = x.RoleCreated.UTC().Format(time.RFC3339)
		}
		byUID[uid] = a
		out = append(out, a)
	}
	for id, k := range cp.w.keys {
		if a := byUID[k.uid]; a != nil {
			a.AccessKeyIDs = append(a.AccessKeyIDs, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	list := make([]AccountInfo, len(out))
	for i, a := range out {
		sort.Strings(a.AccessKeyIDs)
		list[i] = *a
	}
	return list
}
