package controlplane

import (
	"strconv"
)

// connTarget finds the connection between the caller's service and an
// endpoint.
func (cp *ControlPlane) connTarget(uid, serviceID, endpointID string) (*Service, *Endpoint, error) {
	s, err := cp.ownService(uid, serviceID)
	if err != nil {
		return nil, nil, err
	}
	if endpointID == "" {
		return nil, nil, missing("EndpointId")
	}
	e := cp.endpoints[endpointID]
	if e == nil || e.ServiceID != serviceID {
		return nil, nil, errConnectionNotFound.with(endpointID, serviceID)
	}
	return s, e, nil
}

func unit(err error) (struct{}, error) { return struct{}{}, err }

// AcceptInput is EnableVpcEndpointConnection's request.
type AcceptInput struct {
	ServiceID, EndpointID string
	Bandwidth             *int
	// AutoAllocate is the guide's "允许连接并自动分配服务资源": the zones'
	// pinned resources are cleared and every zone takes an
	// auto-allocatable resource. Without it a pin is kept.
	AutoAllocate bool
}

// EnableVpcEndpointConnection accepts a connection: it and its zones go
// Connecting → Connected, each zone with a resource of its zone. Every zone
// to connect must have a usable resource (guide, 分配并连接可用区服务资源);
// otherwise nothing changes.
func (cp *ControlPlane) EnableVpcEndpointConnection(c Caller, in AcceptInput) error {
	serviceID, endpointID, bandwidth := in.ServiceID, in.EndpointID, in.Bandwidth
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		s, e, err := cp.connTarget(t.c.UID, serviceID, endpointID)
		if err != nil {
			return unit(err)
		}
		if bandwidth != nil {
			if err := cp.checkBandwidth("Bandwidth", *bandwidth); err != nil {
				return unit(err)
			}
		}
		if err := endpointLocked(e); err != nil {
			return unit(err)
		}
		if st := e.Conn.Phase.Status; st != "Disconnected" {
			return unit(errConnectionStatus.with("endpoint connection", endpointID, "it is "+st+", not Disconnected"))
		}
		for _, z := range e.Zones {
			if !waiting(z) {
				continue
			}
			pin := z.Manual
			if in.AutoAllocate {
				z.Manual = ""
			}
			res := cp.allocate(s, z)
			z.Manual = pin
			if res == "" {
				return unit(errNoResource.with(s.ID, z.ZoneID))
			}
		}
		if err := t.dryRun(); err != nil {
			return unit(err)
		}
		if bandwidth != nil {
			e.Conn.Bandwidth = *bandwidth
		}
		if in.AutoAllocate {
			for _, z := range e.Zones {
				if waiting(z) {
					z.Manual = ""
				}
			}
		}
		cp.connect(t, e, s)
		t.touchEndpoint(e.ID)
		return unit(nil)
	})
	return err
}

// waiting reports whether accepting the connection connects zone z.
func waiting(z *Zone) bool {
	switch z.Phase.Status {
	case "Creating", "Wait", "Disconnected":
		return true
	}
	return false
}

// DisableVpcEndpointConnection rejects (or disconnects) a connection: it
// and its connected zones go Disconnecting → Disconnected.
func (cp *ControlPlane) DisableVpcEndpointConnection(c Caller, serviceID, endpointID string) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		_, e, err := cp.connTarget(t.c.UID, serviceID, endpointID)
		if err != nil {
			return unit(err)
		}
		if err := endpointLocked(e); err != nil {
			return unit(err)
		}
		if st := e.Conn.Phase.Status; st != "Connected" {
			return unit(errConnectionStatus.with("endpoint connection", endpointID, "it is "+st+", not Connected"))
		}
		if err := t.dryRun(); err != nil {
			return unit(err)
		}
		due := t.due()
		e.Conn.Phase.move("Disconnecting", "Disconnected", due)
		e.Conn.Modified = t.now
		for _, z := range e.Zones {
			switch z.Phase.Status {
			case "Connected", "Migrated":
				z.Phase.move("Disconnecting", "Disconnected", due)
				z.DropReplaced = z.Replaced != nil
			case "Wait":
				z.Phase.move("Wait", "Disconnected", due)
			}
		}
		t.touchEndpoint(e.ID)
		return unit(nil)
	})
	return err
}

// UpdateVpcEndpointConnectionAttribute changes a connection's bandwidth.
// It takes effect at once (the data plane retunes live), so the connection
// stays Connected and keeps carrying traffic.
func (cp *ControlPlane) UpdateVpcEndpointConnectionAttribute(c Caller, serviceID, endpointID string, bandwidth *int) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		_, e, err := cp.connTarget(t.c.UID, serviceID, endpointID)
		if err != nil {
			return unit(err)
		}
		if bandwidth == nil {
			return unit(missing("Bandwidth"))
		}
		if err := cp.checkBandwidth("Bandwidth", *bandwidth); err != nil {
			return unit(err)
		}
		if e.Conn.Phase.busy() {
			return unit(errEndpointLocked.with(e.ID, "connection "+e.Conn.Phase.Status))
		}
		if st := e.Conn.Phase.Status; st != "Connected" {
			return unit(errConnectionStatus.with("endpoint connection", endpointID, "it is "+st+", not Connected"))
		}
		if err := t.dryRun(); err != nil {
			return unit(err)
		}
		e.Conn.Bandwidth = *bandwidth
		e.Conn.Modified = t.now
		t.touchEndpoint(e.ID)
		return unit(nil)
	})
	return err
}

// zoneTarget finds a zone connection the caller's service may change: the
// endpoint connection must be Connected and the zone not transitional.
func (cp *ControlPlane) zoneTarget(uid, serviceID, endpointID, zone string) (*Service, *Endpoint, *Zone, error) {
	s, e, err := cp.connTarget(uid, serviceID, endpointID)
	if err != nil {
		return nil, nil, nil, err
	}
	if zone == "" {
		return nil, nil, nil, missing("ZoneId")
	}
	z := e.zone(zone)
	if z == nil {
		return nil, nil, nil, errZoneNotFound.with(zone, endpointID)
	}
	if e.Phase.Next == gone {
		return nil, nil, nil, errEndpointLocked.with(e.ID, e.Phase.Status)
	}
	if e.Conn.Phase.busy() {
		return nil, nil, nil, errEndpointLocked.with(e.ID, "connection "+e.Conn.Phase.Status)
	}
	if z.Phase.busy() {
		return nil, nil, nil, errEndpointLocked.with(e.ID, "zone "+zone+" "+z.Phase.Status)
	}
	return s, e, z, nil
}

func zoneStatusErr(e *Endpoint, z *Zone, want string) error {
	return errZoneStatus.with("zone connection", e.ID+"/"+z.ZoneID, "it is "+z.Phase.Status+", not "+want)
}

func connectedErr(e *Endpoint) error {
	if st := e.Conn.Phase.Status; st != "Connected" {
		return errConnectionStatus.with("endpoint connection", e.ID, "it is "+st+", not Connected")
	}
	return nil
}

// EnableVpcEndpointZoneConnection reconnects a disconnected zone.
func (cp *ControlPlane) EnableVpcEndpointZoneConnection(c Caller, serviceID, endpointID, zone string) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		s, e, z, err := cp.zoneTarget(t.c.UID, serviceID, endpointID, zone)
		if err != nil {
			return unit(err)
		}
		if err := connectedErr(e); err != nil {
			return unit(err)
		}
		if st := z.Phase.Status; st != "Disconnected" && st != "Wait" {
			return unit(zoneStatusErr(e, z, "Disconnected"))
		}
		if cp.allocate(s, z) == "" {
			return unit(errNoResource.with(s.ID, zone))
		}
		if err := t.dryRun(); err != nil {
			return unit(err)
		}
		cp.connectZone(t, e, s, z)
		t.touchEndpoint(e.ID)
		return unit(nil)
	})
	return err
}

// DisableVpcEndpointZoneConnection disconnects a zone, or with
// replacedResource only the old resource and ENI a Graceful replacement
// left behind (the zone returns to Connected).
func (cp *ControlPlane) DisableVpcEndpointZoneConnection(c Caller, serviceID, endpointID, zone string, replacedResource bool) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		_, e, z, err := cp.zoneTarget(t.c.UID, serviceID, endpointID, zone)
		if err != nil {
			return unit(err)
		}
		if err := connectedErr(e); err != nil {
			return unit(err)
		}
		if replacedResource {
			if z.Phase.Status != "Migrated" || z.Replaced == nil {
				return unit(zoneStatusErr(e, z, "Migrated"))
			}
		} else if z.Replaced != nil {
			// The guide's order (断开可用区服务资源): clean the old resource
			// first, then disconnect the zone.
			return unit(errZoneStatus.with("zone connection", e.ID+"/"+z.ZoneID,
				"it still holds the replaced resource "+z.Replaced.ResourceID+
					"; disconnect it first with ReplacedResource=true"))
		} else if st := z.Phase.Status; st != "Connected" {
			return unit(zoneStatusErr(e, z, "Connected"))
		}
		if err := t.dryRun(); err != nil {
			return unit(err)
		}
		if replacedResource {
			z.Phase.move("Migrated", "Connected", t.due())
		} else {
			z.Phase.move("Disconnecting", "Disconnected", t.due())
		}
		z.DropReplaced = z.Replaced != nil
		t.touchEndpoint(e.ID)
		return unit(nil)
	})
	return err
}

// ZoneResourceInput is UpdateVpcEndpointZoneConnectionResourceAttribute's
// request.
type ZoneResourceInput struct {
	ServiceID, EndpointID, ZoneID string
	AllocateMode                  string // Auto | Manual (also "Mannual")
	ReplaceMode                   string // Graceful | Force
	ResourceID, ResourceType      string
}

// UpdateVpcEndpointZoneConnectionResourceAttribute pins a disconnected
// zone's resource (Manual/Auto) or replaces a zone's resource: on a
// connected zone Graceful creates a new ENI on the new resource and keeps
// the old pair until cleaned, Force rebinds the same ENI at once; on a
// disconnected zone either sets the resource it will connect to.
func (cp *ControlPlane) UpdateVpcEndpointZoneConnectionResourceAttribute(c Caller, in ZoneResourceInput) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		s, e, z, err := cp.zoneTarget(t.c.UID, in.ServiceID, in.EndpointID, in.ZoneID)
		if err != nil {
			return unit(err)
		}
		alloc := in.AllocateMode
		if alloc == "Mannual" {
			alloc = "Manual"
		}
		switch {
		case alloc != "" && in.ReplaceMode != "":
			return unit(invalid("ResourceReplaceMode", "give ResourceAllocateMode or ResourceReplaceMode, not both"))
		case alloc == "" && in.ReplaceMode == "":
			return unit(missing("ResourceReplaceMode"))
		case alloc != "" && alloc != "Auto" && alloc != "Manual":
			return unit(invalid("ResourceAllocateMode", "must be Auto or Manual"))
		case in.ReplaceMode != "" && in.ReplaceMode != "Graceful" && in.ReplaceMode != "Force":
			return unit(invalid("ResourceReplaceMode", "must be Graceful or Force"))
		}
		var res *ServiceResource
		if alloc != "Auto" {
			if in.ResourceID == "" {
				return unit(missing("ResourceId"))
			}
			if in.ResourceType == "" {
				return unit(missing("ResourceType"))
			}
			if err := validResourceType("ResourceType", in.ResourceType); err != nil {
				return unit(err)
			}
			if res = s.resource(in.ResourceID); res == nil {
				return unit(errResourceNotAttached.with(in.ResourceID, s.ID))
			}
			if res.ZoneID != z.ZoneID {
				return unit(invalidf("ResourceId", "resource %s is in zone %s, not %s", res.ID, res.ZoneID, z.ZoneID))
			}
		}
		if alloc != "" {
			if st := z.Phase.Status; st != "Disconnected" && st != "Wait" {
				return unit(zoneStatusErr(e, z, "Disconnected"))
			}
			if err := t.dryRun(); err != nil {
				return unit(err)
			}
			z.Manual = ""
			if res != nil {
				z.Manual = res.ID
			}
			t.touchEndpoint(e.ID)
			return unit(nil)
		}
		if err := connectedErr(e); err != nil {
			return unit(err)
		}
		// Guide, 步骤五: the zone is Connected or Disconnected, and the
		// resource being replaced no longer allows automatic allocation.
		cur := z.ResourceID
		switch z.Phase.Status {
		case "Connected":
		case "Disconnected":
			cur = z.Manual
		default:
			return unit(zoneStatusErr(e, z, "Connected or Disconnected"))
		}
		if res.ID == cur {
			return unit(invalidf("ResourceId", "resource %s already serves zone %s", res.ID, z.ZoneID))
		}
		if r := s.resource(cur); r != nil && r.AutoAllocated {
			return unit(errReplacedAutoAllocated.with(cur, z.ZoneID))
		}
		if z.Phase.Status == "Disconnected" {
			// No flows, no ENI to move: the replacement is the resource the
			// zone connects to next.
			if err := t.dryRun(); err != nil {
				return unit(err)
			}
			z.Manual = res.ID
			if !s.Phase.busy() {
				s.Phase.move("Pending", "Active", t.due())
				t.touchService(s.ID)
			}
			t.touchEndpoint(e.ID)
			return unit(nil)
		}
		var newENI ENIRecord
		if in.ReplaceMode == "Graceful" {
			vs := cp.w.vswitches[z.VSwitchID]
			ip, err := cp.pickIP("ip", vs, "", nil)
			if err != nil {
				return unit(err)
			}
			newENI = ENIRecord{IP: ip}
		}
		if err := t.dryRun(); err != nil {
			return unit(err)
		}
		old := Binding{ENI: z.ENI, ResourceID: z.ResourceID}
		if in.ReplaceMode == "Graceful" {
			newENI.ID = cp.newID("eni-")
			cp.takeIP(z.VSwitchID, newENI)
			cp.pickedAuto(z.VSwitchID, newENI.IP)
			z.ENI = newENI
			z.Replaced = &old
			cp.useResource(s.ID, old.ResourceID, -1, 1)
			z.ResourceID = ""
			cp.setResource(e, z, res.ID)
			z.Phase.move("Migrating", "Migrated", t.due())
		} else {
			cp.setResource(e, z, res.ID)
			z.Phase.move("Migrating", "Connected", t.due())
		}
		if !s.Phase.busy() {
			// The service shows Pending while a replacement runs (docs).
			s.Phase.move("Pending", "Active", t.due())
			t.touchService(s.ID)
		}
		t.touchEndpoint(e.ID)
		return unit(nil)
	})
	return err
}

// ConnectionsInput are ListVpcEndpointConnections' filters.
type ConnectionsInput struct {
	Page
	ServiceID, EndpointID, EndpointOwnerID, ConnectionStatus string
	ResourceID, ReplacedResourceID, EniID, ZoneID            string
	ResourceGroupID                                          string
}

// ListConnectionsResult is ListVpcEndpointConnections' answer.
type ListConnectionsResult struct {
	Connections []ConnectionInfo `json:"Connections"`
	TotalCount  int              `json:"TotalCount"`
	MaxResults  int              `json:"MaxResults"`
	NextToken   string           `json:"NextToken"`
}

// ListVpcEndpointConnections lists the connections of the caller's service.
func (cp *ControlPlane) ListVpcEndpointConnections(c Caller, in ConnectionsInput) (*ListConnectionsResult, error) {
	return read(cp, c, func() (*ListConnectionsResult, error) {
		if _, err := cp.ownService(c.UID, in.ServiceID); err != nil {
			return nil, err
		}
		if in.EndpointOwnerID != "" {
			if _, err := strconv.ParseInt(in.EndpointOwnerID, 10, 64); err != nil {
				return nil, invalid("EndpointOwnerId", "must be an account ID")
			}
		}
		var ids idList
		if l := cp.epByService[in.ServiceID]; l != nil {
			ids = *l
		}
		var match func(string) bool
		if in.EndpointID != "" || in.EndpointOwnerID != "" || in.ConnectionStatus != "" || in.ResourceID != "" ||
			in.ReplacedResourceID != "" || in.EniID != "" || in.ZoneID != "" || in.ResourceGroupID != "" {
			match = func(id string) bool {
				e := cp.endpoints[id]
				if !((in.EndpointID == "" || e.ID == in.EndpointID) &&
					(in.EndpointOwnerID == "" || e.Owner == in.EndpointOwnerID) &&
					(in.ConnectionStatus == "" || e.Conn.Phase.Status == in.ConnectionStatus) &&
					(in.ResourceGroupID == "" || e.ResourceGroupID == in.ResourceGroupID)) {
					return false
				}
				if in.ResourceID == "" && in.ReplacedResourceID == "" && in.EniID == "" && in.ZoneID == "" {
					return true
				}
				for _, z := range e.Zones {
					if (in.ResourceID == "" || z.ResourceID == in.ResourceID) &&
						(in.ReplacedResourceID == "" || z.Replaced != nil && z.Replaced.ResourceID == in.ReplacedResourceID) &&
						(in.EniID == "" || z.ENI.ID == in.EniID || z.Replaced != nil && z.Replaced.ENI.ID == in.EniID) &&
						(in.ZoneID == "" || z.ZoneID == in.ZoneID) {
						return true
					}
				}
				return false
			}
			if in.EndpointID != "" {
				ids = singleID(ids, in.EndpointID)
			}
		}
		items, next, total, max, err := paginate(ids, in.Page, match, func(id string) ConnectionInfo {
			return cp.connectionInfo(cp.endpoints[id])
		})
		if err != nil {
			return nil, err
		}
		return &ListConnectionsResult{Connections: items, TotalCount: total, MaxResults: max, NextToken: next}, nil
	})
}

// SetZoneFault fails (or restores) an endpoint zone on purpose: DNS stops
// answering with its ENI while it is failed.
func (cp *ControlPlane) SetZoneFault(endpointID, zoneID string, failed bool) error {
	_, err := mutate(cp, Caller{}, func(t *txn) (struct{}, error) {
		e := cp.endpoints[endpointID]
		if e == nil {
			return unit(errEndpointNotFound.with(endpointID))
		}
		z := e.zone(zoneID)
		if z == nil {
			return unit(errZoneNotFound.with(zoneID, endpointID))
		}
		z.Failed = failed
		t.touchEndpoint(e.ID)
		return unit(nil)
	})
	return err
}
