package softphone

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/softphone/phonetest"
)

func TestRegisterTLSPinnedFingerprint(t *testing.T) {
	e := phonetest.Start(t)
	p := startPhone(t, edgeAccount(e, "alice"), Options{})
	reg := e.WaitRegister(5 * time.Second)
	c := reg.Contact()
	if c == nil {
		t.Fatal("REGISTER without Contact")
	}
	inst, _ := c.Params.Get("+sip.instance")
	if !strings.Contains(inst, "urn:uuid:"+p.instance) {
		t.Errorf("+sip.instance = %q, want urn:uuid:%s", inst, p.instance)
	}
	if id, _ := c.Params.Get("reg-id"); id != "1" {
		t.Errorf("reg-id = %q, want 1", id)
	}
	if tr, _ := c.Address.UriParams.Get("transport"); tr != "tls" {
		t.Errorf("contact transport = %q, want tls", tr)
	}
	if h := reg.GetHeader("Supported"); h == nil || !strings.Contains(h.Value(), "outbound") || !strings.Contains(h.Value(), "path") {
		t.Errorf("Supported = %v, want path, outbound", h)
	}
	if r := reg.Route(); r == nil || !r.Address.UriParams.Has("lr") || !r.Address.UriParams.Has("ob") {
		t.Errorf("Route = %v, want the edge with ;lr;ob", r)
	}
	st := p.Registration()
	if st.State != RegRegistered || st.Registrations != 1 {
		t.Errorf("registration = %+v", st)
	}
	// The instance id is stable across restarts of the same account.
	id2, err := InstanceID(p.opts.DataDir, "alice")
	if err != nil || id2 != p.instance {
		t.Errorf("instance id changed: %q vs %q (%v)", id2, p.instance, err)
	}
}

func TestRegisterTLSWithCAFile(t *testing.T) {
	e := phonetest.Start(t)
	acct := edgeAccount(e, "bob")
	acct.Fingerprint, acct.CAFile = "", e.CAFile
	p := startPhone(t, acct, Options{})
	if st := p.Registration(); st.State != RegRegistered {
		t.Fatalf("state %q", st.State)
	}
}

func startErr(t *testing.T, acct Account) error {
	t.Helper()
	p, err := New(acct, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.Start(ctx)
}

func TestWrongFingerprintRefused(t *testing.T) {
	e := phonetest.Start(t)
	acct := edgeAccount(e, "carol")
	acct.Fingerprint = "SHA256:" + strings.Repeat("AB:", 31) + "AB"
	err := startErr(t, acct)
	if !errors.Is(err, ErrFingerprintMismatch) {
		t.Fatalf("err = %v, want ErrFingerprintMismatch", err)
	}
	if !strings.Contains(err.Error(), e.Fingerprint()) || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("message should name the presented fingerprint: %v", err)
	}
}

func TestUntrustedCertificateRefused(t *testing.T) {
	e := phonetest.Start(t)
	acct := edgeAccount(e, "dave")
	acct.Fingerprint = ""
	err := startErr(t, acct)
	if !errors.Is(err, ErrUntrustedCertificate) {
		t.Fatalf("err = %v, want ErrUntrustedCertificate", err)
	}
	for _, want := range []string{"not trusted", "--ca-file", "--fingerprint", e.Fingerprint()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func TestInsecureAccepted(t *testing.T) {
	e := phonetest.Start(t)
	acct := edgeAccount(e, "erin")
	acct.Fingerprint, acct.Insecure = "", true
	startPhone(t, acct, Options{})
}

func TestWrongPasswordFailsWithStatus(t *testing.T) {
	e := phonetest.Start(t)
	acct := edgeAccount(e, "frank")
	acct.Password = ""
	err := startErr(t, acct)
	if !IsStatus(err, 401) {
		t.Fatalf("err = %v, want 401 StatusError", err)
	}
}

func TestReRegisterAfterFlowBreaks(t *testing.T) {
	e := phonetest.Start(t)
	p := startPhone(t, edgeAccount(e, "grace"), Options{})
	first := e.WaitRegister(5 * time.Second)
	events, stop := p.Events(64)
	defer stop()
	broke := time.Now()
	e.BreakFlows()
	second := e.WaitRegister(5 * time.Second)
	if d := time.Since(broke); d > 2*time.Second {
		t.Errorf("re-registered after %v, want within 2s", d)
	}
	if first.Contact().Address.Port == second.Contact().Address.Port {
		t.Errorf("re-registration reused the old flow's contact port %d", first.Contact().Address.Port)
	}
	sawReconnect := false
	deadline := time.After(3 * time.Second)
	for !sawReconnect {
		select {
		case ev := <-events:
			if ev.Type == EventRegistration && ev.State == RegReconnecting {
				sawReconnect = true
			}
		case <-deadline:
			t.Fatal("no reconnecting event")
		}
	}
	waitState(t, p, RegRegistered, 3*time.Second)
	if st := p.Registration(); st.Registrations < 2 {
		t.Errorf("registrations = %d, want >= 2", st.Registrations)
	}
}

func waitState(t *testing.T, p *Phone, state string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if p.Registration().State == state {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("registration state %q, want %q", p.Registration().State, state)
}

func TestKeepaliveKeepsFlow(t *testing.T) {
	e := phonetest.Start(t)
	acct := edgeAccount(e, "heidi")
	acct.Keepalive = time.Second
	p := startPhone(t, acct, Options{PongTimeout: 500 * time.Millisecond})
	e.WaitRegister(5 * time.Second)
	time.Sleep(3 * time.Second) // two or three pings, each answered by sipgo's pong
	if n := len(e.Registers()); n != 1 {
		t.Fatalf("%d registrations, want 1 (the flow was judged dead)", n)
	}
	if st := p.Registration(); st.State != RegRegistered || st.Registrations != 1 {
		t.Errorf("registration = %+v", st)
	}
}

func TestMissingPongReconnects(t *testing.T) {
	e := phonetest.Start(t)
	acct := edgeAccount(e, "ivan")
	acct.Keepalive = time.Second
	p := startPhone(t, acct, Options{PongTimeout: 500 * time.Millisecond})
	first := e.WaitRegister(5 * time.Second)
	e.SetNoPong(true)
	second := e.WaitRegister(4 * time.Second) // ping after <=1s, no pong for 0.5s, reconnect
	if first.Contact().Address.Port == second.Contact().Address.Port {
		t.Error("expected a new flow after the missing pong")
	}
	waitState(t, p, RegRegistered, 3*time.Second)
}

func TestRefreshBeforeExpiryAndUnregister(t *testing.T) {
	e := phonetest.Start(t)
	e.GrantExpires = 10 // refreshed after 5 s
	p := startPhone(t, edgeAccount(e, "judy"), Options{})
	first := e.WaitRegister(5 * time.Second)
	if st := p.Registration(); st.Expires != 10*time.Second {
		t.Errorf("granted expires %v, want 10s", st.Expires)
	}
	refresh := e.WaitRegister(8 * time.Second)
	if refresh.Contact().Address.Port != first.Contact().Address.Port {
		t.Error("a refresh must reuse the flow")
	}
	if refresh.CallID().Value() != first.CallID().Value() || refresh.CSeq().SeqNo <= first.CSeq().SeqNo {
		t.Errorf("refresh Call-ID/CSeq: %s %d after %s %d", refresh.CallID().Value(), refresh.CSeq().SeqNo,
			first.CallID().Value(), first.CSeq().SeqNo)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	unreg := e.WaitRegister(3 * time.Second)
	if h := unreg.GetHeader("Expires"); h == nil || h.Value() != "0" {
		t.Errorf("Close sent no de-registration (Expires: %v)", h)
	}
}

// local_ip of the other family than the edge's address would make calls without audio (RTP cannot
// cross families): the phone refuses to start, naming both.
func TestLocalIPFamilyMustMatchEdge(t *testing.T) {
	acct := Account{Name: "x", Edge: "tls://[::1]:5061", User: "x", Password: "pw", Domain: "example.test",
		Insecure: true, LocalIP: "127.0.0.1"}
	err := startErr(t, acct)
	if err == nil || !strings.Contains(err.Error(), "local_ip 127.0.0.1 is IPv4") || !strings.Contains(err.Error(), "no IPv4 address") {
		t.Fatalf("err = %v, want a local_ip family error", err)
	}
}
