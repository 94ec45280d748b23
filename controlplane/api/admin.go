package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
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
	mux.HandleFunc("POST /lab/clb-zone-fault", labHandler(func(r *http.Request) (any, error) {
		f := r.Form
		zone := f.Get("ZoneId")
		failed, err := strconv.ParseBool(f.Get("Failed"))
		if err != nil {
			return nil, rpc.InvalidParameter("Failed", "must be true or false")
		}
		if err := cp.SetCLBZoneFault(zone, failed); err != nil {
			return nil, err
		}
		return map[string]any{"ZoneId": zone, "Failed": failed, "LoadBalancers": cp.CLBZones()}, nil
	}))
	mux.HandleFunc("GET /lab/clbs", labHandler(func(*http.Request) (any, error) {
		return map[string]any{"LoadBalancers": cp.CLBZones()}, nil
	}))
	mux.HandleFunc("GET /lab/accounts", labHandler(func(*http.Request) (any, error) {
		return map[string]any{"Accounts": cp.Accounts()}, nil
	}))
	mux.HandleFunc("POST /lab/zone-fault", labHandler(func(r *http.Request) (any, error) {
		f := r.Form
		if err := required(f, "EndpointId", "ZoneId"); err != nil {
			return nil, err
		}
		ep, zone := f.Get("EndpointId"), f.Get("ZoneId")
		failed, err := strconv.ParseBool(f.Get("Failed"))
		if err != nil {
			return nil, rpc.InvalidParameter("Failed", "must be true or false")
		}
		if err := cp.SetZoneFault(ep, zone, failed); err != nil {
			return nil, err
		}
		return map[string]any{"EndpointId": ep, "ZoneId": zone, "Failed": failed}, nil
	}))
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
	return labHandler(func(r *http.Request) (any, error) {
		f := r.Form
		if err := required(f, "Address", "Mode"); err != nil {
			return nil, err
		}
		addr, mode := f.Get("Address"), f.Get("Mode")
		if err := set(addr, mode); err != nil {
			return nil, err
		}
		return map[string]any{"Address": addr, "Mode": mode}, nil
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
	return labHandler(func(r *http.Request) (any, error) {
		f := r.Form
		if err := required(f, "Address", "Impairment"); err != nil {
			return nil, err
		}
		addr := f.Get("Address")
		now, err := set(addr, f.Get("Impairment"))
		if err != nil {
			return nil, err
		}
		return map[string]any{"Address": addr, "Impairment": now}, nil
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
	return labHandler(func(r *http.Request) (any, error) {
		f := r.Form
		t := ImpairTarget{EniID: f.Get("EniId"), EndpointID: f.Get("EndpointId"),
			ZoneID: f.Get("ZoneId"), ResourceID: f.Get("ResourceId")}
		spec := f.Get("Impairment")
		n := 0
		for _, s := range []string{t.EniID, t.EndpointID + t.ZoneID, t.ResourceID} {
			if s != "" {
				n++
			}
		}
		switch {
		case n == 0:
			return nil, rpc.Errorf(http.StatusBadRequest, "MissingParameter",
				"One of EniId, EndpointId and ZoneId, or ResourceId is mandatory for this action.")
		case n > 1:
			return nil, rpc.InvalidParameter("EniId", "name one target: EniId, EndpointId and ZoneId, or ResourceId")
		case t.EndpointID != "" && t.ZoneID == "":
			return nil, rpc.MissingParameter("ZoneId")
		case t.ZoneID != "" && t.EndpointID == "":
			return nil, rpc.MissingParameter("EndpointId")
		case spec == "":
			return nil, rpc.MissingParameter("Impairment")
		}
		now, err := set(t, spec)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"Impairment": now}
		for k, v := range map[string]string{"EniId": t.EniID, "EndpointId": t.EndpointID, "ZoneId": t.ZoneID, "ResourceId": t.ResourceID} {
			if v != "" {
				out[k] = v
			}
		}
		return out, nil
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
	return labHandler(func(r *http.Request) (any, error) {
		var down time.Duration
		if v := r.Form.Get("Downtime"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > 20*time.Second {
				return nil, rpc.InvalidParameter("Downtime", "must be a duration from 0s to 20s")
			}
			down = d
		}
		if err := restart(r.Context(), down); err != nil {
			return nil, rpc.Errorf(http.StatusServiceUnavailable, "ServiceUnavailable", "%v", err)
		}
		return map[string]any{"Downtime": down.String()}, nil
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

// labHandler is a lab API handler: fn gets the request with its
// parameters (query and form) parsed into r.Form; its answer goes out as
// JSON, or its error in the API's terms.
func labHandler(fn func(r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeAdminError(w, rpc.Errorf(http.StatusBadRequest, "InvalidParameter", "%v", err))
			return
		}
		out, err := fn(r)
		if err != nil {
			writeAdminError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}
}

// required is MissingParameter for the first of names f lacks.
func required(f url.Values, names ...string) error {
	for _, n := range names {
		if f.Get(n) == "" {
			return rpc.MissingParameter(n)
		}
	}
	return nil
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
