package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/lab"
	"eplink/controlplane/snapshot"
)

// faultLab is a control plane with endpoint ep-fault1 connected in zone H.
func faultLab(t *testing.T) (*controlplane.ControlPlane, *snapshot.Publisher) {
	t.Helper()
	l := testLab()
	l.Services = []lab.Service{{ID: "epsrv-fault1", Owner: providerUID, Resources: []string{"lb-clb1"},
		Whitelist: []string{consumerUID}}}
	l.Endpoints = []lab.Endpoint{{ID: "ep-fault1", Owner: consumerUID, Service: "epsrv-fault1", VPC: "vpc-consumer1",
		SecurityGroups: []string{"sg-consumer1"}, Zones: []lab.EndpointZone{{Zone: zoneH, VSwitch: "vsw-consumer1-h"}},
		Accept: true}}
	pub := &snapshot.Publisher{}
	cp, err := controlplane.Open(controlplane.Config{DataDir: t.TempDir(), Lab: l, Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Close() })
	return cp, pub
}

func TestAdminZoneFault(t *testing.T) {
	cp, pub := faultLab(t)
	srv := httptest.NewServer(api.Admin(cp))
	defer srv.Close()

	failed := func() bool {
		return pub.Load().Endpoints["ep-fault1"].Zones[0].Failed
	}
	for _, tc := range []struct {
		form       url.Values
		status     int
		code       string
		wantFailed bool
	}{
		{form: url.Values{"EndpointId": {"ep-fault1"}, "ZoneId": {zoneH}, "Failed": {"true"}}, status: 200, wantFailed: true},
		{form: url.Values{"EndpointId": {"ep-fault1"}, "ZoneId": {zoneH}, "Failed": {"maybe"}}, status: 400, code: "InvalidParameter", wantFailed: true},
		{form: url.Values{"ZoneId": {zoneH}, "Failed": {"false"}}, status: 400, code: "MissingParameter", wantFailed: true},
		{form: url.Values{"EndpointId": {"ep-nope"}, "ZoneId": {zoneH}, "Failed": {"false"}}, status: 404, code: "EndpointNotFound", wantFailed: true},
		{form: url.Values{"EndpointId": {"ep-fault1"}, "ZoneId": {zoneH}, "Failed": {"false"}}, status: 200, wantFailed: false},
	} {
		resp, err := http.PostForm(srv.URL+"/lab/zone-fault", tc.form)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.code != "" && body["Code"] != tc.code) {
			t.Errorf("%v: %d %v, want %d %s", tc.form, resp.StatusCode, body, tc.status, tc.code)
		}
		if failed() != tc.wantFailed {
			t.Errorf("%v: snapshot Failed=%v, want %v", tc.form, failed(), tc.wantFailed)
		}
	}
	if resp, _ := http.Get(srv.URL + "/lab/zone-fault"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// TestAdminLabKey: with a lab key, /lab/ answers only requests that carry
// it; the others get 403 Forbidden.LabKey as JSON and change nothing.
func TestAdminLabKey(t *testing.T) {
	cp, pub := faultLab(t)
	srv := httptest.NewServer(api.RequireLabKey("s3cret", api.Admin(cp)))
	defer srv.Close()
	form := url.Values{"EndpointId": {"ep-fault1"}, "ZoneId": {zoneH}, "Failed": {"true"}}
	for _, tc := range []struct {
		name       string
		header     http.Header
		status     int
		code       string
		wantFailed bool
	}{
		{name: "no key", status: 403, code: "Forbidden.LabKey"},
		{name: "wrong key", header: http.Header{api.LabKeyHeader: {"guess"}}, status: 403, code: "Forbidden.LabKey"},
		{name: "wrong bearer", header: http.Header{"Authorization": {"Bearer s3cre"}}, status: 403, code: "Forbidden.LabKey"},
		{name: "key in the header", header: http.Header{api.LabKeyHeader: {"s3cret"}}, status: 200, wantFailed: true},
		{name: "bearer", header: http.Header{"Authorization": {"Bearer s3cret"}}, status: 200, wantFailed: true},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/lab/zone-fault", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range tc.header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.code != "" && body["Code"] != tc.code) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v, want %d %s", tc.name, resp.StatusCode, body, tc.status, tc.code)
		}
		if got := pub.Load().Endpoints["ep-fault1"].Zones[0].Failed; got != tc.wantFailed {
			t.Errorf("%s: Failed=%v, want %v", tc.name, got, tc.wantFailed)
		}
	}
}

// TestLabHandlersBadInput: each lab handler answers a missing or bad
// parameter in the API's terms and never calls what it would change; a
// good request reaches it and gets its JSON answer.
func TestLabHandlersBadInput(t *testing.T) {
	calls := 0
	fault := api.BackendFault(func(addr, mode string) error { calls++; return nil })
	impair := api.BackendImpair(func(addr, spec string) (string, error) { calls++; return spec, nil })
	restart := api.DataplaneRestart(func(_ context.Context, d time.Duration) error {
		calls++
		if d == 3*time.Second {
			return errors.New("the data plane did not come back")
		}
		return nil
	})
	for _, tc := range []struct {
		h      http.Handler
		query  string
		status int
		code   string // "" for success
		answer string // in a successful answer
	}{
		{fault, "Mode=stop", 400, "MissingParameter", ""},
		{fault, "Address=127.0.0.1:1", 400, "MissingParameter", ""},
		{fault, "Address=127.0.0.1:1&Mode=stop", 200, "", `"Mode":"stop"`},
		{impair, "Impairment=stall", 400, "MissingParameter", ""},
		{impair, "Address=127.0.0.1:1", 400, "MissingParameter", ""},
		{impair, "Address=127.0.0.1:1&Impairment=stall", 200, "", `"Impairment":"stall"`},
		{restart, "Downtime=soon", 400, "InvalidParameter", ""},
		{restart, "Downtime=21s", 400, "InvalidParameter", ""},
		{restart, "Downtime=3s", 503, "ServiceUnavailable", ""},
		{restart, "Downtime=1s", 200, "", `"Downtime":"1s"`},
		{fault, "Address=%zz", 400, "InvalidParameter", ""},
	} {
		before := calls
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/lab/x?"+tc.query, nil))
		var body struct{ Code string }
		json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != tc.status || body.Code != tc.code {
			t.Errorf("%s: %d %q, want %d %q (%s)", tc.query, rec.Code, body.Code, tc.status, tc.code, rec.Body)
		}
		called := calls != before
		if wantCall := tc.status != 400; called != wantCall {
			t.Errorf("%s: applied %v, want %v", tc.query, called, wantCall)
		}
		if tc.answer != "" && !strings.Contains(rec.Body.String(), tc.answer) {
			t.Errorf("%s: answer %s lacks %s", tc.query, rec.Body, tc.answer)
		}
	}
}
