package controlplane

import (
	"crypto/rand"
	"net/netip"
	"strings"
)

// ENI addresses come from the vSwitch CIDR: never the network address, the
// first host (the vSwitch gateway) or the broadcast address, never one that
// is in use (including a replaced ENI that still carries flows).

func (cp *ControlPlane) takeIP(vsw string, eni ENIRecord) {
	if !eni.IP.IsValid() {
		return
	}
	m := cp.ips[vsw]
	if m == nil {
		m = map[netip.Addr]string{}
		cp.ips[vsw] = m
	}
	m[eni.IP] = eni.ID
}

// pickedAuto records that ip was chosen automatically: the next automatic
// choice in the vSwitch scans on from there. Addresses given by the caller
// do not move it, so automatic choices stay predictable.
func (cp *ControlPlane) pickedAuto(vsw string, ip netip.Addr) {
	cp.ipCursor[vsw] = ip.Next()
}

func (cp *ControlPlane) freeIP(vsw string, eni ENIRecord) {
	if m := cp.ips[vsw]; m != nil && m[eni.IP] == eni.ID {
		delete(m, eni.IP)
	}
}

// usable reports whether ip is a host address of the vSwitch ENIs may use.
func usable(p netip.Prefix, ip netip.Addr) string {
	if !p.Contains(ip) {
		return "outside the vSwitch CIDR " + p.String()
	}
	if ip == p.Addr() {
		return "the network address"
	}
	if ip == p.Addr().Next() {
		return "reserved for the vSwitch gateway"
	}
	if ip.Is4() && p.Bits() < 32 && ip == lastAddr(p) {
		return "the broadcast address"
	}
	return ""
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - uint(i%8))
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return a
}

// pickIP validates a requested address or finds a free one. reserved are
// addresses already chosen in this call.
func (cp *ControlPlane) pickIP(param string, vs *vswInfo, want string, reserved []netip.Addr) (netip.Addr, error) {
	used := cp.ips[vs.id]
	taken := func(a netip.Addr) bool {
		if _, ok := used[a]; ok {
			return true
		}
		for _, r := range reserved {
			if r == a {
				return true
			}
		}
		return false
	}
	if want != "" {
		ip, err := netip.ParseAddr(want)
		if err != nil || !ip.Is4() {
			return netip.Addr{}, invalid(param, "must be an IPv4 address")
		}
		if why := usable(vs.cidr, ip); why != "" {
			return netip.Addr{}, errIPUnavailable.with(want, vs.id, why)
		}
		if why, ok := vs.reserved[ip]; ok {
			return netip.Addr{}, errIPUnavailable.with(want, vs.id, why)
		}
		if taken(ip) {
			return netip.Addr{}, errIPUnavailable.with(want, vs.id, "in use")
		}
		return ip, nil
	}
	// Scan on from the last address chosen automatically, wrapping once, so that
	// filling a large vSwitch is linear rather than quadratic; freed
	// addresses are reused after the wrap.
	first := vs.cidr.Addr().Next().Next()
	start := first
	if c, ok := cp.ipCursor[vs.id]; ok && vs.cidr.Contains(c) {
		start = c
	}
	for _, r := range [][2]netip.Addr{{start, netip.Addr{}}, {first, start}} {
		for ip := r[0]; vs.cidr.Contains(ip) && ip != r[1]; ip = ip.Next() {
			if _, res := vs.reserved[ip]; usable(vs.cidr, ip) == "" && !taken(ip) && !res {
				return ip, nil
			}
		}
	}
	return netip.Addr{}, errVSwitchFull.with(vs.id)
}

// regionCodes are the first characters of ids in a region (reference §C3).
var regionCodes = map[string]string{
	"cn-hangzhou": "bp1", "cn-shanghai": "uf6", "cn-huhehaote": "hp3",
	"ap-southeast-1": "t4n", "cn-beijing": "2ze", "cn-shenzhen": "wz9",
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID returns prefix + 20 lower-case alphanumerics, region-coded.
func (cp *ControlPlane) newID(prefix string) string {
	code, ok := regionCodes[cp.w.region]
	if !ok {
		code = "xx1"
	}
	for {
		var b [20]byte
		rand.Read(b[:])
		var sb strings.Builder
		sb.WriteString(prefix)
		sb.WriteString(code)
		for _, c := range b[:20-len(code)] {
			sb.WriteByte(idAlphabet[int(c)%len(idAlphabet)])
		}
		id := sb.String()
		if cp.endpoints[id] == nil && cp.services[id] == nil {
			return id
		}
	}
}
