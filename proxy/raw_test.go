package proxy_test

import (
	"net"
	"testing"

	"github.com/sipedge/sipedge/internal/edgetest"
)

type rawClient = edgetest.Raw

func dialRaw(t *testing.T, network, addr string) *rawClient {
	return edgetest.DialRaw(t, network, addr)
}

func rawFromConn(t *testing.T, c net.Conn, udp bool) *rawClient {
	return edgetest.RawFromConn(t, c, udp)
}

const testSDP = edgetest.TestSDP
