// Package softphone is the phone engine behind the `phone` CLI: one SIP
// account registered on a TLS (or TCP/UDP) flow to the edge with RFC 5626
// outbound and keepalives, calls in both directions with SDES-SRTP media,
// hold, DTMF and transfers, and an event stream for the daemon's control API
// (package control, docs/phone-control.md).
//
// A Phone owns one sipgo user agent, one flow to the edge and every call on
// it. All requests leave on the flow; the edge sends requests for the phone
// back over the same connection (the phone runs no TLS server). When the flow
// breaks (connection closed, or no answer to a keepalive within 10 s: a CRLF
// ping on TCP/TLS, a STUN Binding request on UDP, whose answer also reveals a
// NAT rebinding) the phone reconnects at once (then with backoff),
// re-registers, and refreshes the target of its calls with a re-INVITE.
//
// sipgo refuses UDP messages over a process-wide size limit; programs using
// udp:// accounts raise it once in main (see UDPMaxMessage).
//
// # Configuration file
//
// $XDG_CONFIG_HOME/sipedge/phone.yaml (every field optional except user; the
// command-line flags override the selected account):
//
//	accounts:
//	  - name: work                 # --account; default: the user
//	    edge: tls://edge.example.com:5061   # default tls://127.0.0.1:5061; tcp:// and udp:// too
//	    user: alice                # required
//	    auth_user: alice           # digest user; default: user
//	    password: secret           # or $SIPEDGE_PHONE_PASSWORD
//	    domain: example.com        # default: the edge host
//	    display_name: Alice
//	    ca_file: /etc/ssl/edge-ca.pem       # trust only these CAs for the edge
//	    fingerprint: SHA256:AB:CD:...       # pin the edge certificate (hex or base64)
//	    insecure: false            # skip certificate verification (explicit opt-out)
//	    srtp: required             # required (default), optional, off
//	    codecs: [G722, PCMU, PCMA] # preference order (default as shown)
//	    register_expires: 600s     # requested lifetime (10s..24h); refreshed at half
//	    keepalive: 25s             # CRLF ping (TCP/TLS) or STUN binding (UDP) interval; negative disables
//	    auto_answer: false
//	    no_outbound: false         # omit +sip.instance, reg-id and ;ob
//	    no_route: false            # omit the Route header naming the edge
//	    local_ip: ""               # bind SIP/RTP here; default: the address routing to the edge
//	contacts_file: ~/.config/sipedge/contacts.yaml   # default shown
//	history_file: ~/.local/share/sipedge/history.jsonl
//
// Contacts file:
//
//	contacts:
//	  - name: Bob
//	    uri: sip:bob@example.com   # or a user/number on the account's domain: "1002"
//
// The data directory ($XDG_DATA_HOME/sipedge) holds the per-account RFC 5626
// instance id (instance-<account>.uuid) and the call history.
//
// # Audio
//
// A call plays a source (MediaOptions.Play: tone:FREQ, file:PATH.wav,
// silence, device, device:NAME) and records to a sink (MediaOptions.Record:
// a WAV path, null, device, device:NAME). "device" is the system's default
// microphone or speaker, "device:NAME" the one whose name contains NAME
// (case-insensitive; AudioDevices lists them, a name matching nothing fails
// before the call with that list). Devices run through malgo (miniaudio) and
// need a build with cgo; a build without cgo refuses them with
// ErrDeviceAudio and still plays tones and files. Devices run at their own
// rate (S16 mono); audio is resampled to and from the codec's 8 or 16 kHz.
// Between the device thread and the call a ring buffer absorbs the clock
// differences: missing audio is played as silence, and a backlog beyond
// about 100 ms is trimmed by dropping the oldest audio. Options.AudioBackend
// forces a backend ("null" for tests and headless machines).
package softphone
