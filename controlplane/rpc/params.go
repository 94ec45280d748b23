package rpc

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Params are an action's parameters by name. A parameter present with an
// empty value counts as absent: the SDK never sends empty values.
type Params map[string]string

// Get returns the parameter's value, "" if absent.
func (p Params) Get(name string) string { return p[name] }

// Has reports whether the parameter is present and non-empty.
func (p Params) Has(name string) bool { return p[name] != "" }

// Required returns the value or a MissingParameter error.
func (p Params) Required(name string) (string, error) {
	v := p[name]
	if v == "" {
		return "", MissingParameter(name)
	}
	return v, nil
}

// Bool parses "true"/"false" (any case). set is false when absent.
func (p Params) Bool(name string) (v, set bool, err error) {
	s := p[name]
	switch strings.ToLower(s) {
	case "":
		return false, false, nil
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, InvalidParameter(name, "must be true or false")
}

// Int parses a decimal integer in [min, max]. set is false when absent.
func (p Params) Int(name string, min, max int64) (v int64, set bool, err error) {
	s := p[name]
	if s == "" {
		return 0, false, nil
	}
	v, perr := strconv.ParseInt(s, 10, 64)
	if perr != nil {
		return 0, false, InvalidParameter(name, "must be an integer")
	}
	if v < min || v > max {
		return 0, false, InvalidParameter(name, fmt.Sprintf("must be between %d and %d", min, max))
	}
	return v, true, nil
}

// MaxRepeated bounds N in X.N parameters.
const MaxRepeated = 100

// List returns the values of a repeated parameter X.1, X.2, … in index
// order. Indexes must be 1..MaxRepeated; gaps are allowed (the real API's
// handling of gaps is unknown; keeping order is what matters).
func (p Params) List(name string) ([]string, error) {
	idx, err := p.indexes(name, false)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(idx))
	for _, n := range idx {
		if v := p[name+"."+strconv.Itoa(n)]; v != "" {
			out = append(out, v)
		}
	}
	return out, nil
}

// Structs returns a repeated struct parameter X.N.Field as one map per N, in
// index order: Structs("Zone") on Zone.1.ZoneId=a&Zone.1.ip=b gives
// [{"ZoneId":"a","ip":"b"}].
func (p Params) Structs(name string) ([]map[string]string, error) {
	idx, err := p.indexes(name, true)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, len(idx))
	pos := make(map[int]int, len(idx))
	for i, n := range idx {
		out[i] = map[string]string{}
		pos[n] = i
	}
	prefix := name + "."
	for k, v := range p {
		if v == "" || !strings.HasPrefix(k, prefix) {
			continue
		}
		num, field, ok := strings.Cut(k[len(prefix):], ".")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(num)
		out[pos[n]][field] = v
	}
	return out, nil
}

// indexes returns the sorted distinct N of name.N (or name.N.Field when
// fields is true).
func (p Params) indexes(name string, fields bool) ([]int, error) {
	prefix := name + "."
	seen := map[int]bool{}
	for k, v := range p {
		if v == "" || !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		num, _, hasField := strings.Cut(rest, ".")
		if hasField != fields {
			return nil, InvalidParameter(k, "unexpected parameter form")
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > MaxRepeated || strconv.Itoa(n) != num {
			return nil, InvalidParameter(k, fmt.Sprintf("index must be 1..%d", MaxRepeated))
		}
		seen[n] = true
	}
	idx := make([]int, 0, len(seen))
	for n := range seen {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	return idx, nil
}
