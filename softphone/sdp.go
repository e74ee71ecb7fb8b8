package softphone

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/sipedge/sipedge/media"
	"github.com/sipedge/sipedge/media/codec"
)

// DTMFPayloadType is the dynamic payload type this phone offers for telephone-event.
const DTMFPayloadType = 101

// localSDP is this side's media description state for one call. Session id and
// version persist over the dialog (the version grows with each new SDP).
type localSDP struct {
	addr     netip.AddrPort // RTP (and, with rtcp-mux, RTCP) socket
	codecs   []codec.Info
	srtp     string // SRTPRequired, SRTPOptional, SRTPOff
	sessID   uint64
	version  uint64
	offered  []media.CryptoAttr // our offered crypto lines (offerer side)
	txKey    media.CryptoAttr   // key we encrypt with once negotiated
	hasTxKey bool
}

// Negotiated is the outcome of an offer/answer exchange for the audio stream.
type Negotiated struct {
	// Codec is the audio codec both sides send, with its payload type.
	Codec codec.Info
	PT    uint8
	// DTMF reports whether telephone-event was agreed, with its payload type.
	DTMF   bool
	DTMFPT uint8
	// Remote is where we send RTP; RemoteRTCP where we send RTCP.
	Remote     netip.AddrPort
	RemoteRTCP netip.AddrPort
	RTCPMux    bool
	// SRTP reports whether the stream is encrypted; TxKey keys our Encryptor,
	// RxKey the Decryptor.
	SRTP         bool
	TxKey, RxKey media.CryptoAttr
	// Send and Recv say whether we send and receive media (from the directions).
	Send, Recv bool
	// RemoteHold reports that the peer put the call on hold (sendonly/inactive or 0.0.0.0).
	RemoteHold bool
	// PTimeMs is the packetization time we use.
	PTimeMs int
}

// Suite returns the SRTP suite name or "none".
func (n Negotiated) Suite() string {
	if !n.SRTP {
		return "none"
	}
	return string(n.TxKey.Suite)
}

// offer builds an SDP offer with direction dir.
func (l *localSDP) offer(dir sdp.Direction) ([]byte, error) {
	if l.srtp != SRTPOff && len(l.offered) == 0 {
		cs, err := media.OfferCryptos()
		if err != nil {
			return nil, err
		}
		l.offered = cs
	}
	md := l.mediaSection(l.codecs, DTMFPayloadType, true, dir)
	if l.srtp != SRTPOff {
		if err := media.SetSRTP(md, true); err != nil {
			return nil, err
		}
		media.SetCrypto(md, l.offered...)
	}
	return l.marshal(md)
}

// answer answers an SDP offer (hold: we are holding, so our direction is at most sendonly).
func (l *localSDP) answer(offer []byte, localHold bool) ([]byte, Negotiated, error) {
	sd, md, err := audioSection(offer)
	if err != nil {
		return nil, Negotiated{}, err
	}
	var n Negotiated
	n.PTimeMs = 20
	savp := media.IsSRTP(md)
	offered, _ := media.CryptosOf(md)
	// SDES over RTP/AVP (baresip "mediaenc=srtp", best effort) counts as SRTP too.
	secure := savp || (media.IsPlainRTP(md) && len(offered) > 0 && l.srtp != SRTPOff)
	switch {
	case savp && l.srtp == SRTPOff:
		return nil, n, fmt.Errorf("%w: the offer is SRTP-only (RTP/SAVP) and this account has srtp: off", ErrBadSDP)
	case !secure && !media.IsPlainRTP(md):
		return nil, n, fmt.Errorf("%w: unsupported media transport %q", ErrBadSDP, media.Transport(md))
	case !secure && l.srtp == SRTPRequired:
		return nil, n, fmt.Errorf("%w (offer uses %s)", ErrSRTPRequired, media.Transport(md))
	}
	pt, info, ok := pickCodec(md, l.codecs)
	if !ok {
		return nil, n, fmt.Errorf("%w: offered %s, we support %s", ErrNoCommonCodec, strings.Join(md.MediaName.Formats, " "), codecNames(l.codecs))
	}
	n.Codec, n.PT = info, pt
	n.DTMFPT, n.DTMF = telephoneEventPT(md)
	if err := fillRemote(&n, sd, md); err != nil {
		return nil, n, err
	}
	if secure {
		remote, ok := media.SelectCrypto(offered)
		if !ok {
			return nil, n, fmt.Errorf("%w: %v", ErrSRTPRequired, media.ErrNoCommonSuite)
		}
		if !l.hasTxKey || l.txKey.Suite != remote.Suite {
			if l.txKey, err = media.NewCryptoAttr(remote.Tag, remote.Suite); err != nil {
				return nil, n, err
			}
			l.hasTxKey = true
		}
		l.txKey.Tag = remote.Tag
		n.SRTP, n.RxKey, n.TxKey = true, remote, l.txKey
	}
	offDir := media.Direction(sd, md)
	n.RemoteHold = offDir == sdp.DirectionSendOnly || offDir == sdp.DirectionInactive || n.Remote.Addr().IsUnspecified()
	ansDir := media.ReverseDirection(offDir)
	if localHold {
		ansDir = holdDirection(ansDir)
	}
	n.Send = ansDir == sdp.DirectionSendRecv || ansDir == sdp.DirectionSendOnly
	n.Recv = ansDir == sdp.DirectionSendRecv || ansDir == sdp.DirectionRecvOnly
	dtmfPT := -1
	if n.DTMF {
		dtmfPT = int(n.DTMFPT)
	}
	out := l.mediaSection([]codec.Info{withPT(info, pt)}, dtmfPT, n.RTCPMux, ansDir)
	if secure {
		if savp {
			if err := media.SetSRTP(out, true); err != nil {
				return nil, n, err
			}
		}
		media.SetCrypto(out, l.txKey)
	}
	// The answer has a section for every offered one (RFC 3264 §6): the others (video, T.38, ...) are
	// refused with port 0.
	sections := make([]*sdp.MediaDescription, len(sd.MediaDescriptions))
	for i, o := range sd.MediaDescriptions {
		if o == md {
			sections[i] = out
		} else {
			sections[i] = refusedSection(o)
		}
	}
	body, err := l.marshal(sections...)
	return body, n, err
}

// refusedSection answers an offered media section this phone does not take (RFC 3264 §6: port 0,
// the same media and transport, the offer's formats).
func refusedSection(o *sdp.MediaDescription) *sdp.MediaDescription {
	formats := o.MediaName.Formats
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	return &sdp.MediaDescription{MediaName: sdp.MediaName{Media: o.MediaName.Media, Port: sdp.RangedPort{Value: 0},
		Protos: o.MediaName.Protos, Formats: formats}}
}

// applyAnswer interprets the answer to our offer.
func (l *localSDP) applyAnswer(answer []byte, localHold bool) (Negotiated, error) {
	sd, md, err := audioSection(answer)
	if err != nil {
		return Negotiated{}, err
	}
	var n Negotiated
	n.PTimeMs = 20
	pt, info, ok := pickCodec(md, l.codecs)
	if !ok {
		return n, fmt.Errorf("%w: answer lists %s", ErrNoCommonCodec, strings.Join(md.MediaName.Formats, " "))
	}
	n.Codec, n.PT = info, pt
	n.DTMFPT, n.DTMF = telephoneEventPT(md)
	if err := fillRemote(&n, sd, md); err != nil {
		return n, err
	}
	answerCryptos, _ := media.CryptosOf(md)
	switch {
	case media.IsSRTP(md) || (len(answerCryptos) > 0 && len(l.offered) > 0):
		if len(l.offered) == 0 {
			return n, fmt.Errorf("%w: the answer uses SRTP but we offered plain RTP", ErrBadSDP)
		}
		cs, _ := media.CryptosOf(md)
		if len(cs) != 1 {
			return n, fmt.Errorf("%w: the answer has %d usable crypto lines, want 1", ErrBadSDP, len(cs))
		}
		ours, err := media.MatchAnswer(l.offered, cs[0])
		if err != nil {
			return n, fmt.Errorf("%w: %v", ErrBadSDP, err)
		}
		l.txKey, l.hasTxKey = ours, true
		n.SRTP, n.TxKey, n.RxKey = true, ours, cs[0]
	case l.srtp == SRTPRequired:
		return n, fmt.Errorf("%w (answer uses %s)", ErrSRTPRequired, media.Transport(md))
	}
	ansDir := media.Direction(sd, md)
	n.RemoteHold = ansDir == sdp.DirectionSendOnly || ansDir == sdp.DirectionInactive
	ourDir := media.ReverseDirection(ansDir)
	if localHold {
		ourDir = holdDirection(ourDir)
	}
	n.Send = ourDir == sdp.DirectionSendRecv || ourDir == sdp.DirectionSendOnly
	n.Recv = ourDir == sdp.DirectionSendRecv || ourDir == sdp.DirectionRecvOnly
	return n, nil
}

// holdDirection limits a direction to what a holding side may do: send only (music) or nothing.
func holdDirection(d sdp.Direction) sdp.Direction {
	if d == sdp.DirectionSendRecv || d == sdp.DirectionSendOnly {
		return sdp.DirectionSendOnly
	}
	return sdp.DirectionInactive
}

func withPT(i codec.Info, pt uint8) codec.Info { i.PayloadType = pt; return i }

// mediaSection builds the m=audio section. dtmfPT < 0 omits telephone-event.
func (l *localSDP) mediaSection(codecs []codec.Info, dtmfPT int, rtcpMux bool, dir sdp.Direction) *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: int(l.addr.Port())}, Protos: []string{"RTP", "AVP"}},
	}
	for _, c := range codecs {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(c.PayloadType)))
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/%d", c.PayloadType, c.Name, c.ClockRate)))
	}
	if dtmfPT >= 0 {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(dtmfPT))
		md.Attributes = append(md.Attributes,
			sdp.NewAttribute("rtpmap", fmt.Sprintf("%d telephone-event/8000", dtmfPT)),
			sdp.NewAttribute("fmtp", fmt.Sprintf("%d 0-16", dtmfPT)))
	}
	md.Attributes = append(md.Attributes, sdp.NewAttribute("ptime", "20"))
	if rtcpMux {
		media.SetRTCPMux(md, true)
	}
	media.SetDirection(md, dir)
	return md
}

func (l *localSDP) marshal(mds ...*sdp.MediaDescription) ([]byte, error) {
	if l.sessID == 0 {
		l.sessID = uint64(newSessionNumber())
	}
	l.version++
	at := "IP4"
	if l.addr.Addr().Is6() {
		at = "IP6"
	}
	sd := &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{Username: "-", SessionID: l.sessID, SessionVersion: l.version,
			NetworkType: "IN", AddressType: at, UnicastAddress: l.addr.Addr().String()},
		SessionName:           "sipedge-phone",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: at, Address: &sdp.Address{Address: l.addr.Addr().String()}},
		TimeDescriptions:      []sdp.TimeDescription{{Timing: sdp.Timing{}}},
		MediaDescriptions:     mds,
	}
	return sd.Marshal()
}

// audioSection parses an SDP body and returns its first active audio section.
func audioSection(body []byte) (*sdp.SessionDescription, *sdp.MediaDescription, error) {
	if len(body) == 0 {
		return nil, nil, fmt.Errorf("%w: empty body", ErrBadSDP)
	}
	sd, err := media.ParseSDP(body) // keeps sections pion refuses (T.38 "m=image ... udptl") to refuse them
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media == "audio" && md.MediaName.Port.Value != 0 {
			return sd, md, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: no active audio stream", ErrBadSDP)
}

// fillRemote sets the remote RTP/RTCP addresses.
func fillRemote(n *Negotiated, sd *sdp.SessionDescription, md *sdp.MediaDescription) error {
	addr, err := media.MediaAddr(sd, md)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	n.Remote = addr
	n.RTCPMux = media.HasRTCPMux(md)
	if rtcp, err := media.RTCPAddr(sd, md); err == nil {
		n.RemoteRTCP = rtcp
	} else {
		n.RemoteRTCP = netip.AddrPortFrom(addr.Addr(), addr.Port()+1)
	}
	return nil
}

// rtpmaps returns payload type -> (encoding name, clock rate) of a media section.
func rtpmaps(md *sdp.MediaDescription) map[uint8]struct {
	name string
	rate int
} {
	out := map[uint8]struct {
		name string
		rate int
	}{}
	for _, a := range md.Attributes {
		if !strings.EqualFold(a.Key, "rtpmap") {
			continue
		}
		ptS, rest, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		if !ok {
			continue
		}
		pt, err := strconv.Atoi(ptS)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		name, rateS, _ := strings.Cut(strings.TrimSpace(rest), "/")
		rateS, _, _ = strings.Cut(rateS, "/")
		rate, _ := strconv.Atoi(rateS)
		out[uint8(pt)] = struct {
			name string
			rate int
		}{name, rate}
	}
	return out
}

// pickCodec returns the first format of md (the offerer's preference) that we support.
func pickCodec(md *sdp.MediaDescription, ours []codec.Info) (uint8, codec.Info, bool) {
	maps := rtpmaps(md)
	for _, f := range md.MediaName.Formats {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 127 {
			continue
		}
		pt := uint8(n)
		var info codec.Info
		if m, ok := maps[pt]; ok {
			i, found := codec.Lookup(m.name)
			if !found || (m.rate != 0 && m.rate != i.ClockRate) {
				continue
			}
			info = i
		} else if i, found := codec.ByPayloadType(pt); found && pt < 96 {
			info = i
		} else {
			continue
		}
		for _, o := range ours {
			if o.Name == info.Name {
				return pt, info, true
			}
		}
	}
	return 0, codec.Info{}, false
}

// telephoneEventPT returns the payload type of telephone-event/8000 in md.
func telephoneEventPT(md *sdp.MediaDescription) (uint8, bool) {
	maps := rtpmaps(md)
	for _, f := range md.MediaName.Formats {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 127 {
			continue
		}
		if m, ok := maps[uint8(n)]; ok && strings.EqualFold(m.name, "telephone-event") && (m.rate == 8000 || m.rate == 0) {
			return uint8(n), true
		}
	}
	return 0, false
}

func codecNames(cs []codec.Info) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// codecInfos maps configured codec names to their descriptions.
func codecInfos(names []string) ([]codec.Info, error) {
	out := make([]codec.Info, 0, len(names))
	for _, n := range names {
		i, ok := codec.Lookup(n)
		if !ok {
			return nil, errors.Join(ErrConfig, fmt.Errorf("codec %q is not supported", n))
		}
		out = append(out, i)
	}
	return out, nil
}
