package media

import (
	"math"
	"strings"
)

// codecImpairment holds the E-model inputs of a codec: equipment impairment Ie, packet
// loss robustness Bpl (ITU-T G.113 appendix I values where listed) and the codec's own
// delay in ms (20 ms packetisation plus algorithmic look-ahead).
type codecImpairment struct {
	ie, bpl, delayMs float64
}

var codecImpairments = map[string]codecImpairment{
	"pcmu": {0, 25.1, 20}, // G.711 with packet loss concealment
	"pcma": {0, 25.1, 20},
	"g711": {0, 25.1, 20},
	"g722": {0, 25.1, 21.5}, // scored on the narrowband scale: its wideband gain is not modelled
	"g729": {11, 19.0, 25},
	"opus": {0, 25.1, 26.5}, // assumption: Opus at VoIP bit rates ~ G.711 quality, 6.5 ms look-ahead
	"gsm":  {20, 10.0, 20},
}

// E-model constants (ITU-T G.107 defaults).
const (
	emodelR0MinusIs = 93.2  // basic signal-to-noise ratio minus simultaneous impairments
	emodelIdKnee    = 177.3 // ms: delay impairment grows faster beyond this one-way delay
)

// EstimateMOS estimates the listening/conversational quality of a call leg as a mean
// opinion score from 1 (bad) to 4.5 (the narrowband maximum), with a simplified
// ITU-T G.107 E-model:
//
//	d      = rttMs/2 + 2*jitterMs + codec delay     one-way delay in ms (jitter buffer ~ 2x jitter)
//	Id     = 0.024*d + 0.11*(d-177.3) if d > 177.3 (else only the first term)
//	Ppl    = 100 * lossFraction                    random loss in percent (BurstR = 1)
//	Ie_eff = Ie + (95-Ie) * Ppl/(Ppl+Bpl)
//	R      = 93.2 - Id - Ie_eff
//	MOS    = 1 + 0.035*R + 7e-6*R*(R-60)*(100-R), clamped to 1..4.5 (R <= 0 -> 1)
//
// codec is a payload name ("PCMU", "PCMA", "G722", "G729", "opus", "GSM"; case-insensitive);
// an unknown codec is scored as G.711. lossFraction is 0..1; negative or NaN inputs count
// as 0 and a loss above 1 as 1.
func EstimateMOS(lossFraction float64, jitterMs, rttMs float64, codec string) float64 {
	ci, ok := codecImpairments[strings.ToLower(codec)]
	if !ok {
		ci = codecImpairments["pcmu"]
	}
	loss := math.Min(nonNegative(lossFraction), 1)
	d := nonNegative(rttMs)/2 + 2*nonNegative(jitterMs) + ci.delayMs
	id := 0.024 * d
	if d > emodelIdKnee {
		id += 0.11 * (d - emodelIdKnee)
	}
	ppl := 100 * loss
	ieEff := ci.ie + (95-ci.ie)*ppl/(ppl+ci.bpl)
	r := emodelR0MinusIs - id - ieEff

	return rToMOS(r)
}

// rToMOS is the G.107 R-factor to MOS mapping.
func rToMOS(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	mos := 1 + 0.035*r + 7e-6*r*(r-60)*(100-r)

	return math.Max(1, math.Min(4.5, mos))
}

func nonNegative(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	if math.IsInf(v, 1) {
		return math.MaxFloat64 / 4
	}

	return v
}
