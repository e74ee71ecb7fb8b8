package testpeers

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/sipedge/sipedge/media/audio"
)

// AssertTone checks that a WAV recording holds at least half a second of audio whose dominant frequency
// (after the first 200 ms of codec start-up) is within 3% of want.
func AssertTone(t testing.TB, path string, want float64) {
	t.Helper()
	pcm, rate, err := audio.ReadWAV(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(pcm) < rate/2 {
		t.Fatalf("%s: only %d samples at %d Hz", filepath.Base(path), len(pcm), rate)
	}
	got := audio.DominantFrequency(pcm[rate/5:], rate)
	if math.Abs(got-want) > want*0.03 {
		t.Errorf("%s: dominant frequency %.1f Hz, want %.0f Hz", filepath.Base(path), got, want)
	}
}
