package proxy_test

import (
	"context"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
)

type testEdge = edgetest.Edge

func startEdge(t *testing.T, mut func(c *config.Config)) *testEdge { return edgetest.Start(t, mut) }

func startPBX(t *testing.T, users ...string) *testpeers.Kamailio {
	return edgetest.StartPBX(t, users...)
}

func edgePhone(e *testEdge, user, password, domain string) softphone.Account {
	return edgetest.PhoneAccount(e, user, password, domain)
}

func startPhone(t *testing.T, acct softphone.Account) *softphone.Phone {
	return edgetest.StartPhone(t, acct)
}

func waitEvent(t *testing.T, ch <-chan softphone.Event, typ softphone.EventType, call string, d time.Duration) softphone.Event {
	t.Helper()
	return edgetest.WaitEvent(t, ch, typ, call, d)
}

func ctxT(t *testing.T, d time.Duration) context.Context { return edgetest.Ctx(t, d) }

// incomingCall makes the desk phone call uri and returns the phone's ringing incoming call (events: the
// phone's event stream).
func incomingCall(t *testing.T, desk *testpeers.Baresip, uri string, p *softphone.Phone, events <-chan softphone.Event) *softphone.Call {
	t.Helper()
	if err := desk.Dial(uri); err != nil {
		t.Fatal(err)
	}
	in := waitEvent(t, events, softphone.EventIncoming, "", 10*time.Second)
	c, err := p.Call(in.Call)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
