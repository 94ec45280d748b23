package cloudmonitor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"eplink/controlplane/rpc"
)

// Levels of an alarm, most severe first.
var levels = [...]string{"Critical", "Warn", "Info"}

// Escalation is one level's condition: Statistics over a Period compared
// with Threshold, Times periods in a row.
type Escalation struct {
	Statistics         string `json:"Statistics"`
	ComparisonOperator string `json:"ComparisonOperator"`
	Threshold          string `json:"Threshold"`
	Times              int    `json:"Times"`
	threshold          float64
}

// Rule is a threshold alarm rule (PutResourceMetricRule).
type Rule struct {
	RuleID              string                 `json:"RuleId"`
	RuleName            string                 `json:"RuleName"`
	Owner               string                 `json:"Owner"`
	Namespace           string                 `json:"Namespace"`
	MetricName          string                 `json:"MetricName"`
	Resources           string                 `json:"Resources"`
	Period              int                    `json:"Period"`
	Escalations         map[string]*Escalation `json:"Escalations"` // by level
	ContactGroups       string                 `json:"ContactGroups"`
	Webhook             string                 `json:"Webhook"`
	SilenceTime         int                    `json:"SilenceTime"`
	EffectiveInterval   string                 `json:"EffectiveInterval"`
	NoEffectiveInterval string                 `json:"NoEffectiveInterval"`
	NoDataPolicy        string                 `json:"NoDataPolicy"`
	EmailSubject        string                 `json:"EmailSubject"`
	Enabled             bool                   `json:"Enabled"`
	Created             int64                  `json:"Created"`
	Modified            int64                  `json:"Modified"`

	filters []map[string]string // nil = _ALL
	key     string              // Owner/RuleId, set on first evaluation
	eff     *interval
	noEff   *interval
}

// Defaults of a rule, as the cloud's.
const (
	defaultPeriod      = 300
	defaultSilenceTime = 86400
	defaultTimes       = 1
	// minPeriod is eplink's: the cloud's minimum is 60 s, eplink takes 1 s so
	// that a lab or a test sees a rule fire within seconds.
	minPeriod = 1
)

var operators = map[string]func(v, th float64) bool{
	"GreaterThanOrEqualToThreshold": func(v, th float64) bool { return v >= th },
	"GreaterThanThreshold":          func(v, th float64) bool { return v > th },
	"LessThanOrEqualToThreshold":    func(v, th float64) bool { return v <= th },
	"LessThanThreshold":             func(v, th float64) bool { return v < th },
	"NotEqualToThreshold":           func(v, th float64) bool { return v != th },
	"EqualToThreshold":              func(v, th float64) bool { return v == th },
}

var opSymbols = map[string]string{
	"GreaterThanOrEqualToThreshold": ">=", "GreaterThanThreshold": ">",
	"LessThanOrEqualToThreshold": "<=", "LessThanThreshold": "<",
	"NotEqualToThreshold": "!=", "EqualToThreshold": "==",
}

// Errors in CloudMonitor's terms.
func paramInvalid(format string, args ...any) error {
	return rpc.Errorf(http.StatusBadRequest, "ParameterInvalid", format, args...)
}

func notFound(format string, args ...any) error {
	return rpc.Errorf(http.StatusNotFound, "ResourceNotFound", format, args...)
}

var ruleIDForm = regexp.MustCompile(`^[A-Za-z0-9_\-.:@]{1,128}$`)

// parseRule builds a rule from PutResourceMetricRule's parameters (or one
// Rules.N of PutResourceMetricRules: get reads the fields without prefix).
func parseRule(owner string, get func(string) string) (*Rule, error) {
	r := &Rule{Owner: owner, Escalations: map[string]*Escalation{}}
	for _, name := range []string{"RuleId", "RuleName", "Namespace", "MetricName", "Resources"} {
		if get(name) == "" {
			return nil, rpc.MissingParameter(name)
		}
	}
	r.RuleID, r.RuleName = get("RuleId"), get("RuleName")
	r.Namespace, r.MetricName, r.Resources = get("Namespace"), get("MetricName"), get("Resources")
	if !ruleIDForm.MatchString(r.RuleID) {
		return nil, paramInvalid("RuleId %q is not valid: 1 to 128 letters, digits and _-.:@.", r.RuleID)
	}
	if len(r.RuleName) > 256 {
		return nil, paramInvalid("RuleName is longer than 256 characters.")
	}
	if r.Namespace != Namespace {
		return nil, paramInvalid("The namespace %q is not supported; eplink serves %s.", r.Namespace, Namespace)
	}
	meta, ok := LookupMetric(r.MetricName)
	if !ok {
		return nil, paramInvalid("The metric %q does not exist in namespace %s.", r.MetricName, Namespace)
	}
	filters, err := parseResources(r.Resources)
	if err != nil {
		return nil, err
	}
	r.filters = filters
	r.Period = defaultPeriod
	if v := get("Period"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < minPeriod || n > 86400 {
			return nil, paramInvalid("Period %q is not valid: seconds, %d to 86400.", v, minPeriod)
		}
		r.Period = n
	}
	for _, l := range levels {
		p := "Escalations." + l + "."
		stat, op, th, times := get(p+"Statistics"), get(p+"ComparisonOperator"), get(p+"Threshold"), get(p+"Times")
		if stat == "" && op == "" && th == "" && times == "" {
			continue
		}
		e := &Escalation{Statistics: stat, ComparisonOperator: op, Threshold: th, Times: defaultTimes}
		if stat == "" {
			return nil, rpc.MissingParameter(p + "Statistics")
		}
		if !meta.allows(stat) {
			return nil, paramInvalid("%sStatistics %q is not valid for %s: one of %s.", p, stat, meta.Name, meta.statsList())
		}
		if op == "" {
			return nil, rpc.MissingParameter(p + "ComparisonOperator")
		}
		if operators[op] == nil {
			return nil, paramInvalid("%sComparisonOperator %q is not valid.", p, op)
		}
		if th == "" {
			return nil, rpc.MissingParameter(p + "Threshold")
		}
		f, err := strconv.ParseFloat(th, 64)
		if err != nil || f != f {
			return nil, paramInvalid("%sThreshold %q is not a number.", p, th)
		}
		e.threshold = f
		if times != "" {
			n, err := strconv.Atoi(times)
			if err != nil || n < 1 || n > 100 {
				return nil, paramInvalid("%sTimes %q is not valid: 1 to 100.", p, times)
			}
			e.Times = n
		}
		r.Escalations[l] = e
	}
	if len(r.Escalations) == 0 {
		return nil, paramInvalid("At least one of Escalations.Critical, Escalations.Warn and Escalations.Info must be given.")
	}
	r.ContactGroups = get("ContactGroups")
	r.Webhook = get("Webhook")
	if r.Webhook != "" && !strings.HasPrefix(r.Webhook, "http://") && !strings.HasPrefix(r.Webhook, "https://") {
		return nil, paramInvalid("Webhook %q is not an http or https URL.", r.Webhook)
	}
	r.SilenceTime = defaultSilenceTime
	if v := get("SilenceTime"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 86400 {
			return nil, paramInvalid("SilenceTime %q is not valid: seconds, 1 to 86400.", v)
		}
		r.SilenceTime = n
	}
	r.EffectiveInterval, r.NoEffectiveInterval = get("EffectiveInterval"), get("NoEffectiveInterval")
	if r.eff, err = parseInterval("EffectiveInterval", r.EffectiveInterval); err != nil {
		return nil, err
	}
	if r.noEff, err = parseInterval("NoEffectiveInterval", r.NoEffectiveInterval); err != nil {
		return nil, err
	}
	r.NoDataPolicy = get("NoDataPolicy")
	switch r.NoDataPolicy {
	case "":
		r.NoDataPolicy = "KEEP_LAST_STATE"
	case "KEEP_LAST_STATE", "INSUFFICIENT_DATA", "OK":
	default:
		return nil, paramInvalid("NoDataPolicy %q is not valid: KEEP_LAST_STATE, INSUFFICIENT_DATA or OK.", r.NoDataPolicy)
	}
	r.EmailSubject = get("EmailSubject")
	r.Enabled = true
	return r, nil
}

// parseResources reads Resources: a JSON array of dimension objects, e.g.
// [{"instanceId":"epsrv-…","resourceId":"lb-…"}], or [{"resource":"_ALL"}].
func parseResources(s string) ([]map[string]string, error) {
	var raw []map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		var one map[string]any
		if json.Unmarshal([]byte(s), &one) != nil {
			return nil, paramInvalid("Resources is not valid JSON: an array of dimension objects, e.g. [{\"instanceId\":\"ep-…\"}] or [{\"resource\":\"_ALL\"}].")
		}
		raw = []map[string]any{one}
	}
	var out []map[string]string
	for _, o := range raw {
		m := map[string]string{}
		for k, v := range o {
			var sv string
			switch v := v.(type) {
			case string:
				sv = v
			case float64:
				sv = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				return nil, paramInvalid("Resources: the value of %q must be a string.", k)
			}
			m[k] = sv
		}
		if m["resource"] == "_ALL" {
			return nil, nil
		}
		out = append(out, m)
	}
	return out, nil
}

// interval is a daily window "HH:MM-HH:MM" in local time; end may be before
// start (it then spans midnight).
type interval struct{ from, to int } // minutes of the day, inclusive

func parseInterval(name, s string) (*interval, error) {
	if s == "" {
		return nil, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return nil, paramInvalid("%s %q is not valid: HH:MM-HH:MM.", name, s)
	}
	f, err1 := parseHM(a)
	t, err2 := parseHM(b)
	if err1 != nil || err2 != nil {
		return nil, paramInvalid("%s %q is not valid: HH:MM-HH:MM.", name, s)
	}
	return &interval{f, t}, nil
}

func parseHM(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

func (iv *interval) contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if iv.from <= iv.to {
		return m >= iv.from && m <= iv.to
	}
	return m >= iv.from || m <= iv.to
}

// effective reports whether the rule checks data at t.
func (r *Rule) effective(t time.Time) bool {
	if r.eff != nil && !r.eff.contains(t) {
		return false
	}
	if r.noEff != nil && r.noEff.contains(t) {
		return false
	}
	return true
}

// restore recomputes what is not stored after a rule is read back.
func (r *Rule) restore() error {
	var err error
	if r.filters, err = parseResources(r.Resources); err != nil {
		return err
	}
	for _, e := range r.Escalations {
		if e.threshold, err = strconv.ParseFloat(e.Threshold, 64); err != nil {
			return err
		}
	}
	if r.eff, err = parseInterval("EffectiveInterval", r.EffectiveInterval); err != nil {
		return err
	}
	r.noEff, err = parseInterval("NoEffectiveInterval", r.NoEffectiveInterval)
	return err
}

// expression is the condition as the cloud writes it, e.g. "$Average>=100".
func (e *Escalation) expression() string {
	return "$" + e.Statistics + opSymbols[e.ComparisonOperator] + e.Threshold
}
