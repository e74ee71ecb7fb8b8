package jitter_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sipedge/sipedge/media/audio"
	"github.com/sipedge/sipedge/media/codec"
	"github.com/sipedge/sipedge/media/jitter"
)

// A 440 Hz tone sent as PCMU over a path with 0-60 ms jitter and 3% loss
// comes out of buffer + decoder + PLC as a continuous 440 Hz tone.
func TestReceivePathEndToEnd(t *testing.T) {
	const frames = 500 // 10 s
	rng := rand.New(rand.NewPCG(3, 4))
	tone, _ := audio.NewToneSource(440, 8000, 0.5)
	enc, _ := codec.New("PCMU")
	type pkt struct {
		seq     uint16
		ts      uint32
		arrival time.Duration
		payload []byte
	}
	var pkts []pkt
	pcm := make([]int16, 160)
	for i := range frames {
		_ = tone.ReadFrame(pcm)
		if rng.Float64() < 0.03 {
			continue
		}
		pkts = append(pkts, pkt{
			seq: uint16(60000 + i), ts: uint32(i * 160),
			arrival: time.Duration(i)*20*time.Millisecond + time.Duration(rng.IntN(60))*time.Millisecond,
			payload: enc.Encode(nil, pcm),
		})
	}
	slices.SortStableFunc(pkts, func(a, b pkt) int { return int(a.arrival - b.arrival) })

	buf, err := jitter.New(jitter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	plc, _ := jitter.NewPLC(8000)
	dec, _ := codec.New("PCMU")
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []int16
	frame := make([]int16, 0, 160)
	i := 0
	for now := time.Duration(0); now < 10500*time.Millisecond; now += 20 * time.Millisecond {
		for ; i < len(pkts) && pkts[i].arrival <= now; i++ {
			buf.Push(pkts[i].seq, pkts[i].ts, pkts[i].payload, start.Add(pkts[i].arrival))
		}
		f := buf.Pop(start.Add(now))
		switch f.Kind {
		case jitter.KindFrame:
			frame = dec.Decode(frame[:0], f.Payload)
			plc.Good(frame)
		case jitter.KindLost:
			frame = frame[:160]
			plc.Conceal(frame)
		default:
			frame = frame[:160]
			clear(frame)
		}
		out = append(out, frame...)
	}
	st := buf.Stats()
	t.Logf("%+v", st)
	// Skip the priming at the start and the fade after the end.
	body := out[8000 : 9*8000]
	if f := audio.DominantFrequency(body, 8000); math.Abs(f-440) > 1 {
		t.Fatalf("dominant %g Hz", f)
	}
	// Continuity: 1 s windows keep most of the tone's level; nothing drops
	// out for long.
	for w := 0; w+8000 <= len(body); w += 8000 {
		if lvl := audio.ToneLevel(body[w:w+8000], 8000, 440); lvl < 0.8*16383 {
			t.Errorf("second %d: 440 Hz level %.0f", w/8000, lvl)
		}
	}
	if st.Played < frames*90/100 {
		t.Errorf("played %d of %d", st.Played, frames)
	}
}
