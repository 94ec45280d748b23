//go:build !linux

package dataplane

import "errors"

// The data plane's event loops use epoll and splice: Linux only. Elsewhere
// the package builds (so the control plane and tools do) but Run fails.

type loop struct{}

func (*loop) post(func()) bool { return false }

func (*loop) finish(*Flow, bool) {}

type pipe struct{}

var errUnsupported = errors.New("the data plane needs Linux (epoll, splice)")

func (p *Proxy) startLoops(int) error { return errUnsupported }

func (p *Proxy) stopLoops() {}

func (p *Proxy) listen(*route, *eniFlows) (*listener, error) { return nil, errUnsupported }

func (p *Proxy) closeListener(*listener) {}

func (p *Proxy) recheckDialing() {}
