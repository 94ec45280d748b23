package lab

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParsedRule is a security-group Rule with its fields parsed, ready for the
// data path to match flows against.
type ParsedRule struct {
	Protocol string // tcp, udp, icmp or all
	// PortFrom..PortTo is the destination port range, inclusive; -1/-1
	// (every port) is 1..65535.
	PortFrom, PortTo int
	Source           netip.Prefix // masked; a bare address is a /32 (or /128)
	Accept           bool         // policy accept; false is drop
	Priority         int          // 1..100, 1 evaluated first
}

// Parsed parses r. Rules of a parsed lab always parse.
func (r Rule) Parsed() (ParsedRule, error) {
	var pr ParsedRule
	var err error
	if pr.Protocol, err = parseProtocol(r.Protocol); err != nil {
		return pr, err
	}
	portRange := r.PortRange
	if portRange == "" && (pr.Protocol == "icmp" || pr.Protocol == "all") {
		portRange = "-1/-1"
	}
	if pr.PortFrom, pr.PortTo, err = parsePortRange(portRange); err != nil {
		return pr, err
	}
	if pr.Source, err = parseSource(r.SourceCIDR); err != nil {
		return pr, err
	}
	if pr.Accept, err = parsePolicy(r.Policy); err != nil {
		return pr, err
	}
	pr.Priority = r.Priority
	if pr.Priority == 0 {
		pr.Priority = 1
	}
	if pr.Priority < 1 || pr.Priority > 100 {
		return pr, fmt.Errorf("%d is not a priority 1..100", r.Priority)
	}
	return pr, nil
}

// Matches reports whether a flow of protocol proto ("tcp", "udp", "icmp")
// from src to port falls under r.
func (r ParsedRule) Matches(proto string, src netip.Addr, port int) bool {
	return (r.Protocol == "all" || r.Protocol == proto) &&
		r.Source.Contains(src.Unmap()) &&
		port >= r.PortFrom && port <= r.PortTo
}

func parseProtocol(s string) (string, error) {
	switch p := strings.ToLower(s); p {
	case "tcp", "udp", "icmp", "all":
		return p, nil
	case "":
		return "", fmt.Errorf("required: tcp, udp, icmp or all")
	default:
		return "", fmt.Errorf("%q is not a protocol: tcp, udp, icmp or all", s)
	}
}

// parsePortRange parses "A/B" with 1 ≤ A ≤ B ≤ 65535, or "-1/-1" for all
// ports (returned as 1, 65535).
func parsePortRange(s string) (from, to int, err error) {
	if s == "-1/-1" {
		return 1, 65535, nil
	}
	a, b, ok := strings.Cut(s, "/")
	from, errA := strconv.Atoi(a)
	to, errB := strconv.Atoi(b)
	if !ok || errA != nil || errB != nil || from < 1 || from > to || to > 65535 {
		if s == "" {
			return 0, 0, fmt.Errorf("required: A/B such as 1/65535, or -1/-1 for all ports")
		}
		return 0, 0, fmt.Errorf("%q is not a port range A/B with 1 ≤ A ≤ B ≤ 65535, or -1/-1 for all ports", s)
	}
	return from, to, nil
}

// parseSource parses a rule's source: a CIDR block (host bits dropped) or a
// single address.
func parseSource(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("required, e.g. 0.0.0.0/0")
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%q is not a CIDR block such as 0.0.0.0/0", s)
}

func parsePolicy(s string) (accept bool, err error) {
	switch strings.ToLower(s) {
	case "accept", "":
		return true, nil
	case "drop":
		return false, nil
	default:
		return false, fmt.Errorf("%q is not a policy: accept or drop", s)
	}
}
