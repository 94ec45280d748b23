package cloudmonitor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"eplink/controlplane/snapshot"
	"eplink/controlplane/store"
)

// Buckets of the control plane's store that CloudMonitor's records live in.
const (
	bucketRules    = "cms_rules"
	bucketContacts = "cms_contacts"
	bucketGroups   = "cms_contact_groups"
	bucketAlertLog = "cms_alert_log"
)

// MaxAlertLog bounds the alert log: the oldest entries go first.
const MaxAlertLog = 10000

// Config configures a Monitor. Zero values mean the documented defaults.
type Config struct {
	// Store keeps rules, contacts and the alert log; nil keeps them in
	// memory only.
	Store *store.Store
	// Snapshot returns the current snapshot (which objects exist and who
	// owns them); nil means none.
	Snapshot func() *snapshot.Snapshot
	// Counters reads the data plane's counters; nil means no traffic.
	Counters func() Counters
	// Region is the region of every series (regionId in callbacks).
	Region string
	// Retention is how many 1-second points a series keeps; 0 = 24 h.
	Retention int
	// Now returns the current time; nil = time.Now. A test seam.
	Now func() time.Time
	// Client sends notifications; nil = a client with no timeout of its own
	// (NotifyTimeout bounds every attempt).
	Client *http.Client
	// NotifyTimeout bounds one delivery attempt; 0 = 5 s.
	NotifyTimeout time.Duration
	// NotifyAttempts is how many times a delivery is tried; 0 = 3.
	NotifyAttempts int
	// RetryBackoff is the wait before the second attempt, doubled for each
	// further one; 0 = 1 s.
	RetryBackoff time.Duration
	// Logger gets one record per failure to persist; nil discards.
	Logger *slog.Logger
}

// Monitor keeps PrivateLink's metric series, evaluates alarm rules and
// sends their notifications: CloudMonitor for eplink.
type Monitor struct {
	cfg     Config
	log     *slog.Logger
	db      *seriesDB
	sampler sampler
	lastT   time.Time

	// wmu serializes the API's changes: each is checked, written to the
	// store and applied in memory before the next, so memory and disk see
	// the same order (mu alone is released during the fsync).
	wmu sync.Mutex

	mu       sync.Mutex
	rules    map[string]*Rule // owner/ruleId
	states   map[string]*ruleState
	contacts map[string]*Contact      // owner/name
	groups   map[string]*ContactGroup // owner/name
	alertLog []*AlertLog              // oldest first
	logSeq   uint64

	jobs chan *job
}

// New returns a Monitor with its rules, contacts and alert log loaded from
// cfg.Store.
func New(cfg Config) (*Monitor, error) {
	if cfg.NotifyTimeout == 0 {
		cfg.NotifyTimeout = 5 * time.Second
	}
	if cfg.NotifyAttempts == 0 {
		cfg.NotifyAttempts = 3
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	m := &Monitor{
		cfg: cfg, log: cfg.Logger, db: newSeriesDB(cfg.Retention),
		rules: map[string]*Rule{}, states: map[string]*ruleState{},
		contacts: map[string]*Contact{}, groups: map[string]*ContactGroup{},
		jobs: make(chan *job, notifyQueue),
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if err := m.load(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Monitor) now() time.Time {
	if m.cfg.Now != nil {
		return m.cfg.Now()
	}
	return time.Now()
}

// Run samples and evaluates once a second, and delivers notifications,
// until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() { defer close(done); m.RunDelivery(ctx) }()
	defer func() { <-done }()
	// Tick just after each second boundary, so that a second's point holds
	// that whole second.
	t := time.NewTimer(time.Until(m.now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := m.now()
		m.Tick(now)
		t.Reset(time.Until(now.Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	}
}

// RunDelivery runs the notification workers until ctx ends. Run starts it;
// a test that drives Tick with its own clock starts it alone.
func (m *Monitor) RunDelivery(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < notifyWorkers; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); m.deliverLoop(ctx) }()
	}
	wg.Wait()
}

// Tick takes one reading of the counters at now, stores it as the point of
// the second before now, and evaluates the rules whose period ended. Run
// calls it once a second; tests call it with their own clock.
func (m *Monitor) Tick(now time.Time) {
	if !m.lastT.IsZero() && now.Unix() <= m.lastT.Unix() {
		return // a second already read: its point would be overwritten with a fraction
	}
	var c Counters
	if m.cfg.Counters != nil {
		c = m.cfg.Counters()
	}
	var snap *snapshot.Snapshot
	if m.cfg.Snapshot != nil {
		snap = m.cfg.Snapshot()
	}
	sec := now.Unix()
	// A reading covers the time since the last one: normally a second, more
	// if a tick was late; the rate is per second either way.
	dt := 1.0
	if !m.lastT.IsZero() {
		if d := now.Sub(m.lastT).Seconds(); d > 0.5 {
			dt = d
		}
	}
	m.lastT = now
	pts := m.sampler.sample(c, snap)
	if dt != 1 {
		for i := range pts {
			pts[i].v /= dt
		}
	}
	m.db.write(sec-1, pts)
	m.mu.Lock()
	m.evaluate(sec)
	m.mu.Unlock()
}

// persist queues a write; it is durable soon after, and a failure is
// logged (the API has answered by then, as the cloud's would have).
func (m *Monitor) persist(bucket, key string, v any) {
	if m.cfg.Store == nil {
		return
	}
	var val []byte
	if v != nil {
		var err error
		if val, err = json.Marshal(v); err != nil {
			m.log.Error("cloudmonitor: encode", "bucket", bucket, "key", key, "err", err)
			return
		}
	}
	ch := m.cfg.Store.Enqueue([]store.Op{{Bucket: bucket, Key: key, Value: val}})
	go func() {
		if err := <-ch; err != nil {
			m.log.Error("cloudmonitor: persist", "bucket", bucket, "key", key, "err", err)
		}
	}()
}

// persistSync writes and waits: the API acknowledges rule and contact
// changes only once they are on disk.
func (m *Monitor) persistSync(ops []store.Op) error {
	if m.cfg.Store == nil {
		return nil
	}
	return m.cfg.Store.Commit(ops)
}

func (m *Monitor) load() error {
	st := m.cfg.Store
	if st == nil {
		return nil
	}
	err := st.ForEach(bucketRules, func(k, v []byte) error {
		r := &Rule{}
		if err := json.Unmarshal(v, r); err != nil {
			return fmt.Errorf("rule %s: %w", k, err)
		}
		if err := r.restore(); err != nil {
			return fmt.Errorf("rule %s: %w", k, err)
		}
		m.rules[string(k)] = r
		return nil
	})
	if err == nil {
		err = st.ForEach(bucketContacts, func(k, v []byte) error {
			c := &Contact{}
			m.contacts[string(k)] = c
			return json.Unmarshal(v, c)
		})
	}
	if err == nil {
		err = st.ForEach(bucketGroups, func(k, v []byte) error {
			g := &ContactGroup{}
			m.groups[string(k)] = g
			return json.Unmarshal(v, g)
		})
	}
	if err == nil {
		err = st.ForEach(bucketAlertLog, func(k, v []byte) error {
			e := &AlertLog{}
			if err := json.Unmarshal(v, e); err != nil {
				return err
			}
			m.alertLog = append(m.alertLog, e)
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("cloudmonitor: load: %w", err)
	}
	sort.Slice(m.alertLog, func(i, j int) bool { return m.alertLog[i].LogID < m.alertLog[j].LogID })
	if n := len(m.alertLog); n > 0 {
		fmt.Sscanf(m.alertLog[n-1].LogID, "%d", &m.logSeq)
	}
	return nil
}

// Contact is an alert contact and its channels.
type Contact struct {
	Owner       string `json:"Owner"`
	Name        string `json:"Name"`
	Describe    string `json:"Describe"`
	Lang        string `json:"Lang"`
	Mail        string `json:"Mail"`
	SMS         string `json:"SMS"`
	AliIM       string `json:"AliIM"`
	DingWebHook string `json:"DingWebHook"`
	Created     int64  `json:"Created"`
	Modified    int64  `json:"Modified"`
}

// ContactGroup is a named list of contacts.
type ContactGroup struct {
	Owner            string   `json:"Owner"`
	Name             string   `json:"Name"`
	Describe         string   `json:"Describe"`
	Contacts         []string `json:"Contacts"`
	EnableSubscribed bool     `json:"EnableSubscribed"`
	Created          int64    `json:"Created"`
	Modified         int64    `json:"Modified"`
}

// AlertLog is one entry of the alert log: a state change of a rule on one
// resource (or a repeat after the silence time), and every delivery
// attempt of its notifications.
type AlertLog struct {
	LogID         string            `json:"LogId"`
	Owner         string            `json:"Owner"`
	Time          int64             `json:"Time"` // ms
	RuleID        string            `json:"RuleId"`
	RuleName      string            `json:"RuleName"`
	Namespace     string            `json:"Namespace"`
	MetricName    string            `json:"MetricName"`
	Level         string            `json:"Level"` // CRITICAL, WARN, INFO, OK, NODATA
	PreLevel      string            `json:"PreLevel"`
	State         string            `json:"State"` // ALARM, OK, INSUFFICIENT_DATA
	Value         string            `json:"Value"`
	Expression    string            `json:"Expression"`
	Times         int               `json:"Times"`
	Dimensions    map[string]string `json:"Dimensions"`
	InstanceID    string            `json:"InstanceId"`
	Repeat        bool              `json:"Repeat"` // a reminder after SilenceTime
	Webhook       string            `json:"Webhook"`
	ContactGroups []string          `json:"ContactGroups"`
	Sends         []Send            `json:"Sends"`
}

// Send is one delivery attempt of a notification.
type Send struct {
	Channel string `json:"Channel"` // Webhook, DingWebHook, Mail, SMS, AliIM
	Target  string `json:"Target"`
	Attempt int    `json:"Attempt"`
	Time    int64  `json:"Time"` // ms
	OK      bool   `json:"OK"`
	Code    string `json:"Code"` // HTTP status, or "timeout", "error", "not-sent"
	Message string `json:"Message"`
}

// sendStatus sums up an entry's deliveries as DescribeAlertLogList does.
func (e *AlertLog) sendStatus() string {
	if len(e.Sends) == 0 {
		return "NOTSEND"
	}
	for _, s := range e.Sends {
		if s.OK {
			return "SUCCESS"
		}
	}
	return "FAILED"
}

// addLog appends e to the alert log. The caller holds m.mu.
func (m *Monitor) addLog(e *AlertLog) {
	m.logSeq++
	e.LogID = fmt.Sprintf("%020d", m.logSeq)
	m.alertLog = append(m.alertLog, e)
	if n := len(m.alertLog) - MaxAlertLog; n > 0 {
		for _, old := range m.alertLog[:n] {
			m.persist(bucketAlertLog, old.LogID, nil)
		}
		m.alertLog = append(m.alertLog[:0:0], m.alertLog[n:]...)
	}
	m.persist(bucketAlertLog, e.LogID, e)
}
