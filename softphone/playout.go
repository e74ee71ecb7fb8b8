package softphone

import (
	"time"

	"github.com/sipedge/sipedge/media/codec"
	"github.com/sipedge/sipedge/media/jitter"
)

type playStatus int

const (
	playNotStarted playStatus = iota
	playOK
	playConcealed
)

// playout couples the shared adaptive jitter buffer with decoding and packet
// loss concealment for the 20 ms player.
type playout struct {
	info    codec.Info
	jb      *jitter.Buffer
	plc     *jitter.PLC
	started bool
}

func newPlayout(info codec.Info) (*playout, error) {
	jb, err := jitter.New(jitter.Config{ClockRate: info.ClockRate, FrameDuration: frameDur})
	if err != nil {
		return nil, err
	}
	plc, err := jitter.NewPLC(info.SampleRate)
	if err != nil {
		return nil, err
	}
	return &playout{info: info, jb: jb, plc: plc}, nil
}

func (p *playout) put(seq uint16, ts uint32, payload []byte, arrival time.Time) {
	p.jb.Push(seq, ts, payload, arrival)
}

// next returns the frame to play now: decoded audio, a concealed frame, or
// silence once the stream has started (so a recording keeps real time).
func (p *playout) next(dec codec.Codec, buf *[]int16, now time.Time) ([]int16, playStatus) {
	f := p.jb.Pop(now)
	n := p.info.SamplesPerFrame(20)
	switch f.Kind {
	case jitter.KindFrame:
		p.started = true
		out := dec.Decode((*buf)[:0], f.Payload)
		*buf = out
		p.plc.Good(out)
		return out, playOK
	case jitter.KindLost:
		if !p.started {
			return nil, playNotStarted
		}
		out := append((*buf)[:0], make([]int16, n)...)
		p.plc.Conceal(out)
		*buf = out
		return out, playConcealed
	}
	if !p.started {
		return nil, playNotStarted
	}
	out := append((*buf)[:0], make([]int16, n)...)
	*buf = out
	return out, playOK
}
