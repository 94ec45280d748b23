package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"eplink/controlplane"
	"eplink/controlplane/rpc"
)

// AdminPath is where the lab's own API lives, beside the OpenAPI on the
// same address.
const AdminPath = "/lab/"

// Admin returns the lab's own API: what the cloud does not let a user do but
// a failover experiment needs. It is unauthenticated, like the rest of a
// local lab's controls; eplink serves it on the API address only.
//
//	POST /lab/zone-fault?EndpointId=ep-…&ZoneId=cn-hangzhou-h&Failed=true|false
//
// fails (or recovers) an endpoint zone: DNS stops answering with its ENI, as
// when the cloud takes a zone out of service. Answers {"EndpointId",
// "ZoneId","Failed"} or an error body like the OpenAPI's.
//
//	POST /lab/clb-zone-fault?ZoneId=cn-hangzhou-h&Failed=true|false
//
// fails (or recovers) a zone for CLBs: every CLB deployed there switches to
// its backup zone (flows on it are cut, as a switch-over cuts them), or is
// unavailable without one. Answers {"ZoneId","Failed","LoadBalancers"}.
//
//	GET /lab/clbs
//
// lists the CLBs and the zone each runs in: {"LoadBalancers":[{"ResourceId",
// "ZoneId","BackupZoneId","ActiveZoneId"}]} ("" = unavailable).
//
//	GET /lab/accounts
//
// lists the lab's accounts without secrets: {"Accounts":[{"Uid",
// "AccessKeyIds","ProductOpen","ServiceLinkedRole","RoleCreateDate"}]}, the
// service-linked role being what the cloud shows in RAM.
func Admin(cp *controlplane.ControlPlane) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /lab/clb-zone-fault", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeAdminError(w, rpc.Errorf(http.StatusBadRequest, "InvalidParameter", "%v", err))
			return
		}
		zone := r.Form.Get("ZoneId")
		failed, err := strconv.ParseBool(r.Form.Get("Failed"))
		if err != nil {
			writeAdminError(w, rpc.InvalidParameter("Failed", "must be true or false"))
			return
		}
		if err := cp.SetCLBZoneFault(zone, failed); err != nil {
			writeAdminError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ZoneId": zone, "Failed": failed, "LoadBalancers": cp.CLBZones()})
	})
	mux.HandleFunc("GET /lab/clbs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"LoadBalancers": cp.CLBZones()})
	})
	mux.HandleFunc("GET /lab/accounts", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"Accounts": cp.Accounts()})
	})
	mux.HandleFunc("POST /lab/zone-fault", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeAdminError(w, rpc.Errorf(http.StatusBadRequest, "InvalidParameter", "%v", err))
			return
		}
		ep, zone := r.Form.Get("EndpointId"), r.Form.Get("ZoneId")
		failed, err := strconv.ParseBool(r.Form.Get("Failed"))
		switch {
		case ep == "":
			writeAdminError(w, rpc.MissingParameter("EndpointId"))
			return
		case zone == "":
			writeAdminError(w, rpc.MissingParameter("ZoneId"))
			return
		case err != nil:
			writeAdminError(w, rpc.InvalidParameter("Failed", "must be true or false"))
			return
		}
		if err := cp.SetZoneFault(ep, zone, failed); err != nil {
			writeAdminError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"EndpointId": ep, "ZoneId": zone, "Failed": failed})
	})
	return mux
}

// BackendFault returns the handler of the lab's backend faults:
//
//	POST /lab/backend-fault?Address=HOST:PORT&Mode=stop|refuse|blackhole|none
//
// fails (or, with none, recovers) a builtin backend of the lab: stop closes
// its port (connections refused, open ones reset), refuse accepts and
// resets, blackhole accepts and never answers. set applies it; an unknown
// address is its error. Answers {"Address","Mode"}.
func BackendFault(set func(address, mode string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeAdminError(w, rpc.Errorf(http.StatusBadRequest, "InvalidParameter", "%v", err))
			return
		}
		addr, mode := r.Form.Get("Address"), r.Form.Get("Mode")
		switch {
		case addr == "":
			writeAdminError(w, rpc.MissingParameter("Address"))
			return
		case mode == "":
			writeAdminError(w, rpc.MissingParameter("Mode"))
			return
		}
		if err := set(addr, mode); err != nil {
			writeAdminError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"Address": addr, "Mode": mode})
	})
}

// BackendImpair returns the handler of the lab's backend impairments:
//
//	POST /lab/backend-impair?Address=HOST:PORT&Impairment=latency=50ms+jitter=5ms
//
// impairs what a builtin backend sends on its flows, open and new: latency
// (and jitter), bandwidth (bytes/s), reset-after (bytes), stall; "none"
// lifts it. set applies it. Answers {"Address","Impairment"}.
func BackendImpair(set func(address, spec string) (string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeAdminError(w, rpc.Errorf(http.StatusBadRequest, "InvalidParameter", "%v", err))
			return
		}
		addr, spec := r.Form.Get("Address"), r.Form.Get("Impairment")
		switch {
		case addr == "":
			writeAdminError(w, rpc.MissingParameter("Address"))
			return
		case spec == "":
			writeAdminError(w, rpc.MissingParameter("Impairment"))
			return
		}
		now, err := set(addr, spec)
		if err != nil {
			writeAdminError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"Address": addr, "Impairment": now})
	})
}

// ImpairTarget is what a /lab/impair request names: one ENI, one endpoint
// zone or one CLB.
type ImpairTarget struct {
	EniID, EndpointID, ZoneID, ResourceID string
}

// Impair returns the handler of the lab's impairments of ENIs, zones and
// CLBs:
//
//	POST /lab/impair?EniId=eni-…&Impairment=latency=50ms
//	POST /lab/impair?EndpointId=ep-…&ZoneId=cn-hangzhou-h&Impairment=…
//	POST /lab/impair?ResourceId=lb-…&Impairment=…
//
// impairs what the data plane sends to the clients of the target's new
// flows (and of those already impaired): latency (and jitter), loss (as a
// retransmission delay), bandwidth (bytes/s per flow), reset-after
// (bytes), stall; "none" lifts it. set applies it. Answers the target and
// {"Impairment"}.
func Impair(set func(ImpairTarget, string) (string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeAdminError(w, rpc.Errorf(http.StatusBadRequest, "InvalidParameter", "%v", err))
			return
		}
		t := ImpairTarget{EniID: r.Form.Get("EniId"), EndpointID: r.Form.Get("EndpointId"),
			ZoneID: r.Form.Get("ZoneId"), ResourceID: r.Form.Get("ResourceId")}
		spec := r.Form.Get("Impairment")
		n := 0
		for _, s := range []string{t.EniID, t.EndpointID + t.ZoneID, t.ResourceID} {
			if s != "" {
				n++
			}
		}
		switch {
		case n == 0:
			writeAdminError(w, rpc.Errorf(http.StatusBadRequest, "MissingParameter",
				"One of EniId, EndpointId and ZoneId, or ResourceId is mandatory for this action."))
			return
		case n > 1:
			writeAdminError(w, rpc.InvalidParameter("EniId", "name one target: EniId, EndpointId and ZoneId, or ResourceId"))
			return
		case t.EndpointID != "" && t.ZoneID == "":
			writeAdminError(w, rpc.MissingParameter("ZoneId"))
			return
		case t.ZoneID != "" && t.EndpointID == "":
			writeAdminError(w, rpc.MissingParameter("EndpointId"))
			return
		case spec == "":
			writeAdminError(w, rpc.MissingParameter("Impairment"))
			return
		}
		now, err := set(t, spec)
		if err != nil {
			writeAdminError(w, err)
			return
		}
		out := map[string]any{"Impairment": now}
		for k, v := range map[string]string{"EniId": t.EniID, "EndpointId": t.EndpointID, "ZoneId": t.ZoneID, "ResourceId": t.ResourceID} {
			if v != "" {
				out[k] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
}

// DataplaneRestart returns the handler of the lab's data plane restarts:
//
//	POST /lab/dataplane-restart?Downtime=2s
//
// stops eplink's data plane as a crash would (listeners closed, flows
// reset, health and shaper state lost), keeps it down for Downtime
// (default 0, at most 20s: the answer waits for it, within the API's
// 30 s write timeout), and starts it again from the latest snapshot;
// the control plane and DNS go on. It answers {"Downtime"} once the data
// plane serves again.
func DataplaneRestart(restart func(context.Context, time.Duration) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeAdminError(w, rpc.Errorf(http.StatusBadRequest, "InvalidParameter", "%v", err))
			return
		}
		var down time.Duration
		if v := r.Form.Get("Downtime"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > 20*time.Second {
				writeAdminError(w, rpc.InvalidParameter("Downtime", "must be a duration from 0s to 20s"))
				return
			}
			down = d
		}
		if err := restart(r.Context(), down); err != nil {
			writeAdminError(w, rpc.Errorf(http.StatusServiceUnavailable, "ServiceUnavailable", "%v", err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"Downtime": down.String()})
	})
}

// LabKeyHeader carries the lab admin key on /lab/ requests.
const LabKeyHeader = "X-Eplink-Lab-Key"

// RequireLabKey lets through only the requests that carry key, in
// LabKeyHeader or as "Authorization: Bearer KEY"; the others get 403
// Forbidden.LabKey and change nothing. eplink requires it when the API
// address is not loopback: the lab's controls are not for the network.
func RequireLabKey(key string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(LabKeyHeader)
		if auth := r.Header.Get("Authorization"); got == "" && strings.HasPrefix(auth, "Bearer ") {
			got = strings.TrimPrefix(auth, "Bearer ")
		}
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(key)) != 1 {
			msg := "The lab API needs the lab admin key in the " + LabKeyHeader + " header (eplink serve --lab-key; eplink fault sends the profile's)."
			if got != "" {
				msg = "The lab admin key in the request is not this server's."
			}
			writeAdminError(w, rpc.Errorf(http.StatusForbidden, "Forbidden.LabKey", "%s", msg))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeAdminError(w http.ResponseWriter, err error) {
	status, code := http.StatusInternalServerError, "InternalError"
	var ae rpc.APIError
	if errors.As(err, &ae) {
		status, code = ae.HTTPStatus(), ae.ErrorCode()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Code": code, "Message": err.Error()})
}
