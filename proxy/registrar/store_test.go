package registrar

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLookupOrder(t *testing.T) {
	r, clk := newReg(t, Config{})
	add := func(uri string, q float64) {
		c := ct(uri)
		c.Q = q
		mustApply(t, r, "alice", upd("c-"+uri, 1, c))
		clk.Advance(time.Second)
	}
	add("sip:a@low", 0.1)
	add("sip:a@noq-old", -1)
	add("sip:a@half-old", 0.5)
	add("sip:a@half-new", 0.5)
	add("sip:a@noq-new", -1)
	want := "[sip:a@noq-new sip:a@noq-old sip:a@half-new sip:a@half-old sip:a@low]"
	if got := contacts(r.Lookup("alice")); fmt.Sprint(got) != want {
		t.Fatalf("order = %v, want %v", got, want)
	}
	// Refreshing makes a binding the newest of its q.
	mustApply(t, r, "alice", upd("c-sip:a@noq-old", 2, ct("sip:a@noq-old")))
	if got := r.Lookup("alice"); got[0].Contact != "sip:a@noq-old" || got[0].Q != 1 {
		t.Fatalf("after refresh first = %+v", got[0])
	}
}

func TestExpiryWithClock(t *testing.T) {
	r, clk := newReg(t, Config{})
	short := ct("sip:a@short")
	short.Expires = 60
	long := ct("sip:a@long")
	long.Expires = 120
	mustApply(t, r, "alice", upd("c1", 1, short, long))
	bobC := ct("sip:b@h")
	bobC.Expires = 60
	mustApply(t, r, "bob", upd("c2", 1, bobC))

	clk.Advance(59 * time.Second)
	if r.Count() != 3 || fmt.Sprint(r.AORs()) != "[alice bob]" {
		t.Fatalf("at 59s: count %d, AORs %v", r.Count(), r.AORs())
	}
	if got := r.Lookup("alice")[1].SecondsLeft(clk.Now()); got != 1 {
		t.Fatalf("SecondsLeft at 59s = %d, want 1", got)
	}
	clk.Advance(time.Second) // exactly at expiry: gone, without Sweep
	if got := contacts(r.Lookup("alice")); fmt.Sprint(got) != "[sip:a@long]" {
		t.Fatalf("at 60s alice = %v", got)
	}
	if r.Count() != 1 || fmt.Sprint(r.AORs()) != "[alice]" || len(r.Lookup("bob")) != 0 {
		t.Fatalf("at 60s: count %d, AORs %v", r.Count(), r.AORs())
	}
	// An expired binding neither blocks (out of order) nor counts toward the limit.
	mustApply(t, r, "bob", upd("c2", 1, ct("sip:b@h")))
	swept := r.Sweep()
	if fmt.Sprint(contacts(swept)) != "[sip:a@short]" {
		t.Fatalf("Sweep removed %v", contacts(swept))
	}
	if len(r.Sweep()) != 0 {
		t.Fatal("second Sweep removed more")
	}
	clk.Advance(time.Hour)
	if n := len(r.Sweep()); n != 2 || r.Count() != 0 || len(r.AORs()) != 0 {
		t.Fatalf("after an hour: swept %d, count %d", n, r.Count())
	}
	if len(r.aors) != 0 {
		t.Fatalf("empty AORs left in the map: %v", r.aors)
	}
}

func TestRemoveFlow(t *testing.T) {
	r, clk := newReg(t, Config{})
	u := func(aor, flow, uri string, exp int64) {
		c := ct(uri)
		c.Expires = exp
		x := upd("c-"+uri, 1, c)
		x.FlowID = flow
		mustApply(t, r, aor, x)
	}
	u("alice", "tls-1", "sip:a@1", 3600)
	u("alice", "tls-2", "sip:a@2", 3600)
	u("bob", "tls-1", "sip:b@1", 3600)
	u("carol", "tls-1", "sip:c@1", 60)
	u("dave", "", "sip:d@udp", 3600)
	clk.Advance(time.Minute) // carol's binding has expired: removed but not reported
	if got := r.RemoveFlow(""); len(got) != 0 || r.Count() != 4 {
		t.Fatalf("RemoveFlow(\"\") removed %v", got)
	}
	removed := r.RemoveFlow("tls-1")
	got := map[string]bool{}
	for _, b := range removed {
		got[b.AOR+" "+b.Contact] = true
	}
	if len(removed) != 2 || !got["alice sip:a@1"] || !got["bob sip:b@1"] {
		t.Fatalf("removed %+v", removed)
	}
	if fmt.Sprint(r.AORs()) != "[alice dave]" || r.Count() != 2 || r.Lookup("alice")[0].FlowID != "tls-2" {
		t.Fatalf("after RemoveFlow: AORs %v count %d", r.AORs(), r.Count())
	}
	if len(r.RemoveFlow("tls-1")) != 0 {
		t.Fatal("second RemoveFlow removed more")
	}
}

func TestStatusDefaults(t *testing.T) {
	if code, reason := Status(nil); code != 200 || reason != "OK" {
		t.Fatalf("nil: %d %s", code, reason)
	}
	if code, _ := Status(errors.New("disk on fire")); code != 500 {
		t.Fatalf("foreign error: %d", code)
	}
	if code, _ := Status(fmt.Errorf("wrapped: %w", &IntervalTooBriefError{MinExpires: 1500 * time.Millisecond})); code != 423 {
		t.Fatalf("wrapped 423: %d", code)
	}
	if got := (&IntervalTooBriefError{MinExpires: 1500 * time.Millisecond}).MinExpiresSeconds(); got != 2 {
		t.Fatalf("MinExpiresSeconds does not round up: %d", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	r, clk := newReg(t, Config{MaxBindingsPerAOR: 1000})
	const workers, perWorker = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			flow := fmt.Sprintf("flow-%d", w)
			for i := range perWorker {
				aor := fmt.Sprintf("user%d", i%5)
				u := upd(fmt.Sprintf("call-%d-%d", w, i), 1, ct(fmt.Sprintf("sip:%s@10.0.%d.%d", aor, w, i)))
				u.FlowID = flow
				if _, err := r.Apply(aor, u); err != nil {
					t.Errorf("Apply: %v", err)
					return
				}
				_ = r.Lookup(aor)
				_ = r.Count()
				_ = r.AORs()
				if i%10 == 0 {
					_ = r.Sweep()
					clk.Advance(time.Millisecond)
				}
			}
			if w%2 == 0 {
				if got := len(r.RemoveFlow(flow)); got != perWorker {
					t.Errorf("RemoveFlow(%s) removed %d, want %d", flow, got, perWorker)
				}
			}
		}()
	}
	wg.Wait()
	if got, want := r.Count(), workers/2*perWorker; got != want {
		t.Fatalf("Count = %d, want %d", got, want)
	}
}
