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
