package lab

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds how many YAML nodes one lab file may expand to. Aliases
// are followed, so without a bound a few lines of nested aliases ("billion
// laughs") would expand to gigabytes; a real lab has a few hundred nodes.
const maxNodes = 100_000

var durationType = reflect.TypeFor[time.Duration]()

// decoder copies a yaml.Node tree into the schema structs, strictly: unknown
// and duplicate keys and mistyped values are errors. It remembers the node of
// every field path it sees, so that validation can name the line of a value.
type decoder struct {
	errs   *errorList
	nodes  map[string]*yaml.Node // field path → node (the alias, if one was used)
	failed map[string]bool       // paths whose value could not be decoded
	budget int
}

func newDecoder(errs *errorList) *decoder {
	return &decoder{
		errs:   errs,
		nodes:  make(map[string]*yaml.Node),
		failed: make(map[string]bool),
		budget: maxNodes,
	}
}

// has reports whether the file gave a value (even null) at path.
func (d *decoder) has(path string) bool {
	_, ok := d.nodes[path]
	return ok
}

// line is the line of the value at path or, when the file does not have
// that value, of the nearest enclosing one.
func (d *decoder) line(path string) int {
	for {
		if n, ok := d.nodes[path]; ok {
			return n.Line
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// suppressed reports whether path is, or lies under, a value that failed to
// decode: its zero value would only repeat that error in other words.
func (d *decoder) suppressed(path string) bool {
	for {
		if d.failed[path] {
			return true
		}
		if path == "" {
			return false
		}
		path = parentPath(path)
	}
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.failed[path] = true
	d.errs.add(n.Line, path, fmt.Sprintf(format, args...))
}

// decode stores n into v, which must be settable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.nodes[path] = n
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.fail(n, path, "the file expands to more than %d values (aliases nested too deep?)", maxNodes)
		}
		return
	}
	// Follow an alias to its anchor; the alias keeps its own line above.
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 100 {
			d.fail(n, path, "unresolvable alias")
			return
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // null or empty: the zero value
	}
	if v.Type() == durationType {
		d.decodeDuration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "expected a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.fail(n, path, "expected an integer, got %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			d.fail(n, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	default:
		// Only reachable if the schema grows a field of a new kind.
		panic(fmt.Sprintf("lab: no decoder for %s at %s", v.Type(), path))
	}
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected a duration such as 2s, got %s", kindName(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		if _, ierr := strconv.Atoi(n.Value); ierr == nil {
			d.fail(n, path, "duration %s needs a unit, e.g. %ss", n.Value, n.Value)
		} else {
			d.fail(n, path, "expected a duration such as 2s, got %q", n.Value)
		}
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// decodeMap decodes a mapping of string keys to string values (an API
// call's parameters in a plan); the lab schema itself has no maps.
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
		panic(fmt.Sprintf("lab: no decoder for %s at %s", v.Type(), path))
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			d.errs.add(kn.Line, path, fmt.Sprintf("expected a key, got %s", kindName(kn)))
			continue
		}
		if first, dup := seen[kn.Value]; dup {
			d.errs.add(kn.Line, joinPath(path, kn.Value), fmt.Sprintf("duplicate key (first at line %d)", first))
			continue
		}
		seen[kn.Value] = kn.Line
		var s string
		d.decode(vn, reflect.ValueOf(&s).Elem(), joinPath(path, kn.Value))
		m.SetMapIndex(reflect.ValueOf(kn.Value), reflect.ValueOf(s))
	}
	v.Set(m)
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping of %s, got %s", strings.Join(yamlKeys(v.Type()), ", "), describe(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := make(map[string]int) // key → line of its first occurrence
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			d.errs.add(kn.Line, path, fmt.Sprintf("expected a key, got %s", kindName(kn)))
			continue
		}
		key := kn.Value
		if kn.ShortTag() == "!!merge" {
			d.errs.add(kn.Line, path, "merge keys (<<) are not supported; use an alias as a whole value instead")
			continue
		}
		if first, dup := seen[key]; dup {
			d.errs.add(kn.Line, joinPath(path, key), fmt.Sprintf("duplicate key (first at line %d)", first))
			continue
		}
		seen[key] = kn.Line
		idx, ok := fields[key]
		if !ok {
			d.errs.add(kn.Line, joinPath(path, key), unknownKey(key, yamlKeys(v.Type())))
			continue
		}
		d.decode(vn, v.Field(idx), joinPath(path, key))
	}
}

// unknownKey says what is wrong with key and which keys would be right.
func unknownKey(key string, known []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if best := Closest(key, known); best != "" {
		msg += fmt.Sprintf(", did you mean %q?", best)
	}
	return msg + " (known keys: " + strings.Join(known, ", ") + ")"
}

// Closest returns the candidate nearest to s (case-insensitive edit
// distance), or "" when none is near enough to be a plausible typo. The lab
// file's keys and the CLI's action and parameter names share it.
func Closest(s string, candidates []string) string {
	best, bestD := "", -1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := editDistance(ls, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // not worth a suggestion, and bounds the work
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// yamlFields maps each yaml key of struct type t to its field index.
func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			m[k] = i
		}
	}
	return m
}

// yamlKeys lists the yaml keys of struct type t in declaration order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	default:
		return "a scalar"
	}
}

// describe names what n is, quoting a scalar's text.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return kindName(n)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// parentPath strips the last ".key" or "[i]" of path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
