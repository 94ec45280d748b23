package cloudmonitor

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// The ring keeps the last n seconds, forgets older ones, reads gaps as no
// data, and allocates only the blocks written.
func TestSeriesRing(t *testing.T) {
	s := &series{ring: newRing(2*blockPoints + 10)}
	n := s.ring.n
	t0 := int64(1_800_000_000)
	s.put(t0, 1)
	s.put(t0+1, 2)
	s.put(t0+5, 6) // t0+2..t0+4: no data
	if a := s.aggregate(t0, t0+6); a.n != 3 || a.sum != 9 || a.min != 1 || a.max != 6 {
		t.Errorf("aggregate %+v", a)
	}
	if v := s.at(t0 + 3); !math.IsNaN(float64(v)) {
		t.Errorf("gap reads %v", v)
	}
	allocated := 0
	for _, b := range s.ring.blocks {
		if b != nil {
			allocated++
		}
	}
	if allocated > 2 {
		t.Errorf("%d blocks allocated for 6 s of points", allocated)
	}
	// A ring later, what is older than n seconds is gone (t0, t0+1 —
	// whose slot the new point took), what is younger (t0+5) is kept.
	s.put(t0+n+1, 7)
	for _, old := range []int64{t0, t0 + 1} {
		if v := s.at(old); !math.IsNaN(float64(v)) {
			t.Errorf("a point older than the ring reads %v", v)
		}
	}
	if a := s.aggregate(t0, t0+n+2); a.n != 2 || a.sum != 13 {
		t.Errorf("after a lap: %+v", a)
	}
	// Two rings later with nothing between: only the new point.
	s.put(t0+3*n, 8)
	if a := s.aggregate(t0, t0+3*n+1); a.n != 1 || a.sum != 8 {
		t.Errorf("after a long gap: %+v", a)
	}
}

// dataOut writes itself exactly as encoding/json would.
func TestDataOutJSON(t *testing.T) {
	for _, d := range []dataOut{
		{ok: okBody, Period: "1", Datapoints: `[{"timestamp":1,"instanceId":"ep-1","Average":0.5}]`},
		{ok: okBody, Period: "60", Datapoints: `[]`, NextToken: "10"},
		{ok: ok{Code: "200", Message: "a\\b \"q\" é\n<&>"}, Period: "5", Datapoints: "x\u2028"},
	} {
		want, err := marshalNoHTML(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(d.AppendJSON(nil)); got != want {
			t.Errorf("AppendJSON\n got %s\nwant %s", got, want)
		}
	}
}

func marshalNoHTML(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n"), err
}

// A datapoint's dimension values survive both levels of JSON, whatever
// they hold.
func TestDatapointEscaping(t *testing.T) {
	meta, _ := LookupMetric("VpcEndpointInBps")
	for _, v := range []string{"ep-1", `a"b\c`, "é<&>\n"} {
		s := &series{meta: meta, dims: []kv{{"userId", "1"}, {"instanceId", v}}}
		b := appendPoint([]byte(`{"Datapoints":"[`), s, 2, aggregate{n: 1, avg: 1.5, max: 2, min: 1})
		b = append(b, `]"}`...)
		var outer struct{ Datapoints string }
		if err := json.Unmarshal(b, &outer); err != nil {
			t.Fatalf("%q: %v: %s", v, err, b)
		}
		var pts []map[string]any
		if err := json.Unmarshal([]byte(outer.Datapoints), &pts); err != nil {
			t.Fatalf("%q: %v: %s", v, err, outer.Datapoints)
		}
		if len(pts) != 1 || pts[0]["instanceId"] != v || pts[0]["Average"] != 1.5 || pts[0]["timestamp"] != 2000.0 {
			t.Errorf("%q: %v", v, pts)
		}
	}
}
