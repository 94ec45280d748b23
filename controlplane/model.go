package controlplane

import (
	"net/netip"
	"sort"
	"time"
)

// The records below are the persisted state (JSON in the store). An
// endpoint record carries its connection and zones; a service record its
// resources, whitelist and tags, so one API call writes one or two records.

// Phase is a state that may be on its way to another: Status is what the
// API shows; when Next is set, Status becomes Next at Due (the transitional
// states of reference §C2). Persisting Due is what lets a restart finish
// transitions that were under way.
type Phase struct {
	Status string    `json:"status"`
	Next   string    `json:"next,omitempty"`
	Due    time.Time `json:"due,omitzero"`
}

// gone is the Next of a phase whose end removes the object.
const gone = "-"

func (p *Phase) busy() bool { return p.Next != "" }

func (p *Phase) move(now, next string, due time.Time) {
	p.Status, p.Next, p.Due = now, next, due
}

// ENIRecord is an elastic network interface of an endpoint zone.
type ENIRecord struct {
	ID string     `json:"id"`
	IP netip.Addr `json:"ip"`
}

// Binding is an ENI bound to a service resource.
type Binding struct {
	ENI        ENIRecord `json:"eni"`
	ResourceID string    `json:"resource"`
}

// Zone is an endpoint zone together with its zone connection.
type Zone struct {
	ZoneID    string    `json:"zone"`
	VSwitchID string    `json:"vswitch"`
	Phase     Phase     `json:"phase"`
	ENI       ENIRecord `json:"eni"`
	// ResourceID is the resource new flows go to ("" while none).
	ResourceID string `json:"resource,omitempty"`
	// Manual is the resource pinned with ResourceAllocateMode=Manual.
	Manual string `json:"manual,omitempty"`
	// Replaced is the old pair during a Graceful replacement.
	Replaced *Binding `json:"replaced,omitempty"`
	// DropReplaced: the cleanup of Replaced is under way.
	DropReplaced bool `json:"dropReplaced,omitempty"`
	Failed       bool `json:"failed,omitempty"`
}

// Connection is the endpoint connection.
type Connection struct {
	Phase     Phase     `json:"phase"`
	Bandwidth int       `json:"bandwidth"`
	Modified  time.Time `json:"modified"`
}

// Endpoint is a consumer's endpoint.
type Endpoint struct {
	ID              string     `json:"id"`
	Owner           string     `json:"owner"`
	Name            string     `json:"name,omitempty"`
	Description     string     `json:"description,omitempty"`
	Type            string     `json:"type"`
	VpcID           string     `json:"vpc"`
	ServiceID       string     `json:"service"`
	ServiceOwner    string     `json:"serviceOwner"`
	Phase           Phase      `json:"phase"`
	Conn            Connection `json:"conn"`
	SecurityGroups  []string   `json:"securityGroups"`
	Zones           []*Zone    `json:"zones"` // by ZoneID
	Tags            []Tag      `json:"tags,omitempty"`
	ResourceGroupID string     `json:"resourceGroup,omitempty"`
	Protected       bool       `json:"protected,omitempty"`
	CreateTime      time.Time  `json:"created"`
}

func (e *Endpoint) zone(id string) *Zone {
	for _, z := range e.Zones {
		if z.ZoneID == id {
			return z
		}
	}
	return nil
}

// busy reports whether any part of the endpoint is in a transitional state.
func (e *Endpoint) busy() bool {
	if e.Phase.busy() || e.Conn.Phase.busy() {
		return true
	}
	for _, z := range e.Zones {
		if z.Phase.busy() {
			return true
		}
	}
	return false
}

// nextDue is the earliest Due among busy phases (zero if none).
func (e *Endpoint) nextDue() time.Time {
	var t time.Time
	upd := func(p *Phase) {
		if p.busy() && (t.IsZero() || p.Due.Before(t)) {
			t = p.Due
		}
	}
	upd(&e.Phase)
	upd(&e.Conn.Phase)
	for _, z := range e.Zones {
		upd(&z.Phase)
	}
	return t
}

// ServiceResource is a CLB attached to a service.
type ServiceResource struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	ZoneID        string `json:"zone"`
	AutoAllocated bool   `json:"auto"`
}

// Service is a provider's endpoint service.
type Service struct {
	ID                   string             `json:"id"`
	Owner                string             `json:"owner"`
	Description          string             `json:"description,omitempty"`
	Phase                Phase              `json:"phase"`
	AutoAccept           bool               `json:"autoAccept"`
	ZoneAffinity         bool               `json:"zoneAffinity"`
	Payer                string             `json:"payer"`
	ConnectBandwidth     int                `json:"connectBandwidth"`
	SupportIPv6          bool               `json:"ipv6,omitempty"`
	PrivateDomainEnabled bool               `json:"privateDomainEnabled,omitempty"`
	PrivateDomain        string             `json:"privateDomain,omitempty"`
	Resources            []*ServiceResource `json:"resources"` // by ID
	Whitelist            []string           `json:"whitelist"` // sorted; owner always on it
	Tags                 []Tag              `json:"tags,omitempty"`
	ResourceGroupID      string             `json:"resourceGroup,omitempty"`
	CreateTime           time.Time          `json:"created"`
}

func (s *Service) resource(id string) *ServiceResource {
	for _, r := range s.Resources {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// zones returns the sorted zones that have a resource.
func (s *Service) zones() []string {
	var out []string
	for _, r := range s.Resources {
		if !contains(out, r.ZoneID) {
			out = append(out, r.ZoneID)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Service) whitelisted(uid string) bool {
	return uid == s.Owner || contains(s.Whitelist, uid) || contains(s.Whitelist, "*")
}

// Account is per-account state the API creates.
type Account struct {
	UID         string    `json:"uid"`
	Opened      bool      `json:"opened,omitempty"`
	OrderID     string    `json:"orderId,omitempty"`
	RoleCreated time.Time `json:"roleCreated,omitzero"`
}

// idemRecord remembers one ClientToken's request and answer.
type idemRecord struct {
	Fingerprint string    `json:"fp"`
	Response    []byte    `json:"resp"`
	Time        time.Time `json:"time"`
	seq         uint64
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// idList is a sorted set of ids: pages are binary searches, not scans.
type idList []string

func (l *idList) add(id string) {
	i := sort.SearchStrings(*l, id)
	if i < len(*l) && (*l)[i] == id {
		return
	}
	*l = append(*l, "")
	copy((*l)[i+1:], (*l)[i:])
	(*l)[i] = id
}

func (l *idList) remove(id string) {
	i := sort.SearchStrings(*l, id)
	if i < len(*l) && (*l)[i] == id {
		*l = append((*l)[:i], (*l)[i+1:]...)
	}
}

// after returns the ids strictly after id.
func (l idList) after(id string) idList {
	if id == "" {
		return l
	}
	i := sort.SearchStrings(l, id)
	if i < len(l) && l[i] == id {
		i++
	}
	return l[i:]
}
