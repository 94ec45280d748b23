package console_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cms"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/prometheus/client_golang/prometheus"

	"eplink/console"
	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/apitest"
	"eplink/controlplane/lab"
	"eplink/controlplane/rpc"
	"eplink/controlplane/snapshot"
	"eplink/dataplane"
	"eplink/dataplane/backend"
	"eplink/metrics"
	"eplink/metrics/cloudmonitor"
)

// -screenshots DIR keeps the pages' screenshots there (the README's are
// made with -screenshots ../docs); by default they go to a temporary one.
var screenshotDir = flag.String("screenshots", "", "write the browser test's screenshots to `DIR`")

// chromium finds Debian's chromium (the project's dependency script
// installs it) or another Chrome on PATH.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// fullStack is eplink serve in process: control plane, data plane with
// its metrics, the OpenAPI and the console on one loopback address. Its
// lab is the demo's, moved to 127.151.0.0/16 so that it runs beside a demo,
// with the service declared (CLB1, manual accept) and no endpoint yet.
type fullStack struct {
	URL, Addr string
	Port      int    // the CLBs' listener port, which ENIs serve
	ECS02     string // ECS02's address, the name backends go by in /metrics
	Consumer  *privatelink.Client
	Provider  *privatelink.Client
}

func startFullStack(t *testing.T) *fullStack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var ports []int
	for _, name := range []string{"ECS01", "ECS02"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go backend.Serve(ctx, ln, name)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	// The ENI port: free on the test's consumer range.
	probe, err := net.Listen("tcp", "127.151.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()

	l := lab.Demo(ports[0], ports[1])
	l.VPCs[0].CIDR = "127.151.0.0/16"
	l.VPCs[0].VSwitches[0].CIDR = "127.151.0.0/24"
	l.VPCs[0].VSwitches[1].CIDR = "127.151.1.0/24"
	for i := range l.LoadBalancers {
		for j := range l.LoadBalancers[i].Listeners {
			l.LoadBalancers[i].Listeners[j].Port = port
		}
	}
	l.Endpoints = nil
	l.Services[0].Description = "console test service"

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	proxy := dataplane.New(dataplane.Options{Loops: 1, Metrics: m, Logger: logger})
	pub := &snapshot.Publisher{}
	cp, err := controlplane.Open(controlplane.Config{
		DataDir: t.TempDir(), Lab: l, TransitionDelay: 300 * time.Millisecond, Publisher: pub, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Close() })
	dpDone := make(chan struct{})
	go func() { proxy.Run(ctx, pub); close(dpDone) }()
	t.Cleanup(func() { cancel(); <-dpDone })

	mux := http.NewServeMux()
	var accounts []console.Account
	for _, a := range l.Accounts {
		accounts = append(accounts, console.Account{Name: a.Name, UID: a.UID, AccessKeyID: a.AccessKeys[0].ID, AccessKeySecret: a.AccessKeys[0].Secret})
	}
	con := console.New(console.Options{API: mux, Version: api.Version, Region: l.Region, Gatherer: reg,
		Accounts: accounts, UIDOf: cp.Credentials, Sample: 500 * time.Millisecond})
	go con.Run(ctx)
	mux.Handle(console.Path, con)
	// CloudMonitor beside PrivateLink, as eplink serve mounts them.
	mon, err := cloudmonitor.New(cloudmonitor.Config{Store: cp.Store(), Snapshot: pub.Load,
		Counters: cloudmonitor.CountersFrom(m), Region: l.Region, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	monDone := make(chan struct{})
	go func() { mon.Run(ctx); close(monDone) }()
	t.Cleanup(func() { cancel(); <-monDone })
	mux.Handle("/", console.RedirectBrowsers(rpc.Products{api.New(cp, logger), mon.API(cp.Credentials, logger)}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	return &fullStack{URL: srv.URL, Addr: addr, Port: port, ECS02: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		Consumer: apitest.NewClient(addr, lab.DemoConsumerKey, lab.DemoConsumerSecret),
		Provider: apitest.NewClient(addr, lab.DemoProviderKey, lab.DemoProviderSecret)}
}

// TestBrowserGuideFlow follows the guide in a real browser: the consumer
// creates an endpoint; the provider allows it, adds CLB2, turns CLB1's
// automatic allocation off and replaces the zone's CLB smoothly; curl
// through the new ENI reaches ECS02 while a client on the old ENI stays on
// ECS01, and the topology shows both. A user's <script> description stays
// text, and a cross-origin form POST is refused.
func TestBrowserGuideFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium on PATH: install it (.ci/deps.sh does) to run the browser tests")
	}
	s := startFullStack(t)
	shots := *screenshotDir
	if shots == "" {
		shots = t.TempDir()
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.Flag("headless", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	// Any dialog is accepted; an alert would be the <script> running.
	dialogs := make(chan string, 16)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			if e.Type == page.DialogTypeConfirm { // the console's "are you sure?"
				go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
				return
			}
			select {
			case dialogs <- string(e.Type) + ": " + e.Message:
			default:
			}
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	fail := func(what string, err error) {
		t.Helper()
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage: %s", what, err, body)
	}
	run := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			fail(what, err)
		}
	}
	eval := func(js string, v any) {
		t.Helper()
		var err error
		switch p := v.(type) {
		case *string:
			*p, err = chromedp.Run(ctx, chromedp.Evaluate[string](js))
		case *int:
			*p, err = chromedp.Run(ctx, chromedp.Evaluate[int](js))
		case *bool:
			*p, err = chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		default:
			_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](js))
		}
		if err != nil {
			fail(js, err)
		}
	}
	// waitFor polls a JavaScript condition (the pages re-render while
	// states are transitional, so elements are looked up afresh).
	waitFor := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			fail("waiting for "+what, err)
		}
	}
	click := func(id string) {
		t.Helper()
		waitFor("#"+id, fmt.Sprintf(`!!document.getElementById(%q)&&document.body.dataset.busy==='0'`, id))
		// Looked up and clicked in one step: a polling page may have
		// replaced the element since the wait.
		var ok bool
		eval(fmt.Sprintf(`(()=>{const e=document.getElementById(%q);if(!e)return false;e.click();return true})()`, id), &ok)
		if !ok {
			t.Fatalf("#%s went away before the click", id)
		}
	}
	set := func(id, v string) {
		t.Helper()
		waitFor("#"+id, fmt.Sprintf(`!!document.getElementById(%q)&&document.body.dataset.busy==='0'`, id))
		var ok bool
		eval(fmt.Sprintf(`(()=>{const e=document.getElementById(%q);if(!e)return false;e.value=%q;return e.value===%q})()`, id, v, v), &ok)
		if !ok {
			t.Fatalf("#%s could not be set to %q", id, v)
		}
	}
	// Every control a page shows has a name a screen reader says: a
	// <label>, an aria-label, or a button's text.
	labelled := func(page string) {
		t.Helper()
		var unnamed string
		eval(`[...document.querySelectorAll('input, select, button')].filter(e =>
			!(e.labels && e.labels.length) && !e.getAttribute('aria-label') &&
			!(e.tagName === 'BUTTON' && e.textContent.trim())).map(e => e.id || e.outerHTML.slice(0, 80)).join(' ')`, &unnamed)
		if unnamed != "" {
			t.Errorf("%s: controls without a label: %s", page, unnamed)
		}
	}
	shot := func(name string) {
		t.Helper()
		labelled(name)
		run("settle", chromedp.Sleep(300*time.Millisecond))
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			fail("screenshot "+name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, "console-"+name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goTo := func(hash string) {
		t.Helper()
		var s string
		eval(fmt.Sprintf(`location.hash=%q`, hash), &s)
	}
	rowHas := func(id, text string) string {
		return fmt.Sprintf(`(()=>{const e=document.getElementById(%q);return !!e&&e.closest('tr').innerText.includes(%q)})()`, id, text)
	}

	// The root sends a browser to the console; the sign-in page offers the
	// demo's accounts. The guide is Chinese, and so is the console at first.
	run("open", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.ID("as-consumer")))
	waitFor("Chinese", `document.body.innerText.includes('登录')`)
	click("lang")
	waitFor("English", `document.body.innerText.includes('Sign in as consumer')`)
	shot("signin")

	// Consumer, signing in with the keyboard only; then the endpoint wizard.
	waitFor("page settled", `document.body.dataset.busy==='0'`)
	run("type the AccessKey", chromedp.Focus(chromedp.ID("akid")), chromedp.KeyEvent(lab.DemoConsumerKey),
		chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(lab.DemoConsumerSecret), chromedp.KeyEvent(kb.Enter))
	waitFor("signed in as consumer", `(document.getElementById('who')||{textContent:''}).textContent.startsWith('consumer')`)
	goTo("#/endpoints/new")
	set("new-name", "console-ep")
	set("new-vpc", "vpc-consumer1")
	set("new-sg", "sg-consumer1")
	waitFor("zones of the service", `(document.getElementById('new-zone-1')||{}).value==='cn-hangzhou-h'`)
	set("new-vsw-1", "vsw-consumer1-h")
	shot("endpoint-create")
	click("new-submit")
	waitFor("endpoint page", `/^#\/endpoints\/ep-/.test(location.hash)`)
	var ep string
	eval(`location.hash.split('/')[2]`, &ep)
	waitFor("endpoint Active", `document.body.innerText.includes('Active')&&!/Creating/.test(document.body.innerText)`)
	shot("endpoint")

	// Provider: a description with markup shows as text.
	click("signout")
	click("as-provider")
	waitFor("signed in as provider", `(document.getElementById('who')||{textContent:''}).textContent.startsWith('provider')`)
	goTo("#/services/epsrv-demo1/resources")
	// The tabs follow the arrow keys.
	waitFor("tabs", `!!document.getElementById('tab-resources')&&document.body.dataset.busy==='0'`)
	run("arrow to the next tab", chromedp.Focus(chromedp.ID("tab-resources")), chromedp.KeyEvent(kb.ArrowRight))
	waitFor("connections tab", `location.hash.endsWith('/connections')&&!!document.getElementById('tab-connections')&&document.getElementById('tab-connections').getAttribute('aria-selected')==='true'`)
	goTo("#/services/epsrv-demo1/resources")
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	set("svc-desc", evil)
	click("svc-save")
	waitFor("description saved", fmt.Sprintf(`(document.getElementById('svc-desc-text')||{}).textContent===%q`, evil))
	var tags int
	eval(`document.querySelectorAll('main script, main img').length`, &tags)
	if tags != 0 {
		t.Fatalf("the description became %d elements", tags)
	}
	goTo("#/services")
	waitFor("list shows the description", `Array.from(document.querySelectorAll('td.desc')).some(td=>td.textContent.startsWith('<script>'))`)

	// A service made with the form, then deleted: refused while it has a
	// resource (the API's error is shown), done once the resource is removed.
	click("svc-new")
	set("svc-new-res", "lb-clb2:cn-hangzhou-h")
	set("svc-new-desc", "second service")
	click("svc-new-submit")
	waitFor("new service page", `/^#\/services\/epsrv-[a-z0-9]+\/resources$/.test(location.hash)&&!location.hash.includes('demo1')&&!!document.getElementById('auto-lb-clb2')`)
	waitFor("new service Active", `!/Creating|Pending/.test(document.body.innerText)`)
	click("svc-delete")
	waitFor("deletion refused", `/EndpointServiceResourceDependence|resource/i.test((document.getElementById('err')||{textContent:''}).textContent)`)
	click("detach-lb-clb2")
	waitFor("resource removed", `!document.getElementById('detach-lb-clb2')&&!/Pending/.test(document.body.innerText)`)
	click("svc-delete")
	waitFor("back on the list", `location.hash==='#/services'`)
	waitFor("service gone", `document.querySelectorAll('main table')[0].querySelectorAll('tbody tr').length===1`)

	// The whitelist box takes several accounts separated by commas, as
	// the guide's does.
	goTo("#/services/epsrv-demo1/whitelist")
	set("user-id", "1000000000000005, 1000000000000006，1000000000000007")
	click("user-add")
	waitFor("three accounts added", `['1000000000000005','1000000000000006','1000000000000007'].every(u=>document.body.innerText.includes(u))`)

	// Allow the connection: the zone gets CLB1.
	goTo("#/services/epsrv-demo1/connections")
	click("allow-" + ep)
	waitFor("Connected", rowHas("reject-"+ep, "Connected"))
	click("plus-" + ep)
	key := ep + "-cn-hangzhou-h"
	waitFor("zone connected to CLB1", rowHas("replace-"+key, "lb-clb1")+`&&`+rowHas("replace-"+key, "Connected"))

	// A client on CLB1 that keeps its connection (and its flow) open.
	zones := func() privatelink.Zone {
		req := privatelink.CreateListVpcEndpointZonesRequest()
		req.EndpointId = ep
		r, err := s.Consumer.ListVpcEndpointZones(req)
		if err != nil || len(r.Zones) != 1 {
			t.Fatalf("ListVpcEndpointZones: %v %v", err, r)
		}
		return r.Zones[0]
	}
	oldIP := zones().EniIp
	kept, err := net.Dial("tcp", net.JoinHostPort(oldIP, strconv.Itoa(s.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	keptR := bufio.NewReader(kept)
	get := func() string {
		t.Helper()
		kept.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(kept, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(keptR, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.TrimSpace(string(b))
	}
	if got := get(); !strings.Contains(got, "ECS01") {
		t.Fatalf("through CLB1: %q", got)
	}

	// Service resources: add CLB2, and take CLB1 out of automatic allocation.
	goTo("#/services/epsrv-demo1/resources")
	set("res-id", "lb-clb2")
	set("res-zone", "cn-hangzhou-h")
	click("res-add")
	waitFor("CLB2 listed", `!!document.getElementById('auto-lb-clb2')`)
	waitFor("service Active", `!document.body.innerText.includes('Pending')`)
	var on bool
	eval(`document.getElementById('auto-lb-clb2').checked`, &on)
	if !on {
		click("auto-lb-clb2")
		waitFor("CLB2 auto on", `document.getElementById('auto-lb-clb2').checked`)
	}
	click("auto-lb-clb1")
	waitFor("CLB1 auto off", `!!document.getElementById('auto-lb-clb1')&&!document.getElementById('auto-lb-clb1').checked`)
	shot("service-resources")

	// Replace the zone's resource smoothly (the "+" stays open).
	goTo("#/services/epsrv-demo1/connections")
	set("res-"+key, "lb-clb2")
	set("mode-"+key, "Graceful")
	click("replace-" + key)
	waitFor("Migrated", rowHas("replace-"+key, "Migrated"))
	eval(fmt.Sprintf(`document.getElementById(%q).scrollIntoView({block:'center'})`, "replace-"+key), nil)
	shot("service-connections")
	// The same page in the guide's language.
	click("lang")
	waitFor("Chinese", `document.body.innerText.includes('终端节点连接')&&!!document.getElementById(`+strconv.Quote("replace-"+key)+`)`)
	eval(fmt.Sprintf(`document.getElementById(%q).scrollIntoView({block:'center'})`, "replace-"+key), nil)
	shot("service-connections-zh")
	click("lang")
	waitFor("English again", `document.body.innerText.includes('Endpoint connections')`)

	// curl through the zone's new ENI reaches ECS02; the kept client is
	// still on ECS01.
	z := zones()
	if z.EniIp == oldIP || z.ResourceId != "lb-clb2" || z.ReplacedResourceId != "lb-clb1" {
		t.Fatalf("after the replace: %+v", z)
	}
	url := "http://" + net.JoinHostPort(z.EniIp, strconv.Itoa(s.Port)) + "/"
	var body string
	if curl, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command(curl, "-s", "--max-time", "10", url).Output()
		if err != nil {
			t.Fatalf("curl %s: %v", url, err)
		}
		body = string(out)
	} else {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}
	if !strings.Contains(body, "This is ECS02") {
		t.Fatalf("curl through the new ENI: %q", body)
	}
	if got := get(); !strings.Contains(got, "ECS01") {
		t.Fatalf("the kept client after the replace: %q", got)
	}

	// The topology: the new ENI on CLB2, the replaced one still carrying
	// the kept flow to CLB1, CLB2's backend healthy.
	goTo("#/topology")
	waitFor("topology rows", `(()=>{const t=document.getElementById('topo-table');if(!t)return false;
		const rows=Array.from(t.querySelectorAll('tbody tr')).map(r=>Array.from(r.cells).map(c=>c.textContent));
		return rows.some(r=>r[3]==='lb-clb2')&&rows.some(r=>r[3]==='lb-clb1'&&r[2].includes('replaced')&&r[5]==='1')})()`)
	waitFor("CLB2's backend drawn, healthy", fmt.Sprintf(`document.querySelector('.topo svg').textContent.includes(%q+'up')`, s.ECS02))
	shot("topology")

	// An alarm rule (the guide's step 3, with a threshold the traffic below
	// crosses): the monitoring page lists it and its history.
	rule := cms.CreatePutResourceMetricRuleRequest()
	rule.RuleId, rule.RuleName = "clb2-inbound", "CLB2 inbound"
	rule.Namespace, rule.MetricName = "acs_privatelink", "VpcEndpointServiceResourceInBps"
	rule.Resources = `[{"instanceId":"epsrv-demo1","resourceId":"lb-clb2"}]`
	rule.Period, rule.ContactGroups = "1", "none"
	rule.EscalationsWarnStatistics, rule.EscalationsWarnComparisonOperator = "Average", "GreaterThanOrEqualToThreshold"
	rule.EscalationsWarnThreshold, rule.EscalationsWarnTimes = "1000", "1"
	cmsc, err := cms.NewClientWithAccessKey(apitest.Region, lab.DemoProviderKey, lab.DemoProviderSecret)
	if err != nil {
		t.Fatal(err)
	}
	cmsc.Domain = s.Addr
	if _, err := cmsc.PutResourceMetricRule(rule); err != nil {
		t.Fatalf("PutResourceMetricRule: %v", err)
	}

	// Some traffic for the charts: bounded, 3 s of 1 MiB downloads through
	// the new ENI.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		resp, err := http.Get(url + "bytes?n=1048576")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
	}
	goTo("#/monitor")
	set("window", "1")
	run("choose the last minute", chromedp.Evaluate[chromedp.Void](`document.getElementById('window').dispatchEvent(new Event('change'))`))
	waitFor("monitoring", `!!document.getElementById('alarms')&&document.querySelectorAll('.chart').length>0&&document.body.innerText.includes('-1 min')`)
	waitFor("the rule in ALARM in the history", `!!document.getElementById('alarm-history')&&
		[...document.querySelectorAll('#alarm-history tbody tr')].some(r=>r.cells[1].textContent==='CLB2 inbound'&&r.cells[2].textContent==='ALARM')`)
	shot("monitoring")

	// Clean the replaced resource: the kept flow ends, the old ENI goes.
	goTo("#/services/epsrv-demo1/connections")
	click("clean-" + key)
	waitFor("replaced cleaned", `!document.getElementById(`+strconv.Quote("clean-"+key)+`)&&`+rowHas("replace-"+key, "Connected"))

	// A form on another origin posting to the console is refused, and
	// changes nothing, though the browser holds a provider session.
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><form id=f method=POST action="%s/console/api/call">
<input name=Action value=AddUserToVpcEndpointService><input name=ServiceId value=epsrv-demo1>
<input name=UserId value=1000000000000009></form><script>document.getElementById('f').submit()</script>`, s.URL)
	}))
	defer attacker.Close()
	run("cross-origin form", chromedp.Navigate(attacker.URL))
	// The form submits itself, so the page navigates under the wait:
	// look again until the console's answer is the page.
	refused := false
	for deadline := time.Now().Add(30 * time.Second); !refused && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		refused = strings.Contains(text, "Forbidden.CrossOrigin")
	}
	if !refused {
		fail("the console's refusal of the cross-origin form", fmt.Errorf("not shown"))
	}
	req := privatelink.CreateListVpcEndpointServiceUsersRequest()
	req.ServiceId = "epsrv-demo1"
	users, err := s.Provider.ListVpcEndpointServiceUsers(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users.Users {
		if fmt.Sprint(u.UserId) == "1000000000000009" {
			t.Fatal("the cross-origin POST added a user to the whitelist")
		}
	}
	select {
	case d := <-dialogs:
		t.Fatalf("a dialog opened (script ran?): %s", d)
	default:
	}
}
