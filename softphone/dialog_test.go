package softphone

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestReplacesRoundTrip(t *testing.T) {
	d := &dialog{callID: "abc@host", localTag: "L1", remoteTag: "R1"}
	var target sip.Uri
	if err := sip.ParseUri("sip:carol@example.com;transport=tcp", &target); err != nil {
		t.Fatal(err)
	}
	rt := referToWithReplaces(target, d.replacesValue())
	if !strings.HasPrefix(rt, "<sip:carol@example.com?Replaces=abc%40host%3Bto-tag%3DR1%3Bfrom-tag%3DL1>") {
		t.Fatalf("Refer-To %s", rt)
	}
	var u sip.Uri
	if _, err := sip.ParseAddressValue(rt, &u, nil); err != nil {
		t.Fatal(err)
	}
	v, _ := u.Headers.Get("Replaces")
	dec, _ := url.QueryUnescape(v)
	cid, to, from, ok := parseReplaces(dec)
	// Seen from the target: our remote tag is its local (to) tag.
	if !ok || cid != "abc@host" || to != "R1" || from != "L1" {
		t.Errorf("parsed %q %q %q %v from %q", cid, to, from, ok, dec)
	}
	if _, _, _, ok := parseReplaces("only-callid"); ok {
		t.Error("Replaces without tags accepted")
	}
}

func TestSipfragAndHeaderList(t *testing.T) {
	for body, want := range map[string]int{"SIP/2.0 200 OK\r\n": 200, "SIP/2.0 100 Trying": 100, "SIP/2.0 486 Busy Here\r\nX: y\r\n": 486, "garbage": 0, "SIP/2.0 99 x": 0} {
		got, ok := sipfragStatus([]byte(body))
		if got != want && ok || (want != 0) != ok {
			t.Errorf("sipfrag %q = %d %v", body, got, ok)
		}
	}
	got := splitHeaderList(`<sip:a@x;lr>, "Bob, Jr." <sip:b@y>;p=1,<sip:c@z>`)
	if len(got) != 3 || got[1] != `"Bob, Jr." <sip:b@y>;p=1` {
		t.Errorf("split %q", got)
	}
}

func TestDialogRequestRouting(t *testing.T) {
	var rr1, rr2 sip.Uri
	_ = sip.ParseUri("sip:edge.example.com;lr;transport=tls", &rr1)
	_ = sip.ParseUri("sip:pbx.example.com;lr", &rr2)
	var target sip.Uri
	_ = sip.ParseUri("sip:bob@10.0.0.5:5060", &target)
	d := &dialog{callID: "c", localTag: "l", remoteTag: "r", remoteTarget: target, routeSet: []sip.Uri{rr1, rr2}, localSeq: 5}
	p := &Phone{target: Target{Network: "TLS"}, dest: "127.0.0.1:5061"}
	req := d.request(p, sip.BYE, 0)
	if req.CSeq().SeqNo != 6 || req.Recipient.Host != "10.0.0.5" || req.Destination() != "127.0.0.1:5061" || req.Transport() != "TLS" {
		t.Errorf("BYE %s", req)
	}
	routes := req.GetHeaders("Route")
	if len(routes) != 2 || !strings.Contains(routes[0].Value(), "edge.example.com") {
		t.Errorf("routes %v", routes)
	}
	ack := d.request(p, sip.ACK, 3)
	if ack.CSeq().SeqNo != 3 || d.localSeq != 6 {
		t.Errorf("ACK cseq %d, local %d", ack.CSeq().SeqNo, d.localSeq)
	}
	if !d.checkRemoteSeq(10) || d.checkRemoteSeq(10) || d.checkRemoteSeq(9) || !d.checkRemoteSeq(11) {
		t.Error("remote CSeq ordering")
	}
}

func TestContactsAndResolve(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contacts.yaml")
	writeFile(t, path, "contacts:\n  - name: Bob\n    uri: sip:bob@example.com\n  - name: Desk\n    uri: \"1001\"\n")
	cs, err := LoadContacts(path, false)
	if err != nil {
		t.Fatal(err)
	}
	p := &Phone{acct: Account{Domain: "corp.example"}, opts: Options{Contacts: cs}}
	for in, want := range map[string]string{"bob": "sip:bob@example.com", "Desk": "sip:1001@corp.example",
		"sip:carol@x.org": "sip:carol@x.org", "dave@y.org": "sip:dave@y.org", "+4930123": "sip:+4930123@corp.example"} {
		u, _, err := p.ResolveDestination(in)
		if err != nil || u.String() != want {
			t.Errorf("resolve %q = %s, %v; want %s", in, u.String(), err, want)
		}
	}
	if _, name, _ := p.ResolveDestination("sip:bob@example.com"); name != "Bob" {
		t.Errorf("name for bob's URI %q", name)
	}
	for _, bad := range []string{"", "two words", "a<b"} {
		if _, _, err := p.ResolveDestination(bad); err == nil {
			t.Errorf("resolve %q accepted", bad)
		}
	}
	writeFile(t, path, "contacts:\n  - name: \"\"\n    uri: sip:x@y\n")
	if _, err := LoadContacts(path, false); err == nil || !strings.Contains(err.Error(), "contacts[0].name") {
		t.Errorf("empty name: %v", err)
	}
}

func TestHistoryAppendRead(t *testing.T) {
	h := OpenHistory(filepath.Join(t.TempDir(), "sub", "history.jsonl"))
	now := time.Now().UTC().Truncate(time.Second)
	for i := range 3 {
		if err := h.Append(HistoryEntry{Time: now, Direction: DirOut, Remote: "sip:bob@x", Answered: i != 1, Code: 486 * (i % 2),
			Duration: Seconds(1500 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	appendRaw(t, h.Path(), "not json\n")
	es, bad, err := h.Read()
	if err != nil || len(es) != 3 || bad != 1 || es[1].Code != 486 || es[0].Duration.D() != 1500*time.Millisecond || !es[0].Time.Equal(now) {
		t.Errorf("read %+v bad=%d err=%v", es, bad, err)
	}
}
