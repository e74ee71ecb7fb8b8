package phonetest

import (
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/media"
	"github.com/sipedge/sipedge/media/codec"
)

type earlyMedia struct {
	toneHz int
	d      time.Duration
	final  int    // status after the early media: 200 answers, anything else fails the call
	dir    string // direction of the 183's SDP: sendonly (an announcement) or sendrecv

	heard EarlyHeard
}

// EarlyHeard counts what the early-media source received from the phone before its final response and in
// the 600 ms after a 200 OK: RTP packets, those carrying sound (a PCMU payload that is not all silence),
// and RTCP packets.
type EarlyHeard struct {
	RTP, Loud, RTCP                         atomic.Int64 // before the final response
	AnsweredRTP, AnsweredLoud, AnsweredRTCP atomic.Int64 // after a 200
}

// Heard returns the counters of the early-media source (nil before EarlyMedia).
func (e *Edge) Heard() *EarlyHeard {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.early == nil {
		return nil
	}
	return &e.early.heard
}

// loud reports whether an RTP packet's PCMU payload carries sound (0xFF and 0x7F are mu-law zero).
func loud(pkt []byte) bool {
	if len(pkt) <= 12 {
		return false
	}
	for _, b := range pkt[12:] {
		if b != 0xFF && b != 0x7F {
			return true
		}
	}
	return false
}

// EarlyMedia makes the edge answer every INVITE with 183 Session Progress carrying a plain RTP PCMU
// SDP answer with direction dir (sendonly or sendrecv), play a toneHz tone (PCMU, 20 ms packets) to the
// address the phone offered for d, then send final (200 with a sendrecv SDP, or a failure status such
// as 404). Use an account with SRTP off.
func (e *Edge) EarlyMedia(toneHz int, d time.Duration, final int, dir string) {
	e.mu.Lock()
	e.early = &earlyMedia{toneHz: toneHz, d: d, final: final, dir: dir}
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
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			rtp, snd, rtcp := &em.heard.RTP, &em.heard.Loud, &em.heard.RTCP
			select {
			case <-answered:
				rtp, snd, rtcp = &em.heard.AnsweredRTP, &em.heard.AnsweredLoud, &em.heard.AnsweredRTCP
			default:
			}
			switch pkt := buf[:n]; {
			case n >= 8 && pkt[1] >= 200 && pkt[1] <= 206:
				rtcp.Add(1)
			case loud(pkt):
				rtp.Add(1)
				snd.Add(1)
			default:
				rtp.Add(1)
			}
		}
	}()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	body := []byte(fmt.Sprintf("v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\na=%s\r\n", port, em.dir))
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
		respond(200, "OK", []byte(strings.Replace(string(body), "a="+em.dir, "a=sendrecv", 1)))
		time.Sleep(600 * time.Millisecond)
		return
	}
	respond(em.final, "Failed", nil)
}
