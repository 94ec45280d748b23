package cloudmonitor

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Alarm states of a rule and of each resource it watches.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// instState is the state of one rule on one series (one resource).
type instState struct {
	level      string // "" = OK, else the Level in alarm
	counts     [len(levels)]int
	since      int64 // second the current level began
	lastNotify int64 // second of the last notification of this level
	noData     bool
}

// ruleState is what the evaluator keeps per rule.
type ruleState struct {
	inst     map[string]*instState // by series key
	matched  []*series
	gen      uint64 // seriesDB.gen matched was computed at
	lastEval int64
}

// alarmState is the rule's state across its resources.
func (st *ruleState) alarmState() (state, level string) {
	state = StateOK
	best := len(levels)
	for _, in := range st.inst {
		if in.level != "" {
			state = StateAlarm
			for i, l := range levels {
				if l == in.level && i < best {
					best = i
				}
			}
		} else if in.noData && state == StateOK {
			state = StateInsufficientData
		}
	}
	if best < len(levels) {
		level = levels[best]
	}
	return state, level
}

// evaluate runs every enabled rule whose period ended at second now (the
// points of seconds before now are all written). The caller holds m.mu.
func (m *Monitor) evaluate(now int64) {
	m.db.mu.RLock()
	defer m.db.mu.RUnlock()
	wall := time.Unix(now, 0)
	for _, r := range m.rules {
		if !r.Enabled {
			continue
		}
		st := m.state(r)
		p := int64(r.Period)
		if st.lastEval != 0 && now/p == st.lastEval/p {
			continue // no period boundary crossed since the last evaluation
		}
		first := st.lastEval == 0
		st.lastEval = now
		if first && now%p != 0 {
			continue // start on a period boundary: a full window
		}
		if !r.effective(wall) {
			continue
		}
		if st.gen != m.db.gen || st.matched == nil {
			st.matched = m.db.find(r.Owner, r.MetricName, r.filters)
			st.gen = m.db.gen
		}
		end := now - now%p
		for _, s := range st.matched {
			m.evalSeries(r, st, s, end-p, end)
		}
	}
}

func (m *Monitor) state(r *Rule) *ruleState {
	if r.key == "" {
		r.key = r.Owner + "/" + r.RuleID
	}
	k := r.key
	st := m.states[k]
	if st == nil {
		st = &ruleState{inst: map[string]*instState{}}
		m.states[k] = st
	}
	return st
}

func (m *Monitor) evalSeries(r *Rule, st *ruleState, s *series, from, to int64) {
	in := st.inst[s.key]
	if in == nil {
		in = &instState{}
		st.inst[s.key] = in
	}
	a := s.aggregate(from, to)
	if a.n == 0 {
		switch r.NoDataPolicy {
		case "OK":
			in.counts = [len(levels)]int{}
			if in.level != "" {
				prev := in.level
				in.level, in.since, in.lastNotify = "", to, to
				m.alert(r, s, prev, "", StateOK, nil, to, false)
			}
		case "INSUFFICIENT_DATA":
			if !in.noData {
				in.noData = true
				m.alert(r, s, in.level, "", StateInsufficientData, nil, to, false)
			}
		}
		return
	}
	in.noData = false
	newLevel := ""
	for i, l := range levels {
		e := r.Escalations[l]
		if e == nil {
			continue
		}
		if operators[e.ComparisonOperator](a.stat(e.Statistics), e.threshold) {
			in.counts[i]++
		} else {
			in.counts[i] = 0
		}
		if newLevel == "" && in.counts[i] >= e.Times {
			newLevel = l
		}
	}
	switch {
	case newLevel != in.level:
		prev := in.level
		in.level, in.since, in.lastNotify = newLevel, to, to
		state := StateAlarm
		if newLevel == "" {
			state = StateOK
		}
		m.alert(r, s, prev, newLevel, state, &a, to, false)
	case in.level != "" && to-in.lastNotify >= int64(r.SilenceTime):
		in.lastNotify = to
		m.alert(r, s, in.level, in.level, StateAlarm, &a, to, true)
	}
}

// upper is a level as the alert log and callbacks write it.
func upper(level string) string {
	if level == "" {
		return "OK"
	}
	return strings.ToUpper(level)
}

// alert records a transition (or a repeat after SilenceTime) in the alert
// log and queues its notifications.
func (m *Monitor) alert(r *Rule, s *series, prev, level, state string, a *aggregate, at int64, repeat bool) {
	esc := r.Escalations[level]
	if esc == nil { // recovery or no data: describe it with the most severe condition
		for _, l := range levels {
			if esc = r.Escalations[l]; esc != nil {
				break
			}
		}
	}
	value := ""
	if a != nil {
		value = strconv.FormatFloat(a.stat(esc.Statistics), 'f', -1, 64)
	}
	dims := make(map[string]string, len(s.dims))
	for _, d := range s.dims {
		dims[d.k] = d.v
	}
	e := &AlertLog{
		Owner: r.Owner, Time: at * 1000, RuleID: r.RuleID, RuleName: r.RuleName,
		Namespace: r.Namespace, MetricName: r.MetricName,
		Level: upper(level), PreLevel: upper(prev), State: state, Value: value,
		Expression: esc.expression(), Times: esc.Times, Dimensions: dims,
		InstanceID: s.dim("instanceId"), Repeat: repeat,
		Webhook: r.Webhook, ContactGroups: splitList(r.ContactGroups),
	}
	if state == StateInsufficientData {
		e.Level = "NODATA"
	}
	m.addLog(e)
	m.notify(e, r)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// RuleStatus is a rule's state for status displays and /metrics.
type RuleStatus struct {
	Owner, RuleID, RuleName, MetricName string
	Enabled                             bool
	State, Level                        string
	Resources                           []ResourceStatus
}

// ResourceStatus is a rule's state on one resource (series).
type ResourceStatus struct {
	Dimensions map[string]string
	State      string
	Level      string
}

// Status returns every rule with its state, sorted by owner and id.
func (m *Monitor) Status() []RuleStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.db.mu.RLock() // the series' dimensions; the sampler adds and removes series
	defer m.db.mu.RUnlock()
	var out []RuleStatus
	for _, r := range m.rules {
		rs := RuleStatus{Owner: r.Owner, RuleID: r.RuleID, RuleName: r.RuleName, MetricName: r.MetricName, Enabled: r.Enabled}
		st := m.states[r.Owner+"/"+r.RuleID]
		rs.State = StateOK
		if st != nil {
			rs.State, rs.Level = st.alarmState()
			for key, in := range st.inst {
				s := m.db.byKey[key]
				if s == nil {
					continue
				}
				d := map[string]string{}
				for _, p := range s.dims {
					d[p.k] = p.v
				}
				state := StateOK
				if in.level != "" {
					state = StateAlarm
				} else if in.noData {
					state = StateInsufficientData
				}
				rs.Resources = append(rs.Resources, ResourceStatus{Dimensions: d, State: state, Level: in.level})
			}
			sort.Slice(rs.Resources, func(i, j int) bool {
				return rs.Resources[i].Dimensions["instanceId"]+dimsString(rs.Resources[i].Dimensions) <
					rs.Resources[j].Dimensions["instanceId"]+dimsString(rs.Resources[j].Dimensions)
			})
		}
		if !r.Enabled {
			rs.State = StateOK
		}
		out = append(out, rs)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Owner != out[j].Owner {
			return out[i].Owner < out[j].Owner
		}
		return out[i].RuleID < out[j].RuleID
	})
	return out
}

func dimsString(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + d[k])
	}
	return b.String()
}
