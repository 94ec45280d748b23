package cloudmonitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Delivery runs beside evaluation, never on its path: evaluation queues a
// job and moves on; notifyWorkers goroutines send, each attempt bounded by
// NotifyTimeout, so a receiver that hangs holds one worker, not the rules.
const (
	notifyWorkers = 4
	// notifyQueue bounds queued deliveries; when it is full a delivery is
	// recorded as dropped instead of blocking evaluation.
	notifyQueue = 4096
)

// job is one notification to one target.
type job struct {
	entry       *AlertLog
	channel     string
	target      string
	contentType string
	body        []byte
}

// notify queues the entry's notifications: the rule's Webhook (in
// CloudMonitor's callback form) and each contact's channels. DingTalk
// robots are called; mail, SMS and AliIM are recorded, not sent. The
// caller holds m.mu.
func (m *Monitor) notify(e *AlertLog, r *Rule) {
	var jobs []*job
	if r.Webhook != "" {
		jobs = append(jobs, &job{entry: e, channel: "Webhook", target: r.Webhook,
			contentType: "application/x-www-form-urlencoded", body: []byte(m.callbackForm(e, r).Encode())})
	}
	seen := map[string]bool{}
	for _, g := range e.ContactGroups {
		grp := m.groups[e.Owner+"/"+g]
		if grp == nil {
			e.Sends = append(e.Sends, Send{Channel: "ContactGroup", Target: g, Time: e.Time, Code: "not-found",
				Message: "no contact group of this name"})
			continue
		}
		for _, name := range grp.Contacts {
			c := m.contacts[e.Owner+"/"+name]
			if c == nil || seen[name] {
				continue
			}
			seen[name] = true
			if c.DingWebHook != "" {
				jobs = append(jobs, &job{entry: e, channel: "DingWebHook", target: c.DingWebHook,
					contentType: "application/json", body: dingMessage(e, r)})
			}
			for _, ch := range []struct{ name, to string }{{"Mail", c.Mail}, {"SMS", c.SMS}, {"AliIM", c.AliIM}} {
				if ch.to != "" {
					e.Sends = append(e.Sends, Send{Channel: ch.name, Target: ch.to, Time: e.Time, Code: "not-sent",
						Message: "recorded only: eplink does not send " + ch.name})
				}
			}
		}
	}
	for _, j := range jobs {
		select {
		case m.jobs <- j:
		default:
			e.Sends = append(e.Sends, Send{Channel: j.channel, Target: j.target, Time: e.Time, Code: "dropped",
				Message: "the notification queue is full"})
		}
	}
	if len(e.Sends) > 0 {
		m.persist(bucketAlertLog, e.LogID, e)
	}
}

// callbackForm is the body CloudMonitor POSTs to a rule's Webhook.
func (m *Monitor) callbackForm(e *AlertLog, r *Rule) url.Values {
	state := "ALERT"
	switch e.State {
	case StateOK:
		state = "OK"
	case StateInsufficientData:
		state = "INSUFFICIENT_DATA"
	}
	return url.Values{
		"alertName":       {r.RuleName},
		"alertState":      {state},
		"curValue":        {e.Value},
		"dimensions":      {callbackDims(e.Dimensions)},
		"expression":      {e.Expression},
		"instanceName":    {e.InstanceID},
		"metricName":      {e.MetricName},
		"metricProject":   {e.Namespace},
		"namespace":       {e.Namespace},
		"preTriggerLevel": {e.PreLevel},
		"triggerLevel":    {e.Level},
		"ruleId":          {e.RuleID},
		"regionId":        {m.cfg.Region},
		"timestamp":       {strconv.FormatInt(e.Time, 10)},
		"userId":          {e.Owner},
	}
}

// callbackDims writes dimensions as the callback does: {userId=…, instanceId=…}.
func callbackDims(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "userId") != (keys[j] == "userId") {
			return keys[i] == "userId"
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + d[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// dingMessage is a DingTalk custom robot's markdown message.
func dingMessage(e *AlertLog, r *Rule) []byte {
	title := fmt.Sprintf("[%s] %s", e.Level, r.RuleName)
	if e.State == StateOK {
		title = "[OK] " + r.RuleName + " recovered"
	}
	text := fmt.Sprintf("### %s\n\n- metric: %s/%s\n- resource: %s\n- condition: %s (%d times)\n- value: %s\n- time: %s\n",
		title, e.Namespace, e.MetricName, callbackDims(e.Dimensions), e.Expression, e.Times, e.Value,
		time.UnixMilli(e.Time).Format(time.RFC3339))
	b, _ := json.Marshal(map[string]any{
		"msgtype":  "markdown",
		"markdown": map[string]string{"title": title, "text": text},
		"at":       map[string]any{"isAtAll": false},
	})
	return b
}

func (m *Monitor) deliverLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-m.jobs:
			m.deliver(ctx, j)
		}
	}
}

// deliver tries a job up to NotifyAttempts times and records every attempt.
func (m *Monitor) deliver(ctx context.Context, j *job) {
	backoff := m.cfg.RetryBackoff
	for attempt := 1; attempt <= m.cfg.NotifyAttempts; attempt++ {
		code, msg, ok := m.post(ctx, j)
		m.mu.Lock()
		j.entry.Sends = append(j.entry.Sends, Send{Channel: j.channel, Target: j.target, Attempt: attempt,
			Time: m.now().UnixMilli(), OK: ok, Code: code, Message: msg})
		m.persist(bucketAlertLog, j.entry.LogID, j.entry)
		m.mu.Unlock()
		if ok || ctx.Err() != nil || attempt == m.cfg.NotifyAttempts {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (m *Monitor) post(ctx context.Context, j *job) (code, msg string, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.NotifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.target, bytes.NewReader(j.body))
	if err != nil {
		return "error", err.Error(), false
	}
	req.Header.Set("Content-Type", j.contentType)
	resp, err := m.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "timeout", fmt.Sprintf("no answer within %s", m.cfg.NotifyTimeout), false
		}
		return "error", err.Error(), false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	ok = resp.StatusCode >= 200 && resp.StatusCode < 300
	if ok && j.channel == "DingWebHook" {
		// The robot answers 200 with {"errcode":…,"errmsg":…}.
		var dr struct {
			Errcode int    `json:"errcode"`
			Errmsg  string `json:"errmsg"`
		}
		if json.Unmarshal(b, &dr) == nil && dr.Errcode != 0 {
			return strconv.Itoa(resp.StatusCode), fmt.Sprintf("errcode %d: %s", dr.Errcode, dr.Errmsg), false
		}
	}
	return strconv.Itoa(resp.StatusCode), strings.TrimSpace(string(b)), ok
}
