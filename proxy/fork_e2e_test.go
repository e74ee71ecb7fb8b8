package proxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
)

// Done-when 2: a user with two softphones via the edge and a desk phone at the PBX: a call rings all
// three; answering one cancels the others.
func TestForkToAllDevicesOfAUser(t *testing.T) {
	k := startPBX(t, "alice", "carol")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	laptop := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	mobile := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	desk := deskPhone(t, k, "alice", 440, "manual")
	carol := deskPhone(t, k, "carol", 1000, "manual")
	locs, err := k.WaitLocations(ctxT(t, 5*time.Second), "alice", 3)
	if err != nil {
		t.Fatal(err)
	}
	viaEdge := 0
	for _, l := range locs {
		if strings.Contains(l.Path, e.Core) {
			viaEdge++
		}
	}
	if viaEdge != 2 {
		t.Fatalf("locations %+v: want 2 with the edge's Path", locs)
	}
	lEv, stopL := laptop.Events(64)
	defer stopL()
	mEv, stopM := mobile.Events(64)
	defer stopM()

	if err := carol.Dial("sip:alice@pbx.test"); err != nil {
		t.Fatal(err)
	}
	inL := waitEvent(t, lEv, softphone.EventIncoming, "", 5*time.Second)
	inM := waitEvent(t, mEv, softphone.EventIncoming, "", 5*time.Second)
	waitB(t, desk, 5*time.Second, testpeers.EventCallIncoming)

	lc, err := laptop.Call(inL.Call)
	if err != nil {
		t.Fatal(err)
	}
	if err := lc.Answer(&softphone.MediaOptions{Play: "tone:440"}); err != nil {
		t.Fatal(err)
	}
	waitB(t, carol, 5*time.Second, testpeers.EventCallEstablished)
	waitEvent(t, mEv, softphone.EventEnded, inM.Call, 5*time.Second)
	waitB(t, desk, 5*time.Second, testpeers.EventCallClosed)

	if err := carol.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, lEv, softphone.EventEnded, inL.Call, 5*time.Second)
}
