package codec_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sipedge/sipedge/media/audio"
	"github.com/sipedge/sipedge/media/codec"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRegistry(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pt         uint8
		clock, smp int
		bytes20    int
	}{{"PCMU", 0, 8000, 8000, 160}, {"PCMA", 8, 8000, 8000, 160}, {"G722", 9, 8000, 16000, 160}} {
		in, ok := codec.Lookup(tc.name)
		if !ok || in.PayloadType != tc.pt || in.ClockRate != tc.clock || in.SampleRate != tc.smp {
			t.Fatalf("Lookup(%s) = %+v, %v", tc.name, in, ok)
		}
		if in.PayloadBytes(20) != tc.bytes20 || in.TimestampIncrement(20) != 160 || in.SamplesPerFrame(20) != tc.smp/50 {
			t.Errorf("%s 20 ms: %d bytes, ts +%d, %d samples", tc.name, in.PayloadBytes(20), in.TimestampIncrement(20), in.SamplesPerFrame(20))
		}
		if byPT, ok := codec.ByPayloadType(tc.pt); !ok || byPT != in {
			t.Errorf("ByPayloadType(%d) = %+v", tc.pt, byPT)
		}
		for _, n := range []string{tc.name, strings.ToLower(tc.name)} {
			c, err := codec.New(n)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name() != tc.name || c.PayloadType() != tc.pt || c.ClockRate() != tc.clock || c.SampleRate() != tc.smp {
				t.Errorf("New(%q) = %s/%d/%d/%d", n, c.Name(), c.PayloadType(), c.ClockRate(), c.SampleRate())
			}
		}
		c, err := codec.NewByPayloadType(tc.pt)
		if err != nil || c.Name() != tc.name {
			t.Errorf("NewByPayloadType(%d) = %v, %v", tc.pt, c, err)
		}
	}
	if _, err := codec.New("opus"); !errors.Is(err, codec.ErrUnknownCodec) {
		t.Errorf("New(opus) = %v", err)
	}
	if _, err := codec.NewByPayloadType(18); !errors.Is(err, codec.ErrUnknownPayloadType) {
		t.Errorf("NewByPayloadType(18) = %v", err)
	}
	if _, ok := codec.Lookup("G729"); ok {
		t.Error("G729 found")
	}
	if _, ok := codec.ByPayloadType(101); ok {
		t.Error("PT 101 found")
	}
	if all := codec.All(); len(all) != 3 || all[0].Name != "G722" {
		t.Errorf("All() = %+v", all)
	}
}

// Known values. Encoding follows ITU-T G.191 g711.c; every A-law code and
// every μ-law code of a non-negative sample also matches the Sun g711.c
// (CPython audioop), checked over all 65536 inputs when this was written.
func TestG711KnownValues(t *testing.T) {
	ulaw := []struct {
		in   int16
		code uint8
	}{
		{0, 0xFF}, {-1, 0x7F}, {-4, 0x7F}, {-5, 0x7E}, {1000, 0xCE}, {-1000, 0x4E},
		{8059, 0xA0}, {8060, 0x9F}, // 2015 in 14-bit units: a G.711 segment edge
		{32124, 0x80}, {32767, 0x80}, {-32768, 0x00},
	}
	for _, v := range ulaw {
		if got := codec.ULawEncode(v.in); got != v.code {
			t.Errorf("μ-law encode %d = %#02x, want %#02x", v.in, got, v.code)
		}
	}
	ulawDec := map[uint8]int16{0xFF: 0, 0x7F: 0, 0x80: 32124, 0x00: -32124, 0xCE: 988, 0x4E: -988, 0xF0: 120}
	for c, want := range ulawDec {
		if got := codec.ULawDecode(c); got != want {
			t.Errorf("μ-law decode %#02x = %d, want %d", c, got, want)
		}
	}
	alaw := []struct {
		in   int16
		code uint8
	}{{0, 0xD5}, {-1, 0x55}, {-16, 0x55}, {-17, 0x54}, {1000, 0xFA}, {32767, 0xAA}, {-32768, 0x2A}}
	for _, v := range alaw {
		if got := codec.ALawEncode(v.in); got != v.code {
			t.Errorf("A-law encode %d = %#02x, want %#02x", v.in, got, v.code)
		}
	}
	alawDec := map[uint8]int16{0xD5: 8, 0x55: -8, 0xAA: 32256, 0x2A: -32256, 0xFA: 1008}
	for c, want := range alawDec {
		if got := codec.ALawDecode(c); got != want {
			t.Errorf("A-law decode %#02x = %d, want %d", c, got, want)
		}
	}
}

// Every code decodes to a value that encodes back to the same code (μ-law
// negative zero 0x7F becomes positive zero 0xFF), and the transfer curve is
// monotonic with the G.711 step size.
func TestG711Properties(t *testing.T) {
	for c := range 256 {
		u := uint8(c)
		if got := codec.ULawEncode(codec.ULawDecode(u)); got != u && u != 0x7F {
			t.Errorf("μ-law %#02x -> %d -> %#02x", u, codec.ULawDecode(u), got)
		}
		if got := codec.ALawEncode(codec.ALawDecode(u)); got != u {
			t.Errorf("A-law %#02x -> %d -> %#02x", u, codec.ALawDecode(u), got)
		}
	}
	prevU, prevA := int16(math.MinInt16), int16(math.MinInt16)
	for x := math.MinInt16; x <= math.MaxInt16; x++ {
		u := codec.ULawDecode(codec.ULawEncode(int16(x)))
		a := codec.ALawDecode(codec.ALawEncode(int16(x)))
		if u < prevU || a < prevA {
			t.Fatalf("not monotonic at %d", x)
		}
		prevU, prevA = u, a
		// Quantisation error is at most half a step: 1/32 of the magnitude
		// plus the smallest step (clipping excepted).
		ax := math.Abs(float64(x))
		if ax < 32000 {
			if e := math.Abs(float64(u) - float64(x)); e > ax/32+8 {
				t.Fatalf("μ-law error %g at %d", e, x)
			}
			if e := math.Abs(float64(a) - float64(x)); e > ax/32+16 {
				t.Fatalf("A-law error %g at %d", e, x)
			}
		}
	}
}

func tone(freq float64, rate, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// snr returns the signal-to-noise ratio of got against ref in dB, at the
// best alignment within maxLag samples (G.722's QMF filters delay the
// signal), skipping the first skip samples while the codec settles.
func snr(ref, got []int16, maxLag, skip int) (float64, int) {
	best, bestLag := math.Inf(-1), 0
	for lag := 0; lag <= maxLag; lag++ {
		var sig, noise float64
		for i := skip; i+lag < len(got) && i < len(ref); i++ {
			e := float64(got[i+lag]) - float64(ref[i])
			sig += float64(ref[i]) * float64(ref[i])
			noise += e * e
		}
		if s := 10 * math.Log10(sig/noise); s > best {
			best, bestLag = s, lag
		}
	}
	return best, bestLag
}

func TestRoundTripTone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		freqs  []float64
		amp    float64
		minSNR float64
	}{
		{"PCMU", []float64{300, 1000, 3000}, 16000, 37},
		{"PCMU", []float64{1000}, 500, 30}, // companding keeps quiet signals clean
		{"PCMA", []float64{300, 1000, 3000}, 16000, 37},
		{"PCMA", []float64{1000}, 500, 30},
		{"G722", []float64{300, 1000, 3000}, 10000, 38},
		{"G722", []float64{6000}, 10000, 24}, // the 4-8 kHz band gets 2 bits per sample
	} {
		for _, f := range tc.freqs {
			c, _ := codec.New(tc.name)
			rate := c.SampleRate()
			frame := rate / 50
			in := tone(f, rate, rate, tc.amp) // 1 s
			var payload []byte
			var out []int16
			for i := 0; i < len(in); i += frame {
				payload = c.Encode(payload[:0], in[i:i+frame])
				if len(payload) != 160 {
					t.Fatalf("%s: %d-byte payload for 20 ms", tc.name, len(payload))
				}
				out = c.Decode(out, payload)
			}
			if len(out) != len(in) {
				t.Fatalf("%s: %d samples decoded, want %d", tc.name, len(out), len(in))
			}
			if df := audio.DominantFrequency(out, rate); math.Abs(df-f) > 2 {
				t.Errorf("%s %g Hz: dominant %g Hz", tc.name, f, df)
			}
			s, lag := snr(in, out, 64, 800)
			if s < tc.minSNR {
				t.Errorf("%s %g Hz amp %g: SNR %.1f dB (lag %d), want > %g", tc.name, f, tc.amp, s, lag, tc.minSNR)
			}
			t.Logf("%s %5g Hz amp %5g: SNR %.1f dB, lag %d", tc.name, f, tc.amp, s, lag)
		}
	}
}

func TestAppendSemantics(t *testing.T) {
	for _, name := range []string{"PCMU", "PCMA", "G722"} {
		c, _ := codec.New(name)
		pcm := tone(1000, c.SampleRate(), c.SampleRate()/50, 8000)
		hdr := []byte{0xAA, 0xBB}
		out := c.Encode(hdr, pcm)
		if out[0] != 0xAA || out[1] != 0xBB || len(out) != 162 {
			t.Errorf("%s: Encode did not append: len %d", name, len(out))
		}
		dec := c.Decode([]int16{7}, out[2:])
		if dec[0] != 7 || len(dec) != 1+len(pcm) {
			t.Errorf("%s: Decode did not append: len %d", name, len(dec))
		}
		if got := c.Encode(nil, nil); len(got) != 0 {
			t.Errorf("%s: empty encode gave %d bytes", name, len(got))
		}
		if got := c.Decode(nil, nil); len(got) != 0 {
			t.Errorf("%s: empty decode gave %d samples", name, len(got))
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, name := range []string{"PCMU", "PCMA", "G722"} {
		c, _ := codec.New(name)
		pcm := tone(1000, c.SampleRate(), c.SampleRate()/50, 8000)
		payload := make([]byte, 0, 160)
		out := make([]int16, 0, len(pcm))
		allocs := testing.AllocsPerRun(200, func() {
			payload = c.Encode(payload[:0], pcm)
			out = c.Decode(out[:0], payload)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per frame", name, allocs)
		}
	}
}

// G.722 state: a fresh instance, odd frame sizes and Reset.
func TestG722Stateful(t *testing.T) {
	in := tone(1000, 16000, 3200, 8000)
	whole := codec.NewG722().Encode(nil, in)

	odd := codec.NewG722()
	var chunks []byte
	for i, sizes := 0, []int{1, 3, 320, 7, 2, 161}; i < len(in); {
		n := min(sizes[len(chunks)%len(sizes)], len(in)-i)
		chunks = odd.Encode(chunks, in[i:i+n])
		i += n
	}
	if string(chunks) != string(whole) {
		t.Fatalf("odd-sized frames encode differently (%d vs %d bytes)", len(chunks), len(whole))
	}

	c := codec.NewG722()
	first := c.Encode(nil, in[:320])
	again := c.Encode(nil, in[:320])
	if string(first) == string(again) {
		t.Fatal("encoder kept no state between frames")
	}
	c.Reset()
	if got := c.Encode(nil, in[:320]); string(got) != string(first) {
		t.Fatal("Reset did not restore the initial state")
	}
	// Two streams do not share state.
	a, b := codec.NewG722(), codec.NewG722()
	_ = a.Encode(nil, in)
	if got := b.Encode(nil, in[:320]); string(got) != string(first) {
		t.Fatal("instances share state")
	}
}

// Silence and full-scale square waves must not overflow.
func TestExtremes(t *testing.T) {
	for _, name := range []string{"PCMU", "PCMA", "G722"} {
		c, _ := codec.New(name)
		n := c.SampleRate() / 50
		sq := make([]int16, 10*n)
		for i := range sq {
			if (i/8)%2 == 0 {
				sq[i] = math.MaxInt16
			} else {
				sq[i] = math.MinInt16
			}
		}
		out := c.Decode(nil, c.Encode(nil, sq))
		if len(out) != len(sq) || audio.RMS(out) < 20000 {
			t.Errorf("%s square: %d samples, RMS %g", name, len(out), audio.RMS(out))
		}
		c, _ = codec.New(name)
		sil := c.Decode(nil, c.Encode(nil, make([]int16, 10*n)))
		if audio.RMS(sil) > 10 {
			t.Errorf("%s silence: RMS %g", name, audio.RMS(sil))
		}
	}
}
