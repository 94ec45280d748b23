package controlplane

import (
	"fmt"
	"sort"
)

// applyLab creates the services and endpoints the lab declares, through the
// same code as the API calls (same validation, same errors), unless the
// store already has them. Their transitions complete at once.
func (cp *ControlPlane) applyLab() error {
	l := cp.cfg.Lab
	for _, ls := range l.Services {
		cp.mu.RLock()
		have := cp.services[ls.ID] != nil
		cp.mu.RUnlock()
		if have {
			continue
		}
		in := CreateServiceInput{
			ID: ls.ID, AutoAccept: ls.AutoAcceptEnabled, ZoneAffinity: ls.ZoneAffinityEnabled,
			ConnectBandwidth: ls.ConnectBandwidth,
		}
		if ls.Description != "" {
			d := ls.Description
			in.Description = &d
		}
		for _, r := range ls.Resources {
			in.Resources = append(in.Resources, ResourceRef{Type: "slb", ID: r})
		}
		err := cp.labStep(ls.Owner, func(t *txn) error {
			if _, err := cp.createService(t, in); err != nil {
				return err
			}
			s := cp.services[ls.ID]
			for _, u := range ls.Whitelist {
				if u == ls.Owner || contains(s.Whitelist, u) {
					continue
				}
				if u != "*" {
					if err := validUID("whitelist", u); err != nil {
						return err
					}
				}
				s.Whitelist = append(s.Whitelist, u)
			}
			sort.Strings(s.Whitelist)
			return nil
		})
		if err != nil {
			return fmt.Errorf("lab: service %s: %w", ls.ID, err)
		}
	}
	for _, le := range l.Endpoints {
		cp.mu.RLock()
		have := cp.endpoints[le.ID] != nil
		cp.mu.RUnlock()
		if have {
			continue
		}
		in := CreateEndpointInput{ID: le.ID, VpcID: le.VPC, ServiceID: le.Service, SecurityGroupIDs: le.SecurityGroups}
		if le.Name != "" {
			n := le.Name
			in.Name = &n
		}
		for _, z := range le.Zones {
			in.Zones = append(in.Zones, ZoneSpec{ZoneID: z.Zone, VSwitchID: z.VSwitch, IP: z.IP})
		}
		err := cp.labStep(le.Owner, func(t *txn) error {
			_, err := cp.createEndpoint(t, in)
			return err
		})
		if err == nil && le.Accept {
			err = cp.labStep(cp.services[le.Service].Owner, func(t *txn) error {
				e := cp.endpoints[le.ID]
				if e.Conn.Phase.Status != "Disconnected" {
					return nil // auto-accepted
				}
				cp.connect(t, e, cp.services[le.Service])
				t.touchEndpoint(e.ID)
				return nil
			})
		}
		if err != nil {
			return fmt.Errorf("lab: endpoint %s: %w", le.ID, err)
		}
	}
	return nil
}

// labStep runs fn as the account uid with transitions completing at once.
func (cp *ControlPlane) labStep(uid string, fn func(t *txn) error) error {
	cp.mu.Lock()
	t := cp.newTxn(Caller{UID: uid})
	t.instant = true
	if err := fn(t); err != nil {
		cp.mu.Unlock()
		return err
	}
	seq, done := cp.commitLocked(t, nil)
	cp.mu.Unlock()
	return cp.finish(seq, done)
}
