package phonetest

import (
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/media"
	"github.com/sipedge/sipedge/media/codec"
)

type earlyMedia struct {
	toneHz int
	d      time.Duration
	final  int // status after the early media: 200 answers, anything else fails the call

	heardEarly, heardAnswered atomic.Int64 // packets from the phone before the final response, and in 600 ms after a 200
}

// EarlyHeard returns the packets the early-media source received from the phone before its final
// response, and in the 600 ms after a 200 OK.
func (e *Edge) EarlyHeard() (early, answered int64) {
	e.mu.Lock()
	em := e.early
	e.mu.Unlock()
	if em == nil {
		return 0, 0
	}
	return em.heardEarly.Load(), em.heardAnswered.Load()
}

// EarlyMedia makes the edge answer every INVITE with 183 Session Progress carrying a plain RTP PCMU
// SDP answer, play a toneHz tone (PCMU, 20 ms packets) to the address the phone offered for d, then
// send final (200 with the same SDP, or a failure status such as 404). Use an account with SRTP off.
func (e *Edge) EarlyMedia(toneHz int, d time.Duration, final int) {
	e.mu.Lock()
	e.early = &earlyMedia{toneHz: toneHz, d: d, final: final}
	e.mu.Unlock()
}

func (e *Edge) playEarly(req *sip.Request, tx sip.ServerTransaction, em *earlyMedia) {
	sd, err := media.ParseSDP(req.Body())
	if err != nil || len(sd.MediaDescriptions) == 0 {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	to, err := media.MediaAddr(sd, sd.MediaDescriptions[0])
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		return
	}
	defer conn.Close()
	answered := make(chan struct{})
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := conn.ReadFromUDP(buf); err != nil {
				return
			}
			select {
			case <-answered:
				em.heardAnswered.Add(1)
			default:
				em.heardEarly.Add(1)
			}
		}
	}()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	body := []byte(fmt.Sprintf("v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\n", port))
	respond := func(code int, reason string, b []byte) {
		res := sip.NewResponseFromRequest(req, code, reason, b)
		res.To().Params.Add("tag", "early")
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "ivr", Host: "127.0.0.1", Port: 5099}})
		if b != nil {
			ct := sip.ContentTypeHeader("application/sdp")
			res.AppendHeader(&ct)
		}
		_ = tx.Respond(res)
	}
	respond(183, "Session Progress", body)
	dst := net.UDPAddrFromAddrPort(to)
	pkt := make([]byte, 12+160)
	pkt[0], pkt[1] = 0x80, 0 // RTP v2, PCMU
	binary.BigEndian.PutUint32(pkt[8:], 0xea41)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i, end := 0, time.Now().Add(em.d); time.Now().Before(end); i++ {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
		for j := range 160 {
			s := 12000 * math.Sin(2*math.Pi*float64(em.toneHz)*float64(i*160+j)/8000)
			pkt[12+j] = codec.ULawEncode(int16(s))
		}
		_, _ = conn.WriteToUDP(pkt, dst)
		<-tick.C
	}
	if em.final == 200 {
		close(answered)
		respond(200, "OK", []byte(string(body[:len(body)-len("a=sendonly\r\n")])+"a=sendrecv\r\n"))
		time.Sleep(600 * time.Millisecond)
		return
	}
	respond(em.final, "Failed", nil)
}
