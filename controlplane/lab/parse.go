package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a lab file, located by line and field path.
type Error struct {
	File string
	Line int    // 1-based; 0 when the problem has no line (a lab built in Go)
	Path string // e.g. vpcs[0].vswitches[1].cidr; empty for the file as a whole
	Msg  string
}

// Error formats e as "file:line: path: message", the form editors jump to,
// on one line: control characters from the file are escaped.
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Path != "" {
		s += ": " + e.Path
	}
	return oneLine(s + ": " + e.Msg)
}

func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// maxErrors bounds the report: past this many, the file is probably not a
// lab file at all and more lines would not help.
const maxErrors = 50

// errorList collects the problems of one file.
type errorList struct {
	file string
	errs []*Error
}

func (l *errorList) add(line int, path, msg string) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Path: path, Msg: msg})
}

// err sorts the problems by line and joins them; nil if there are none.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
	var errs []error
	for i, e := range l.errs {
		if i == maxErrors {
			errs = append(errs, fmt.Errorf("%s: %d more problems not shown", l.file, len(l.errs)-maxErrors))
			break
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// Load reads and parses the lab file at path; errors name the file by path.
func Load(path string) (*Lab, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and validates a lab file; name is the file name errors use.
// Every problem found is reported, each as an *Error (errors.As finds them
// in the joined error) naming the line and the field path. On success the
// defaults the schema documents are filled in.
func Parse(data []byte, name string) (*Lab, error) {
	errs := &errorList{file: name}
	root, err := parseYAML(data, name, "lab file")
	if err != nil {
		return nil, err
	}
	d := newDecoder(errs)
	var l Lab
	d.decode(root, reflect.ValueOf(&l).Elem(), "")
	if d.budget < 0 {
		return nil, errs.err() // the tree is not worth validating
	}
	applyDefaults(&l, d)
	c := &checker{errs: errs, line: d.line, skip: d.suppressed, has: d.has}
	c.lab(&l)
	if err := errs.err(); err != nil {
		return nil, err
	}
	l.src = &source{file: name, line: d.line}
	return &l, nil
}

// Decode decodes a YAML file of another kind (an experiment plan) into v, a
// pointer to a struct, as strictly as a lab file: unknown and duplicate keys
// and mistyped values are errors naming file:line and the field path. noun
// names the kind of file in messages ("plan"). It returns the line of each
// field path (of the nearest enclosing value when a path is absent), for the
// caller's own checks.
func Decode(data []byte, name, noun string, v any) (line func(path string) int, err error) {
	errs := &errorList{file: name}
	root, err := parseYAML(data, name, noun)
	if err != nil {
		return nil, err
	}
	d := newDecoder(errs)
	d.decode(root, reflect.ValueOf(v).Elem(), "")
	return d.line, errs.err()
}

// NewError returns an *Error at file:line, path (as Decode's errors read).
func NewError(file string, line int, path, msg string) error {
	return &Error{File: file, Line: line, Path: path, Msg: msg}
}

// yamlLine pulls the line out of yaml.v3's syntax errors ("yaml: line 3: …").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses one YAML document into its root mapping node.
func parseYAML(data []byte, name, noun string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &Error{File: name, Msg: "the " + noun + " is empty"}
		}
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: name, Line: extra.Line, Msg: "a " + noun + " holds one YAML document; found another (---)"}
	} else if err != io.EOF {
		return nil, yamlError(name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{File: name, Line: doc.Line, Msg: "the " + noun + " is empty"}
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, &Error{File: name, Line: root.Line, Msg: "the " + noun + " is empty"}
	}
	return root, nil
}

func yamlError(name string, err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return &Error{File: name, Msg: "YAML syntax: " + err.Error()}
}
