package main

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"eplink/console"
	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/lab"
)

// newConsole builds the web console on the API's own handler. The demo's
// sign-in page offers its accounts, whose keys its banner prints anyway; a
// lab file's keys are never offered.
func newConsole(cp *controlplane.ControlPlane, apiHandler http.Handler, reg prometheus.Gatherer, demo bool, l *lab.Lab, logger *slog.Logger) *console.Console {
	var accounts []console.Account
	if demo {
		for _, a := range l.Accounts {
			for _, k := range a.AccessKeys {
				accounts = append(accounts, console.Account{Name: a.Name, UID: a.UID, AccessKeyID: k.ID, AccessKeySecret: k.Secret})
			}
		}
	}
	return console.New(console.Options{
		API: apiHandler, Version: api.Version, Region: cp.Region(), Gatherer: reg,
		Accounts: accounts, UIDOf: cp.Credentials, Logger: logger.With("component", "console"),
	})
}
