package testpeers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const rpcTimeout = 5 * time.Second

// RPC calls a Kamailio JSON-RPC command (https://www.kamailio.org/docs/modules/5.6.x/modules/jsonrpcs.html)
// over its Unix datagram socket and returns the "result" member. Examples: RPC("ul.dump"),
// RPC("ul.lookup", "location", "alice"), RPC("tm.stats"). An error reply wraps ErrRPC.
func (k *Kamailio) RPC(method string, params ...any) (json.RawMessage, error) {
	return k.rpcTimeout(method, rpcTimeout, params...)
}

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
	ID      int    `json:"id"`
}

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	ID int `json:"id"`
}

func (k *Kamailio) rpcTimeout(method string, timeout time.Duration, params ...any) (json.RawMessage, error) {
	if k.proc != nil && k.proc.exited() {
		return nil, k.proc.exitError()
	}
	if params == nil {
		params = []any{}
	}
	k.mu.Lock()
	k.rpcSeq++
	seq := k.rpcSeq
	k.mu.Unlock()

	req, err := json.Marshal(rpcRequest{JSONRPC: "2.0", Method: method, Params: params, ID: seq})
	if err != nil {
		return nil, fmt.Errorf("rpc %s: %w", method, err)
	}
	local := filepath.Join(k.sockDir, fmt.Sprintf("c%d.sock", seq))
	_ = os.Remove(local)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("rpc %s: %w", method, err)
	}
	defer func() {
		_ = conn.Close()
		_ = os.Remove(local)
	}()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.WriteToUnix(req, &net.UnixAddr{Name: k.rpcSock, Net: "unixgram"}); err != nil {
		return nil, fmt.Errorf("rpc %s: %w", method, err)
	}
	buf := make([]byte, 256*1024)
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil {
		return nil, fmt.Errorf("rpc %s: %w", method, err)
	}
	var resp rpcResponse
	if err := json.Unmarshal(buf[:n], &resp); err != nil {
		return nil, fmt.Errorf("rpc %s: bad reply %q: %w", method, truncate(string(buf[:n]), 200), err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("%w: %s: %d %s", ErrRPC, method, resp.Error.Code, resp.Error.Message)
	}
	return resp.Result, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Location is one registered contact of a user, as Kamailio's usrloc holds it.
type Location struct {
	AOR       string  // address of record (the user name; usrloc runs without domains)
	Contact   string  // Contact URI as registered, e.g. "sip:alice@127.0.0.1:40001;transport=tcp"
	Path      string  // Path header value stored with it ("" without Path), e.g. "<sip:127.0.0.1:5061;lr>"
	Received  string  // source of the REGISTER when it differs from the contact ("" otherwise)
	Instance  string  // +sip.instance value, e.g. "<urn:uuid:...>" ("" when absent)
	RegID     int     // reg-id (RFC 5626), 0 when absent
	Expires   int     // seconds left
	Q         float64 // q value, -1 when unset
	CallID    string  // Call-ID of the REGISTER
	UserAgent string  // User-Agent of the REGISTER
	Socket    string  // Kamailio socket it arrived on, e.g. "tcp:127.0.0.1:5060"
}

// ulContact mirrors one "Contact" object of ul.lookup/ul.dump in Kamailio 5.6.
type ulContact struct {
	Address   string  `json:"Address"`
	Expires   any     `json:"Expires"`
	Q         float64 `json:"Q"`
	CallID    string  `json:"Call-ID"`
	UserAgent string  `json:"User-Agent"`
	Received  string  `json:"Received"`
	Path      string  `json:"Path"`
	Socket    string  `json:"Socket"`
	Instance  string  `json:"Instance"`
	RegID     int     `json:"Reg-Id"`
}

type ulAOR struct {
	AoR      string `json:"AoR"`
	Contacts []struct {
		Contact ulContact `json:"Contact"`
	} `json:"Contacts"`
}

// Locations returns the registered contacts of user (empty when it has none).
func (k *Kamailio) Locations(user string) ([]Location, error) {
	res, err := k.RPC("ul.lookup", "location", user)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	var aor ulAOR
	if err := json.Unmarshal(res, &aor); err != nil {
		return nil, fmt.Errorf("ul.lookup %s: %w in %s", user, err, truncate(string(res), 300))
	}
	out := make([]Location, 0, len(aor.Contacts))
	for _, c := range aor.Contacts {
		out = append(out, toLocation(aor.AoR, c.Contact))
	}
	return out, nil
}

func toLocation(aor string, c ulContact) Location {
	l := Location{
		AOR: aor, Contact: c.Address, Q: c.Q, CallID: c.CallID, UserAgent: c.UserAgent, Socket: c.Socket,
		Received: nullStr(c.Received), Path: nullStr(c.Path), Instance: nullStr(c.Instance), RegID: c.RegID,
	}
	switch v := c.Expires.(type) {
	case float64:
		l.Expires = int(v)
	case string:
		_, _ = fmt.Sscan(v, &l.Expires)
	}
	return l
}

// nullStr maps Kamailio's "[not set]" placeholder to "".
func nullStr(s string) string {
	if s == "[not set]" {
		return ""
	}
	return s
}

// WaitLocations polls Locations until user has at least n contacts, and returns them.
func (k *Kamailio) WaitLocations(ctx context.Context, user string, n int) ([]Location, error) {
	for {
		locs, err := k.Locations(user)
		if err != nil {
			return nil, err
		}
		if len(locs) >= n {
			return locs, nil
		}
		select {
		case <-ctx.Done():
			return locs, fmt.Errorf("waiting for %d locations of %s (have %d): %w", n, user, len(locs), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Unregister removes every contact of user from the location table (ul.rm).
func (k *Kamailio) Unregister(user string) error {
	_, err := k.RPC("ul.rm", "location", user)
	if isNotFound(err) {
		return nil
	}
	return err
}

// isNotFound reports whether an RPC error says the AOR is not in the table.
func isNotFound(err error) bool {
	return err != nil && errors.Is(err, ErrRPC) && strings.Contains(strings.ToLower(err.Error()), "not found")
}
