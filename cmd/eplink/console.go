package main

import (
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"eplink/console"
	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/lab"
)

// newConsole builds the web console on the API's own handler.
func newConsole(cp *controlplane.ControlPlane, apiHandler http.Handler, reg prometheus.Gatherer, demo bool, apiAddr net.Addr, l *lab.Lab, logger *slog.Logger) *console.Console {
	return console.New(console.Options{
		API: apiHandler, Version: api.Version, Region: cp.Region(), Gatherer: reg,
		Accounts: consoleAccounts(demo, apiAddr, l), UIDOf: cp.Credentials,
		Logger: logger.With("component", "console"),
	})
}

// consoleAccounts are the AccessKeys the sign-in page offers: the demo's,
// whose keys its banner prints anyway, when the API listens on loopback
// only. A lab file's keys, or keys on an address others reach, are never
// offered.
func consoleAccounts(demo bool, apiAddr net.Addr, l *lab.Lab) []console.Account {
	ta, ok := apiAddr.(*net.TCPAddr)
	if !demo || !ok || !ta.IP.IsLoopback() {
		return nil
	}
	var out []console.Account
	for _, a := range l.Accounts {
		for _, k := range a.AccessKeys {
			out = append(out, console.Account{Name: a.Name, UID: a.UID, AccessKeyID: k.ID, AccessKeySecret: k.Secret})
		}
	}
	return out
}
