package softphone

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// sipgo keeps per-connection readers that end shortly after Close.
		goleak.IgnoreTopFunction("github.com/emiago/sipgo/sip.(*TransportTCP).readConnection"),
	)
}
