package phonetest

import "github.com/emiago/sipgo/sip"

// udpLimit is sipgo's UDP limit for tests: the edge's default max_message_size (16 KiB) plus sipgo's 200
// bytes of headroom, more than softphone.UDPMaxMessage (this package cannot import softphone: its tests
// import this package).
const udpLimit = 16384 + 200

// InitProcess makes sipgo's process-wide UDP size limit, as cmd/phone's main does, for a TestMain to call
// before any test (or goroutine) runs.
func InitProcess() error {
	if sip.UDPMTUSize < udpLimit {
		sip.UDPMTUSize = udpLimit
	}
	return nil
}
