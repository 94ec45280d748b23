package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/lab"
	"eplink/controlplane/snapshot"
)

func TestAdminZoneFault(t *testing.T) {
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
	defer cp.Close()
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
	defer cp.Close()
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
