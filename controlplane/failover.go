package controlplane

import (
	"maps"
	"sort"

	"eplink/controlplane/snapshot"
)

// A CLB is deployed in a primary and, optionally, a backup zone; the backup
// carries no traffic until the primary fails (guide, 创建负载均衡: 备可用区默认
// 不承载流量，主可用区不可用时才承载流量). The lab fails a zone for CLBs on
// purpose; every CLB whose primary is that zone switches to its backup zone
// (its flows are cut, as a switch-over cuts them, and new ones go on), or,
// without a usable backup, is unavailable until the zone recovers.

// SetCLBZoneFault fails (or recovers) zone for the CLBs deployed in it.
func (cp *ControlPlane) SetCLBZoneFault(zone string, failed bool) error {
	_, err := mutate(cp, Caller{}, func(t *txn) (struct{}, error) {
		if zone == "" {
			return unit(missing("ZoneId"))
		}
		if !contains(cp.w.zones, zone) {
			return unit(errUnsupportedZone.with(zone, "it is not one of the lab's zones"))
		}
		if cp.clbZonesDown[zone] == failed {
			return unit(nil)
		}
		if failed {
			cp.clbZonesDown[zone] = true
		} else {
			delete(cp.clbZonesDown, zone)
		}
		cp.lbVer++
		t.lab = true
		return unit(nil)
	})
	return err
}

// activeZone is the zone carrying a CLB's traffic given the failed zones.
func activeZone(lb *snapshot.LoadBalancer, down map[string]bool) string {
	switch {
	case !down[lb.Zone]:
		return lb.Zone
	case lb.BackupZone != "" && !down[lb.BackupZone]:
		return lb.BackupZone
	}
	return ""
}

// snapLoadBalancers returns the Snapshot's CLBs: the lab's, with copies for
// the ones not in their primary zone. Call it with cp.mu held.
func (cp *ControlPlane) snapLoadBalancers() map[string]*snapshot.LoadBalancer {
	if len(cp.clbZonesDown) == 0 {
		return cp.w.snapLBs
	}
	lbs := maps.Clone(cp.w.snapLBs)
	for id, lb := range lbs {
		if z := activeZone(lb, cp.clbZonesDown); z != lb.Zone {
			c := *lb
			c.ActiveZone, c.Unavailable = z, z == ""
			lbs[id] = &c
		}
	}
	return lbs
}

// CLBZoneInfo is a CLB's deployment as the lab API shows it.
type CLBZoneInfo struct {
	ResourceID string `json:"ResourceId"`
	Zone       string `json:"ZoneId"`
	BackupZone string `json:"BackupZoneId"`
	// ActiveZone is the zone carrying its traffic ("" = unavailable).
	ActiveZone string `json:"ActiveZoneId"`
}

// CLBZones lists the lab's CLBs and the zone each runs in, by id.
func (cp *ControlPlane) CLBZones() []CLBZoneInfo {
	cp.mu.RLock()
	defer cp.mu.RUnlock()
	out := make([]CLBZoneInfo, 0, len(cp.w.snapLBs))
	for id, lb := range cp.w.snapLBs {
		out = append(out, CLBZoneInfo{ResourceID: id, Zone: lb.Zone, BackupZone: lb.BackupZone,
			ActiveZone: activeZone(lb, cp.clbZonesDown)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ResourceID < out[j].ResourceID })
	return out
}
