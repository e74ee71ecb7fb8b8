package softphone

import (
	"fmt"
	"os"
	"testing"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"

	"github.com/sipedge/sipedge/softphone/phonetest"
)

func TestMain(m *testing.M) {
	// Process-wide sipgo settings, once, before any test or goroutine runs:
	// the UDP size limit (as cmd/phone's main sets it) and the edge's.
	if err := phonetest.InitProcess(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if sip.UDPMTUSize-200 < UDPMaxMessage {
		fmt.Fprintln(os.Stderr, "sipgo's UDP limit is below UDPMaxMessage")
		os.Exit(1)
	}
	goleak.VerifyTestMain(m,
		// sipgo keeps per-connection readers that end shortly after Close.
		goleak.IgnoreTopFunction("github.com/emiago/sipgo/sip.(*TransportTCP).readConnection"),
	)
}
