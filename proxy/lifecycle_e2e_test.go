package proxy_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
)

func metricsText(t *testing.T, e *testEdge) string {
	t.Helper()
	res, err := http.Get("http://" + e.App.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// The edge ends a call itself with BYE to both sides (media timeouts and policy use this); draining
// refuses new calls with 503 while the call in progress continues; metrics count what happened.
func TestEndCallDrainAndMetrics(t *testing.T) {
	k := startPBX(t, "alice", "bob")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	bob := deskPhone(t, k, "bob", 1000, "auto")
	aEv, stop := alice.Events(128)
	defer stop()
	ctx := ctxT(t, 30*time.Second)
	mo := softphone.MediaOptions{Play: "silence"}

	call := edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", mo)
	ds := e.App.Proxy.Dialogs()
	if len(ds) != 1 || !ds[0].Confirmed || ds[0].UserA != "alice" {
		t.Fatalf("dialogs %+v", ds)
	}
	if err := e.App.Proxy.EndCall(ctx, ds[0].ID, "test teardown"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, aEv, softphone.EventEnded, call.ID(), 5*time.Second)
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	if n := len(e.App.Proxy.Dialogs()); n != 0 {
		t.Errorf("%d dialogs left after EndCall", n)
	}

	// Drain: a call in progress keeps going, a new one gets 503, Drain returns when the call ends.
	call = edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", mo)
	drained := make(chan struct{})
	go func() {
		dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		e.App.Proxy.Drain(dctx)
		close(drained)
	}()
	time.Sleep(100 * time.Millisecond)
	c2, err := alice.Dial(ctx, "sip:bob@pbx.test", softphone.DialOptions{MediaOptions: mo})
	if err != nil {
		t.Fatal(err)
	}
	if end := waitEvent(t, aEv, softphone.EventEnded, c2.ID(), 5*time.Second); end.Code != 503 {
		t.Errorf("new call while draining ended %d, want 503", end.Code)
	}
	select {
	case <-drained:
		t.Fatal("Drain returned with a call up")
	default:
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("hangup of the call in progress while draining: %v", err)
	}
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		t.Fatal("Drain did not return after the last call ended")
	}

	m := metricsText(t, e)
	for _, want := range []string{
		`sipedge_registrations_total{result="ok"}`,
		`sipedge_calls_total 2`,
		`sipedge_pbx_target_up{target="` + k.Addr("tcp") + `"} 1`,
		`sipedge_sip_responses_total{class="5xx",side="access"}`,
		`sipedge_flows_registered 1`,
		`sipedge_transactions_active 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
