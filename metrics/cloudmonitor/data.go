package cloudmonitor

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"eplink/controlplane/rpc"
)

// Bounds of the data queries.
const (
	defaultQueryPeriod = 60
	defaultLength      = 1000
	// maxLength is eplink's: the cloud caps a page at 1440 points; eplink
	// takes up to 10000 so that an hour at 1 s fits one page.
	maxLength = 10000
)

// parseTime reads a time parameter as the cloud does: milliseconds since
// the epoch, "2006-01-02 15:04:05" (local time) or RFC 3339.
func parseTime(name, s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.Local); err == nil {
		return t.UnixMilli(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UnixMilli(), nil
	}
	return 0, paramInvalid("%s %q is not a time: milliseconds since the epoch, \"YYYY-MM-DD hh:mm:ss\" or RFC 3339.", name, s)
}

// dataQuery is the decoded parameters of DescribeMetricList/Last.
type dataQuery struct {
	meta       *MetricMeta
	filters    []map[string]string
	period     int64
	start, end int64 // seconds, [start, end)
	length     int
	offset     int
}

func (m *Monitor) parseDataQuery(p rpc.Params) (*dataQuery, error) {
	ns, err := p.Required("Namespace")
	if err != nil {
		return nil, err
	}
	name, err := p.Required("MetricName")
	if err != nil {
		return nil, err
	}
	if ns != Namespace {
		return nil, paramInvalid("The namespace %q is not supported; eplink serves %s.", ns, Namespace)
	}
	meta, ok := LookupMetric(name)
	if !ok {
		return nil, paramInvalid("The metric %q does not exist in namespace %s.", name, Namespace)
	}
	q := &dataQuery{meta: meta, period: defaultQueryPeriod, length: defaultLength}
	if p.Has("Dimensions") {
		if q.filters, err = parseResources(p.Get("Dimensions")); err != nil {
			return nil, paramInvalid("Dimensions is not valid JSON: an object or an array of objects of dimension values.")
		}
	}
	if p.Has("Period") {
		n, err := strconv.ParseInt(p.Get("Period"), 10, 64)
		if err != nil || n < 1 || n > 86400 {
			return nil, paramInvalid("Period %q is not valid: seconds, 1 to 86400.", p.Get("Period"))
		}
		q.period = n
	}
	now := m.now()
	end, start := now.UnixMilli(), now.Add(-time.Hour).UnixMilli()
	if p.Has("EndTime") {
		if end, err = parseTime("EndTime", p.Get("EndTime")); err != nil {
			return nil, err
		}
	}
	if p.Has("StartTime") {
		if start, err = parseTime("StartTime", p.Get("StartTime")); err != nil {
			return nil, err
		}
	} else if p.Has("EndTime") {
		start = end - time.Hour.Milliseconds()
	}
	if start > end {
		return nil, paramInvalid("StartTime is after EndTime.")
	}
	q.start, q.end = start/1000, (end+999)/1000
	if p.Has("Length") {
		n, err := strconv.Atoi(p.Get("Length"))
		if err != nil || n < 1 || n > maxLength {
			return nil, paramInvalid("Length %q is not valid: 1 to %d.", p.Get("Length"), maxLength)
		}
		q.length = n
	}
	if p.Has("NextToken") {
		n, err := strconv.Atoi(p.Get("NextToken"))
		if err != nil || n < 0 {
			return nil, paramInvalid("NextToken %q is not valid.", p.Get("NextToken"))
		}
		q.offset = n
	}
	return q, nil
}

// appendPoint appends one datapoint object as the cloud writes it, already
// escaped as the content of the Datapoints JSON string (its quotes as \"):
// the answer is written once, not built and then escaped.
func appendPoint(b []byte, s *series, ts int64, a aggregate) []byte {
	b = append(b, `{\"timestamp\":`...)
	b = strconv.AppendInt(b, ts*1000, 10)
	for _, d := range s.dims {
		b = append(b, `,\"`...)
		b = append(b, d.k...)
		b = append(b, `\":\"`...)
		b = appendEscaped(b, d.v)
		b = append(b, `\"`...)
	}
	for _, st := range s.meta.Statistics {
		b = append(b, `,\"`...)
		b = append(b, st...)
		b = append(b, `\":`...)
		v := a.stat(st)
		if math.IsInf(v, 0) || v != v {
			v = 0
		}
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return append(b, '}')
}

// appendEscaped appends s as it reads inside a JSON string inside a JSON
// string: a dimension value (an id: printable ASCII) escaped twice.
func appendEscaped(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	if plain {
		return append(b, s...)
	}
	inner, _ := json.Marshal(s)     // "v" with v escaped once
	inner = inner[1 : len(inner)-1] // v escaped once
	outer := appendJSONString(nil, string(inner))
	return append(b, outer[1:len(outer)-1]...)
}

type dataOut struct {
	ok
	Period     string `json:"Period"`
	Datapoints string `json:"Datapoints"`
	NextToken  string `json:"NextToken,omitempty"`
	// escaped, when set, is Datapoints already escaped for a JSON string.
	escaped []byte
}

// AppendJSON implements rpc.JSONAppender: an hour at 1 s is a 300 KB
// Datapoints string, which encoding/json would escape through reflection
// and a growing buffer; this writes what encoding/json writes, directly.
func (d dataOut) AppendJSON(b []byte) []byte {
	b = append(b, `{"Code":`...)
	b = appendJSONString(b, d.Code)
	b = append(b, `,"Message":`...)
	b = appendJSONString(b, d.Message)
	b = append(b, `,"Success":`...)
	b = strconv.AppendBool(b, d.Success)
	b = append(b, `,"Period":`...)
	b = appendJSONString(b, d.Period)
	b = append(b, `,"Datapoints":`...)
	if d.escaped != nil {
		b = append(b, '"')
		b = append(b, d.escaped...)
		b = append(b, '"')
	} else {
		b = appendJSONString(b, d.Datapoints)
	}
	if d.NextToken != "" {
		b = append(b, `,"NextToken":`...)
		b = appendJSONString(b, d.NextToken)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string the way encoding/json (no
// HTML escaping) does; anything beyond printable ASCII goes through it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 {
			var q bytes.Buffer
			enc := json.NewEncoder(&q)
			enc.SetEscapeHTML(false)
			enc.Encode(s)
			return append(b, bytes.TrimSuffix(q.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func (m *Monitor) describeMetricList(_ context.Context, c *rpc.Call) (any, error) {
	q, err := m.parseDataQuery(c.Params)
	if err != nil {
		return nil, err
	}
	first := q.start - q.start%q.period
	m.db.mu.RLock()
	found := m.db.find(c.CallerUID, q.meta.Name, q.filters)
	// About 200 bytes a point: size the answer once.
	est := min(q.length, len(found)*int((q.end-first)/q.period+1))
	pg := pointPage{b: make([]byte, 0, 64+est*200), offset: q.offset, length: q.length}
	pg.b = append(pg.b, '[')
series:
	for _, s := range found {
		for t := first; t < q.end; t += q.period {
			if !pg.add(s, t, s.aggregate(max(t, q.start), min(t+q.period, q.end))) {
				break series
			}
		}
	}
	m.db.mu.RUnlock()
	return pg.out(q.period), nil
}

func (m *Monitor) describeMetricLast(_ context.Context, c *rpc.Call) (any, error) {
	q, err := m.parseDataQuery(c.Params)
	if err != nil {
		return nil, err
	}
	pg := pointPage{b: []byte{'['}, offset: q.offset, length: q.length}
	m.db.mu.RLock()
	for _, s := range m.db.find(c.CallerUID, q.meta.Name, q.filters) {
		last := min(s.last+1, q.end)
		t := last - last%q.period
		if t == last {
			t -= q.period
		}
		if !pg.add(s, t, s.aggregate(t, last)) {
			break
		}
	}
	m.db.mu.RUnlock()
	return pg.out(q.period), nil
}

// pointPage is one page of datapoints written as a JSON array: the first
// offset points are skipped, and after length points the page is full
// (more says that some were left for the next page).
type pointPage struct {
	b              []byte
	offset, length int
	n, skipped     int
	more           bool
}

// add writes the point of s at t, unless it has no data or falls before
// the page; it reports false once the page is full.
func (pg *pointPage) add(s *series, t int64, a aggregate) bool {
	switch {
	case a.n == 0:
		return true
	case pg.skipped < pg.offset:
		pg.skipped++
		return true
	case pg.n == pg.length:
		pg.more = true
		return false
	}
	if pg.n > 0 {
		pg.b = append(pg.b, ',')
	}
	pg.b = appendPoint(pg.b, s, t, a)
	pg.n++
	return true
}

// out is the page as the data actions answer it, with a NextToken when
// more points follow.
func (pg *pointPage) out(period int64) dataOut {
	out := dataOut{ok: okBody, Period: strconv.FormatInt(period, 10), escaped: append(pg.b, ']')}
	if pg.more {
		out.NextToken = strconv.Itoa(pg.offset + pg.n)
	}
	return out
}

func (m *Monitor) describeMetricMetaList(_ context.Context, c *rpc.Call) (any, error) {
	p := c.Params
	page, size, err := pageParams(p, "PageNumber", "PageSize", 30)
	if err != nil {
		return nil, err
	}
	if p.Has("Namespace") && p.Get("Namespace") != Namespace {
		return nil, paramInvalid("The namespace %q is not supported; eplink serves %s.", p.Get("Namespace"), Namespace)
	}
	type metaOut struct {
		MetricName  string `json:"MetricName"`
		Namespace   string `json:"Namespace"`
		Description string `json:"Description"`
		Dimensions  string `json:"Dimensions"`
		Periods     string `json:"Periods"`
		Statistics  string `json:"Statistics"`
		Unit        string `json:"Unit"`
		Labels      string `json:"Labels"`
	}
	var list []metaOut
	for i := range Catalog {
		mm := &Catalog[i]
		if p.Has("MetricName") && mm.Name != p.Get("MetricName") {
			continue
		}
		list = append(list, metaOut{
			MetricName: mm.Name, Namespace: Namespace, Description: mm.Description,
			Dimensions: strings.Join(mm.Dimensions, ","), Periods: "1,60,300", Statistics: mm.statsList(),
			Unit: mm.Unit, Labels: `[{"name":"metricCategory","value":"` + mm.object + `"},{"name":"productCategory","value":"privatelink"}]`,
		})
	}
	lo, hi := pageBounds(page, size, len(list))
	out := struct {
		ok
		TotalCount string `json:"TotalCount"`
		Resources  struct {
			Resource []metaOut `json:"Resource"`
		} `json:"Resources"`
	}{ok: okBody, TotalCount: strconv.Itoa(len(list))}
	out.Resources.Resource = append([]metaOut{}, list[lo:hi]...)
	return out, nil
}
