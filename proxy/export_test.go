package proxy

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/emiago/sipgo/sip"
)

// SetUDPSourcesPerGeneration lowers the UDP source-table bound for a test (set before the edge starts).
func SetUDPSourcesPerGeneration(t *testing.T, n int) {
	old := udpSourcesPerGeneration
	udpSourcesPerGeneration = n
	t.Cleanup(func() { udpSourcesPerGeneration = old })
}

// UDPPoolSize is the number of entries in sipgo's connection pool of the access UDP transport (one per
// source address it has read from, plus the listener). sipgo keeps it unexported; the test reads it
// under the pool's own lock.
func (p *Proxy) UDPPoolSize() int {
	f := reflect.ValueOf(p.udpTP).Elem().FieldByName("pool")
	return (*sip.ConnectionPool)(unsafe.Pointer(f.Pointer())).Size()
}
