package media

import (
	"math"
	"testing"
)

func TestEstimateMOSKnownValues(t *testing.T) {
	tests := []struct {
		name              string
		loss, jitter, rtt float64
		codec             string
		want              float64
	}{
		// d = 20 ms: Id = 0.48, Ie_eff = 0, R = 92.72
		{"perfect G.711", 0, 0, 0, "PCMU", 4.4000},
		// Ie_eff = 95*5/(5+25.1) = 15.781, R = 76.939
		{"5% loss G.711", 0.05, 0, 0, "pcma", 3.9033},
		// d = 150 + 40 + 20 = 210: Id = 5.04 + 0.11*32.7 = 8.637, R = 84.563
		{"long delay", 0, 20, 300, "PCMU", 4.1842},
		// Ie = 11, d = 25: Id = 0.6, R = 81.6
		{"G.729 clean", 0, 0, 0, "G729", 4.0830},
	}
	for _, tt := range tests {
		got := EstimateMOS(tt.loss, tt.jitter, tt.rtt, tt.codec)
		if math.Abs(got-tt.want) > 0.0005 {
			t.Errorf("%s: MOS %.4f, want %.4f", tt.name, got, tt.want)
		}
	}
}

func TestEstimateMOSShape(t *testing.T) {
	prev := 5.0
	for loss := 0.0; loss <= 1; loss += 0.05 {
		m := EstimateMOS(loss, 10, 50, "PCMU")
		if m > prev || m < 1 || m > 4.5 {
			t.Fatalf("loss %.2f: MOS %.3f (previous %.3f)", loss, m, prev)
		}
		prev = m
	}
	if EstimateMOS(0, 0, 0, "PCMU") <= EstimateMOS(0, 40, 0, "PCMU") {
		t.Error("jitter does not lower the score")
	}
	if EstimateMOS(0, 0, 0, "PCMU") <= EstimateMOS(0, 0, 800, "PCMU") {
		t.Error("RTT does not lower the score")
	}
	if EstimateMOS(0.02, 0, 0, "GSM") >= EstimateMOS(0.02, 0, 0, "PCMU") {
		t.Error("GSM scores as well as G.711")
	}
	if EstimateMOS(0, 0, 0, "unknown-codec") != EstimateMOS(0, 0, 0, "PCMU") {
		t.Error("unknown codec is not scored as G.711")
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -5, 1e300} {
		m := EstimateMOS(v, v, v, "opus")
		if math.IsNaN(m) || m < 1 || m > 4.5 {
			t.Errorf("input %v: MOS %v", v, m)
		}
	}
	if m := EstimateMOS(1, 0, 0, "PCMU"); m > 1.5 {
		t.Errorf("total loss scores %.2f", m)
	}
}
