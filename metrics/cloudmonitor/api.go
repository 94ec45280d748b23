package cloudmonitor

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"eplink/controlplane/rpc"
	"eplink/controlplane/store"
)

// Version is the CloudMonitor API version served.
const Version = "2019-01-01"

// API returns the CloudMonitor OpenAPI as an rpc.Server: same signature,
// AccessKeys and error shape as PrivateLink's, its own Version and actions.
func (m *Monitor) API(credentials func(string) (string, string, bool), logger *slog.Logger) *rpc.Server {
	return &rpc.Server{
		Version:     Version,
		HostID:      "metrics." + m.cfg.Region + ".aliyuncs.com",
		Product:     "Cms",
		Actions:     m.Actions(),
		Credentials: credentials,
		Logger:      logger,
	}
}

// Actions are the CloudMonitor actions eplink serves.
func (m *Monitor) Actions() map[string]rpc.Handler {
	return map[string]rpc.Handler{
		"PutResourceMetricRule":    m.putResourceMetricRule,
		"PutResourceMetricRules":   m.putResourceMetricRules,
		"DescribeMetricRuleList":   m.describeMetricRuleList,
		"EnableMetricRules":        m.enableMetricRules,
		"DisableMetricRules":       m.disableMetricRules,
		"DeleteMetricRules":        m.deleteMetricRules,
		"DescribeMetricList":       m.describeMetricList,
		"DescribeMetricLast":       m.describeMetricLast,
		"DescribeMetricMetaList":   m.describeMetricMetaList,
		"DescribeAlertLogList":     m.describeAlertLogList,
		"DescribeAlertHistoryList": m.describeAlertHistoryList,
		"PutContact":               m.putContact,
		"PutContactGroup":          m.putContactGroup,
		"DescribeContactList":      m.describeContactList,
		"DescribeContactGroupList": m.describeContactGroupList,
		"DeleteContact":            m.deleteContact,
		"DeleteContactGroup":       m.deleteContactGroup,
	}
}

// ok is the success part every CMS answer carries.
type ok struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
	Success bool   `json:"Success"`
}

var okBody = ok{Code: "200", Success: true}

// ---- rules ----

func (m *Monitor) putResourceMetricRule(_ context.Context, c *rpc.Call) (any, error) {
	r, err := parseRule(c.CallerUID, c.Params.Get)
	if err != nil {
		return nil, err
	}
	if err := m.putRules([]*Rule{r}); err != nil {
		return nil, err
	}
	return okBody, nil
}

// putRules creates or replaces rules, durably, keeping the state of a
// replaced rule only if what it watches is unchanged.
func (m *Monitor) putRules(rs []*Rule) error {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	now := m.now().UnixMilli()
	m.mu.Lock()
	ops := make([]store.Op, 0, len(rs))
	for _, r := range rs {
		k := r.Owner + "/" + r.RuleID
		r.Created, r.Modified = now, now
		if old := m.rules[k]; old != nil {
			r.Created = old.Created
			r.Enabled = old.Enabled
		}
		v, _ := json.Marshal(r)
		ops = append(ops, store.Op{Bucket: bucketRules, Key: k, Value: v})
	}
	m.mu.Unlock()
	if err := m.persistSync(ops); err != nil {
		return err
	}
	m.mu.Lock()
	for _, r := range rs {
		k := r.Owner + "/" + r.RuleID
		m.rules[k] = r
		delete(m.states, k) // a changed rule starts over from OK
	}
	m.mu.Unlock()
	return nil
}

func (m *Monitor) putResourceMetricRules(_ context.Context, c *rpc.Call) (any, error) {
	items, err := c.Params.Structs("Rules")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, rpc.MissingParameter("Rules.1.RuleId")
	}
	type result struct {
		Success bool   `json:"Success"`
		Message string `json:"Message"`
		Code    string `json:"Code"`
	}
	type target struct {
		RuleID string `json:"RuleId"`
		Result result `json:"Result"`
	}
	var good []*Rule
	var failed []target
	for _, it := range items {
		r, err := parseRule(c.CallerUID, func(k string) string { return it[k] })
		if err != nil {
			msg, code := err.Error(), "400"
			if e, ok := err.(*rpc.Error); ok {
				msg = e.Message
			}
			failed = append(failed, target{RuleID: it["RuleId"], Result: result{Message: msg, Code: code}})
			continue
		}
		good = append(good, r)
	}
	if err := m.putRules(good); err != nil {
		return nil, err
	}
	out := struct {
		ok
		FailedListResult struct {
			Target []target `json:"Target"`
		} `json:"FailedListResult"`
	}{ok: okBody}
	out.FailedListResult.Target = failed
	if len(failed) > 0 {
		out.Success = false
		out.Code = "206"
		out.Message = "Some rules were not saved; see FailedListResult."
	}
	return out, nil
}

type escalationOut struct {
	ComparisonOperator string `json:"ComparisonOperator"`
	Statistics         string `json:"Statistics"`
	Threshold          string `json:"Threshold"`
	Times              int    `json:"Times"`
}

type alarmOut struct {
	RuleID              string                   `json:"RuleId"`
	RuleName            string                   `json:"RuleName"`
	Namespace           string                   `json:"Namespace"`
	MetricName          string                   `json:"MetricName"`
	Period              string                   `json:"Period"`
	Resources           string                   `json:"Resources"`
	Dimensions          string                   `json:"Dimensions"`
	ContactGroups       string                   `json:"ContactGroups"`
	Webhook             string                   `json:"Webhook"`
	SilenceTime         int                      `json:"SilenceTime"`
	EffectiveInterval   string                   `json:"EffectiveInterval"`
	NoEffectiveInterval string                   `json:"NoEffectiveInterval"`
	NoDataPolicy        string                   `json:"NoDataPolicy"`
	MailSubject         string                   `json:"MailSubject"`
	EnableState         bool                     `json:"EnableState"`
	AlertState          string                   `json:"AlertState"`
	SourceType          string                   `json:"SourceType"`
	RuleType            string                   `json:"RuleType"`
	ProductCategory     string                   `json:"ProductCategory"`
	Escalations         map[string]escalationOut `json:"Escalations"`
}

func (m *Monitor) describeMetricRuleList(_ context.Context, c *rpc.Call) (any, error) {
	p := c.Params
	page, _, err := p.Int("Page", 1, 1<<30)
	if err != nil {
		return nil, err
	}
	size, _, err := p.Int("PageSize", 1, 10000)
	if err != nil {
		return nil, err
	}
	if page == 0 {
		page = 1
	}
	if size == 0 {
		size = 10
	}
	enable, enableSet, err := p.Bool("EnableState")
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, id := range splitList(p.Get("RuleIds")) {
		ids[id] = true
	}
	m.mu.Lock()
	var rules []alarmOut
	for _, r := range m.rules {
		if r.Owner != c.CallerUID ||
			(len(ids) > 0 && !ids[r.RuleID]) ||
			(p.Has("RuleName") && !strings.Contains(r.RuleName, p.Get("RuleName"))) ||
			(p.Has("RuleIdLike") && !strings.Contains(r.RuleID, p.Get("RuleIdLike"))) ||
			(p.Has("MetricName") && r.MetricName != p.Get("MetricName")) ||
			(p.Has("Namespace") && r.Namespace != p.Get("Namespace")) ||
			(p.Has("Dimensions") && !strings.Contains(r.Resources, strings.Trim(p.Get("Dimensions"), "[]{}"))) ||
			(enableSet && r.Enabled != enable) {
			continue
		}
		state := StateOK
		if st := m.states[r.Owner+"/"+r.RuleID]; st != nil && r.Enabled {
			state, _ = st.alarmState()
		}
		if p.Has("AlertState") && p.Get("AlertState") != state {
			continue
		}
		esc := map[string]escalationOut{}
		for l, e := range r.Escalations {
			esc[l] = escalationOut{e.ComparisonOperator, e.Statistics, e.Threshold, e.Times}
		}
		rules = append(rules, alarmOut{
			RuleID: r.RuleID, RuleName: r.RuleName, Namespace: r.Namespace, MetricName: r.MetricName,
			Period: strconv.Itoa(r.Period), Resources: r.Resources, Dimensions: r.Resources,
			ContactGroups: r.ContactGroups, Webhook: r.Webhook, SilenceTime: r.SilenceTime,
			EffectiveInterval: r.EffectiveInterval, NoEffectiveInterval: r.NoEffectiveInterval,
			NoDataPolicy: r.NoDataPolicy, MailSubject: r.EmailSubject, EnableState: r.Enabled,
			AlertState: state, SourceType: "METRIC", RuleType: "STATIC", ProductCategory: "privatelink",
			Escalations: esc,
		})
	}
	m.mu.Unlock()
	sort.Slice(rules, func(i, j int) bool { return rules[i].RuleID < rules[j].RuleID })
	total := len(rules)
	lo := min(int((page-1)*size), total)
	hi := min(lo+int(size), total)
	out := struct {
		Code    int    `json:"Code"`
		Message string `json:"Message"`
		Success bool   `json:"Success"`
		Total   string `json:"Total"`
		Alarms  struct {
			Alarm []alarmOut `json:"Alarm"`
		} `json:"Alarms"`
	}{Code: 200, Success: true, Total: strconv.Itoa(total)}
	out.Alarms.Alarm = rules[lo:hi]
	if out.Alarms.Alarm == nil {
		out.Alarms.Alarm = []alarmOut{}
	}
	return out, nil
}

// ruleIDs reads RuleId.N (or Id.N) and checks every rule exists for the
// caller: one unknown id fails the call and changes nothing.
func (m *Monitor) ruleIDs(c *rpc.Call, name string) ([]string, error) {
	ids, err := c.Params.List(name)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, rpc.MissingParameter(name + ".1")
	}
	for _, id := range ids {
		if m.rules[c.CallerUID+"/"+id] == nil {
			return nil, notFound("The alarm rule %q does not exist.", id)
		}
	}
	return ids, nil
}

func (m *Monitor) setEnabled(c *rpc.Call, on bool) (any, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.mu.Lock()
	ids, err := m.ruleIDs(c, "RuleId")
	var ops []store.Op
	var changed []*Rule
	if err == nil {
		for _, id := range ids {
			r := *m.rules[c.CallerUID+"/"+id]
			r.Enabled = on
			r.Modified = m.now().UnixMilli()
			v, _ := json.Marshal(&r)
			ops = append(ops, store.Op{Bucket: bucketRules, Key: r.Owner + "/" + r.RuleID, Value: v})
			changed = append(changed, &r)
		}
	}
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := m.persistSync(ops); err != nil {
		return nil, err
	}
	m.mu.Lock()
	for _, r := range changed {
		k := r.Owner + "/" + r.RuleID
		if old := m.rules[k]; old != nil {
			old.Enabled, old.Modified = r.Enabled, r.Modified
			if !on {
				delete(m.states, k)
			}
		}
	}
	m.mu.Unlock()
	return okBody, nil
}

func (m *Monitor) enableMetricRules(_ context.Context, c *rpc.Call) (any, error) {
	return m.setEnabled(c, true)
}

func (m *Monitor) disableMetricRules(_ context.Context, c *rpc.Call) (any, error) {
	return m.setEnabled(c, false)
}

func (m *Monitor) deleteMetricRules(_ context.Context, c *rpc.Call) (any, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.mu.Lock()
	ids, err := m.ruleIDs(c, "Id")
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	ops := make([]store.Op, len(ids))
	for i, id := range ids {
		ops[i] = store.Op{Bucket: bucketRules, Key: c.CallerUID + "/" + id}
	}
	if err := m.persistSync(ops); err != nil {
		return nil, err
	}
	m.mu.Lock()
	for _, id := range ids {
		delete(m.rules, c.CallerUID+"/"+id)
		delete(m.states, c.CallerUID+"/"+id)
	}
	m.mu.Unlock()
	return okBody, nil
}

// ---- contacts ----

func (m *Monitor) putContact(_ context.Context, c *rpc.Call) (any, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	p := c.Params
	name, err := p.Required("ContactName")
	if err != nil {
		return nil, err
	}
	desc, err := p.Required("Describe")
	if err != nil {
		return nil, err
	}
	ding := p.Get("Channels.DingWebHook")
	if ding != "" && !strings.HasPrefix(ding, "http://") && !strings.HasPrefix(ding, "https://") {
		return nil, paramInvalid("Channels.DingWebHook %q is not an http or https URL.", ding)
	}
	now := m.now().UnixMilli()
	ct := &Contact{Owner: c.CallerUID, Name: name, Describe: desc, Lang: p.Get("Lang"),
		Mail: p.Get("Channels.Mail"), SMS: p.Get("Channels.SMS"), AliIM: p.Get("Channels.AliIM"),
		DingWebHook: ding, Created: now, Modified: now}
	k := c.CallerUID + "/" + name
	m.mu.Lock()
	if old := m.contacts[k]; old != nil {
		ct.Created = old.Created
	}
	m.mu.Unlock()
	v, _ := json.Marshal(ct)
	if err := m.persistSync([]store.Op{{Bucket: bucketContacts, Key: k, Value: v}}); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.contacts[k] = ct
	m.mu.Unlock()
	return okBody, nil
}

func (m *Monitor) putContactGroup(_ context.Context, c *rpc.Call) (any, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	p := c.Params
	name, err := p.Required("ContactGroupName")
	if err != nil {
		return nil, err
	}
	names, err := p.List("ContactNames")
	if err != nil {
		return nil, err
	}
	sub, _, err := p.Bool("EnableSubscribed")
	if err != nil {
		return nil, err
	}
	k := c.CallerUID + "/" + name
	now := m.now().UnixMilli()
	g := &ContactGroup{Owner: c.CallerUID, Name: name, Describe: p.Get("Describe"), Contacts: names,
		EnableSubscribed: sub, Created: now, Modified: now}
	m.mu.Lock()
	for _, n := range names {
		if m.contacts[c.CallerUID+"/"+n] == nil {
			m.mu.Unlock()
			return nil, notFound("The contact %q does not exist.", n)
		}
	}
	if old := m.groups[k]; old != nil {
		g.Created = old.Created
	}
	m.mu.Unlock()
	v, _ := json.Marshal(g)
	if err := m.persistSync([]store.Op{{Bucket: bucketGroups, Key: k, Value: v}}); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.groups[k] = g
	m.mu.Unlock()
	return okBody, nil
}

func pageParams(p rpc.Params, pageName, sizeName string, def int64) (page, size int64, err error) {
	if page, _, err = p.Int(pageName, 1, 1<<30); err != nil {
		return
	}
	if size, _, err = p.Int(sizeName, 1, 10000); err != nil {
		return
	}
	if page == 0 {
		page = 1
	}
	if size == 0 {
		size = def
	}
	return
}

func pageBounds(page, size int64, total int) (int, int) {
	lo := min(int((page-1)*size), total)
	return lo, min(lo+int(size), total)
}

func (m *Monitor) describeContactList(_ context.Context, c *rpc.Call) (any, error) {
	p := c.Params
	page, size, err := pageParams(p, "PageNumber", "PageSize", 100)
	if err != nil {
		return nil, err
	}
	type channels struct{ AliIM, Mail, SMS, DingWebHook string }
	type contactOut struct {
		Name          string   `json:"Name"`
		Desc          string   `json:"Desc"`
		Lang          string   `json:"Lang"`
		CreateTime    int64    `json:"CreateTime"`
		UpdateTime    int64    `json:"UpdateTime"`
		Channels      channels `json:"Channels"`
		ChannelsState channels `json:"ChannelsState"`
		ContactGroups struct {
			ContactGroup []string `json:"ContactGroup"`
		} `json:"ContactGroups"`
	}
	var list []contactOut
	m.mu.Lock()
	for _, ct := range m.contacts {
		if ct.Owner != c.CallerUID || (p.Has("ContactName") && ct.Name != p.Get("ContactName")) {
			continue
		}
		chans := map[string]string{"Mail": ct.Mail, "SMS": ct.SMS, "AliIM": ct.AliIM, "DingWebHook": ct.DingWebHook}
		if p.Has("ChanelType") && (chans[p.Get("ChanelType")] == "" ||
			(p.Has("ChanelValue") && chans[p.Get("ChanelType")] != p.Get("ChanelValue"))) {
			continue
		}
		o := contactOut{Name: ct.Name, Desc: ct.Describe, Lang: ct.Lang, CreateTime: ct.Created, UpdateTime: ct.Modified,
			Channels: channels{ct.AliIM, ct.Mail, ct.SMS, ct.DingWebHook}}
		state := func(v string) string {
			if v == "" {
				return ""
			}
			return "OK"
		}
		o.ChannelsState = channels{state(ct.AliIM), state(ct.Mail), state(ct.SMS), state(ct.DingWebHook)}
		o.ContactGroups.ContactGroup = []string{}
		for _, g := range m.groups {
			if g.Owner == c.CallerUID && contains(g.Contacts, ct.Name) {
				o.ContactGroups.ContactGroup = append(o.ContactGroups.ContactGroup, g.Name)
			}
		}
		sort.Strings(o.ContactGroups.ContactGroup)
		list = append(list, o)
	}
	m.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	lo, hi := pageBounds(page, size, len(list))
	out := struct {
		ok
		Total    int `json:"Total"`
		Contacts struct {
			Contact []contactOut `json:"Contact"`
		} `json:"Contacts"`
	}{ok: okBody, Total: len(list)}
	out.Contacts.Contact = append([]contactOut{}, list[lo:hi]...)
	return out, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (m *Monitor) describeContactGroupList(_ context.Context, c *rpc.Call) (any, error) {
	page, size, err := pageParams(c.Params, "PageNumber", "PageSize", 100)
	if err != nil {
		return nil, err
	}
	type groupOut struct {
		Name             string `json:"Name"`
		Describe         string `json:"Describe"`
		EnableSubscribed bool   `json:"EnableSubscribed"`
		CreateTime       int64  `json:"CreateTime"`
		UpdateTime       int64  `json:"UpdateTime"`
		Contacts         struct {
			Contact []string `json:"Contact"`
		} `json:"Contacts"`
	}
	var list []groupOut
	m.mu.Lock()
	for _, g := range m.groups {
		if g.Owner != c.CallerUID {
			continue
		}
		o := groupOut{Name: g.Name, Describe: g.Describe, EnableSubscribed: g.EnableSubscribed, CreateTime: g.Created, UpdateTime: g.Modified}
		o.Contacts.Contact = append([]string{}, g.Contacts...)
		list = append(list, o)
	}
	m.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	lo, hi := pageBounds(page, size, len(list))
	out := struct {
		ok
		Total         int `json:"Total"`
		ContactGroups struct {
			ContactGroup []string `json:"ContactGroup"`
		} `json:"ContactGroups"`
		ContactGroupList struct {
			ContactGroup []groupOut `json:"ContactGroup"`
		} `json:"ContactGroupList"`
	}{ok: okBody, Total: len(list)}
	out.ContactGroupList.ContactGroup = append([]groupOut{}, list[lo:hi]...)
	out.ContactGroups.ContactGroup = []string{}
	for _, g := range list[lo:hi] {
		out.ContactGroups.ContactGroup = append(out.ContactGroups.ContactGroup, g.Name)
	}
	return out, nil
}

func (m *Monitor) deleteContact(_ context.Context, c *rpc.Call) (any, error) {
	return deleteNamed(m, c, "ContactName", "contact", bucketContacts, m.contacts)
}

func (m *Monitor) deleteContactGroup(_ context.Context, c *rpc.Call) (any, error) {
	return deleteNamed(m, c, "ContactGroupName", "contact group", bucketGroups, m.groups)
}

// deleteNamed removes the caller's entry named by the parameter param from
// entries (contacts or groups) and from its bucket: on disk first, so that
// what the API acknowledged is what a restart finds.
func deleteNamed[V any](m *Monitor, c *rpc.Call, param, what, bucket string, entries map[string]V) (any, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	name, err := c.Params.Required(param)
	if err != nil {
		return nil, err
	}
	k := c.CallerUID + "/" + name
	m.mu.Lock()
	_, found := entries[k]
	m.mu.Unlock()
	if !found {
		return nil, notFound("The %s %q does not exist.", what, name)
	}
	if err := m.persistSync([]store.Op{{Bucket: bucket, Key: k}}); err != nil {
		return nil, err
	}
	m.mu.Lock()
	delete(entries, k)
	m.mu.Unlock()
	return okBody, nil
}

// ---- alert history ----

func (m *Monitor) describeAlertLogList(_ context.Context, c *rpc.Call) (any, error) {
	p := c.Params
	page, size, err := pageParams(p, "PageNumber", "PageSize", 10)
	if err != nil {
		return nil, err
	}
	from, to, err := m.logWindow(p)
	if err != nil {
		return nil, err
	}
	type dim struct{ Key, Value string }
	type webhook struct {
		Code    string `json:"code"`
		URL     string `json:"url"`
		Message string `json:"message"`
	}
	type sendResult struct {
		Key   string   `json:"Key"`
		Value []string `json:"Value"`
	}
	type escalation struct {
		Times      int    `json:"Times"`
		Level      string `json:"Level"`
		Expression string `json:"Expression"`
	}
	type logOut struct {
		LogID               string       `json:"LogId"`
		AlertTime           string       `json:"AlertTime"`
		RuleID              string       `json:"RuleId"`
		RuleName            string       `json:"RuleName"`
		Namespace           string       `json:"Namespace"`
		MetricName          string       `json:"MetricName"`
		Product             string       `json:"Product"`
		Level               string       `json:"Level"`
		LevelChange         string       `json:"LevelChange"`
		InstanceID          string       `json:"InstanceId"`
		InstanceName        string       `json:"InstanceName"`
		Message             string       `json:"Message"`
		SendStatus          string       `json:"SendStatus"`
		Dimensions          []dim        `json:"Dimensions"`
		Escalation          escalation   `json:"Escalation"`
		ContactGroups       []string     `json:"ContactGroups"`
		DingdingWebhookList []string     `json:"DingdingWebhookList"`
		ContactMailList     []string     `json:"ContactMailList"`
		ContactSMSList      []string     `json:"ContactSMSList"`
		WebhookList         []webhook    `json:"WebhookList"`
		SendResultList      []sendResult `json:"SendResultList"`
	}
	var list []logOut
	m.mu.Lock()
	for i := len(m.alertLog) - 1; i >= 0; i-- { // newest first
		e := m.alertLog[i]
		if e.Owner != c.CallerUID || e.Time < from || e.Time > to ||
			(p.Has("RuleId") && e.RuleID != p.Get("RuleId")) ||
			(p.Has("RuleName") && !strings.Contains(e.RuleName, p.Get("RuleName"))) ||
			(p.Has("MetricName") && e.MetricName != p.Get("MetricName")) ||
			(p.Has("Namespace") && e.Namespace != p.Get("Namespace")) ||
			(p.Has("Level") && e.Level != p.Get("Level")) ||
			(p.Has("SendStatus") && e.sendStatus() != p.Get("SendStatus")) ||
			(p.Has("ContactGroup") && !contains(e.ContactGroups, p.Get("ContactGroup"))) ||
			(p.Has("SearchKey") && !strings.Contains(e.RuleName+" "+e.InstanceID+" "+e.MetricName, p.Get("SearchKey"))) {
			continue
		}
		o := logOut{LogID: e.LogID, AlertTime: strconv.FormatInt(e.Time, 10), RuleID: e.RuleID, RuleName: e.RuleName,
			Namespace: e.Namespace, MetricName: e.MetricName, Product: "privatelink", Level: e.Level,
			LevelChange: e.PreLevel + "->" + e.Level, InstanceID: e.InstanceID, InstanceName: e.InstanceID,
			SendStatus: e.sendStatus(), Escalation: escalation{e.Times, e.Level, e.Expression},
			ContactGroups: append([]string{}, e.ContactGroups...)}
		o.Message = e.State + " " + e.Expression + " value " + e.Value
		if e.Repeat {
			o.Message += " (repeated after the silence time)"
		}
		keys := make([]string, 0, len(e.Dimensions))
		for k := range e.Dimensions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			o.Dimensions = append(o.Dimensions, dim{k, e.Dimensions[k]})
		}
		results := map[string][]string{}
		for _, s := range e.Sends {
			line := s.Target + " attempt " + strconv.Itoa(s.Attempt) + ": " + s.Code
			if s.Message != "" {
				line += " " + s.Message
			}
			results[s.Channel] = append(results[s.Channel], line)
			switch s.Channel {
			case "Webhook":
				o.WebhookList = append(o.WebhookList, webhook{Code: s.Code, URL: s.Target, Message: s.Message})
			case "DingWebHook":
				o.DingdingWebhookList = append(o.DingdingWebhookList, s.Target)
			case "Mail":
				o.ContactMailList = append(o.ContactMailList, s.Target)
			case "SMS":
				o.ContactSMSList = append(o.ContactSMSList, s.Target)
			}
		}
		chans := make([]string, 0, len(results))
		for ch := range results {
			chans = append(chans, ch)
		}
		sort.Strings(chans)
		for _, ch := range chans {
			o.SendResultList = append(o.SendResultList, sendResult{ch, results[ch]})
		}
		list = append(list, o)
	}
	m.mu.Unlock()
	lo, hi := pageBounds(page, size, len(list))
	out := struct {
		ok
		PageNumber   int      `json:"PageNumber"`
		PageSize     int      `json:"PageSize"`
		AlertLogList []logOut `json:"AlertLogList"`
	}{ok: okBody, PageNumber: int(page), PageSize: int(size)}
	out.AlertLogList = append([]logOut{}, list[lo:hi]...)
	return out, nil
}

// logWindow is [StartTime, EndTime] in ms; LastMin overrides StartTime.
func (m *Monitor) logWindow(p rpc.Params) (from, to int64, err error) {
	to = 1<<62 - 1
	if p.Has("StartTime") {
		if from, err = parseTime("StartTime", p.Get("StartTime")); err != nil {
			return
		}
	}
	if p.Has("EndTime") {
		if to, err = parseTime("EndTime", p.Get("EndTime")); err != nil {
			return
		}
	}
	if p.Has("LastMin") {
		n, e := strconv.Atoi(p.Get("LastMin"))
		if e != nil || n < 1 {
			return 0, 0, paramInvalid("LastMin %q is not valid: minutes.", p.Get("LastMin"))
		}
		from = m.now().Add(-time.Duration(n) * time.Minute).UnixMilli()
	}
	return
}

func (m *Monitor) describeAlertHistoryList(_ context.Context, c *rpc.Call) (any, error) {
	p := c.Params
	page, size, err := pageParams(p, "Page", "PageSize", 10)
	if err != nil {
		return nil, err
	}
	from, to, err := m.logWindow(p)
	if err != nil {
		return nil, err
	}
	asc, _, err := p.Bool("Ascending")
	if err != nil {
		return nil, err
	}
	type historyOut struct {
		RuleID          string `json:"RuleId"`
		RuleName        string `json:"RuleName"`
		Namespace       string `json:"Namespace"`
		MetricName      string `json:"MetricName"`
		Dimensions      string `json:"Dimensions"`
		Expression      string `json:"Expression"`
		EvaluationCount int    `json:"EvaluationCount"`
		Value           string `json:"Value"`
		AlertTime       int64  `json:"AlertTime"`
		LastTime        int64  `json:"LastTime"`
		Level           string `json:"Level"`
		PreLevel        string `json:"PreLevel"`
		State           string `json:"State"`
		Status          int    `json:"Status"`
		InstanceName    string `json:"InstanceName"`
		Webhooks        string `json:"Webhooks"`
		ContactGroups   struct {
			ContactGroup []string `json:"ContactGroup"`
		} `json:"ContactGroups"`
	}
	var list []historyOut
	m.mu.Lock()
	for _, e := range m.alertLog {
		if e.Owner != c.CallerUID || e.Time < from || e.Time > to ||
			(p.Has("RuleId") && e.RuleID != p.Get("RuleId")) ||
			(p.Has("RuleName") && !strings.Contains(e.RuleName, p.Get("RuleName"))) ||
			(p.Has("MetricName") && e.MetricName != p.Get("MetricName")) ||
			(p.Has("Namespace") && e.Namespace != p.Get("Namespace")) ||
			(p.Has("State") && e.State != p.Get("State")) {
			continue
		}
		d, _ := json.Marshal(e.Dimensions)
		h := historyOut{RuleID: e.RuleID, RuleName: e.RuleName, Namespace: e.Namespace, MetricName: e.MetricName,
			Dimensions: string(d), Expression: e.Expression, EvaluationCount: e.Times, Value: e.Value,
			AlertTime: e.Time, Level: e.Level, PreLevel: e.PreLevel, State: e.State, InstanceName: e.InstanceID,
			Webhooks: e.Webhook}
		// Status: 0 notified, 2 a reminder after the silence time.
		if e.Repeat {
			h.Status = 2
		}
		h.ContactGroups.ContactGroup = append([]string{}, e.ContactGroups...)
		list = append(list, h)
	}
	m.mu.Unlock()
	if !asc {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	lo, hi := pageBounds(page, size, len(list))
	out := struct {
		ok
		Total            string `json:"Total"`
		AlarmHistoryList struct {
			AlarmHistory []historyOut `json:"AlarmHistory"`
		} `json:"AlarmHistoryList"`
	}{ok: okBody, Total: strconv.Itoa(len(list))}
	out.AlarmHistoryList.AlarmHistory = append([]historyOut{}, list[lo:hi]...)
	return out, nil
}
