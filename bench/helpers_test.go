package bench

import (
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBencodeRoundTrip(t *testing.T) {
	in := map[string]any{"command": "offer", "call-id": "a:b c", "sdp": "v=0\r\n", "n": 42,
		"flags": []string{"trust-address"}, "replace": []any{"origin", map[string]any{"x": int64(-1)}}}
	enc, err := Bencode(in)
	if err != nil {
		t.Fatal(err)
	}
	// rtpengine needs sorted keys; lengths count bytes.
	want := "d7:call-id5:a:b c7:command5:offer5:flagsl13:trust-addresse1:ni42e7:replacel6:origind1:xi-1eee3:sdp5:v=0\r\ne"
	if string(enc) != want {
		t.Fatalf("encoded\n%q\nwant\n%q", enc, want)
	}
	out, err := Bdecode(enc)
	if err != nil {
		t.Fatal(err)
	}
	wantOut := map[string]any{"command": "offer", "call-id": "a:b c", "sdp": "v=0\r\n", "n": int64(42),
		"flags": []any{"trust-address"}, "replace": []any{"origin", map[string]any{"x": int64(-1)}}}
	if !reflect.DeepEqual(out, wantOut) {
		t.Fatalf("decoded %#v\nwant %#v", out, wantOut)
	}
}

func TestBdecodeRejectsMalformed(t *testing.T) {
	for _, in := range []string{"", "i12", "ixe", "5:abc", "l1:a", "d1:ai1e", "di1ei2ee", "x", "3:abcextra",
		"-1:a", strings.Repeat("l", 100) + strings.Repeat("e", 100)} {
		if _, err := Bdecode([]byte(in)); !errors.Is(err, ErrBencode) {
			t.Errorf("Bdecode(%q) = %v, want ErrBencode", in, err)
		}
	}
	if _, err := Bencode(map[string]any{"x": 1.5}); !errors.Is(err, ErrBencode) {
		t.Errorf("Bencode(float) = %v, want ErrBencode", err)
	}
}

func TestParseSippStats(t *testing.T) {
	data, err := os.ReadFile("testdata/sipp-stats-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseSippStats(data) // the last line counts: a run where every call failed
	if err != nil {
		t.Fatal(err)
	}
	if r.Successful != 0 || r.Failed != 150 || r.Retransmissions != 900 {
		t.Fatalf("got %+v, want 0 successful, 150 failed, 900 retransmissions", r)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if r, err = ParseSippStats([]byte(lines[0] + "\n" + lines[1])); err != nil || r.Successful != 1999 || r.Failed != 0 {
		t.Fatalf("first run: %+v, %v; want 1999 successful", r, err)
	}
	r.Wall = 2 * time.Second
	if got := r.CallsPerSecond(); got != 999.5 {
		t.Fatalf("CallsPerSecond = %v, want 999.5", got)
	}
	if _, err := ParseSippStats([]byte(lines[0])); !errors.Is(err, ErrSippStats) {
		t.Fatalf("header only: %v, want ErrSippStats", err)
	}
	if _, err := ParseSippStats([]byte("A;B\n1;2\n")); !errors.Is(err, ErrSippStats) {
		t.Fatalf("no SuccessfulCall column: %v, want ErrSippStats", err)
	}
}

func TestStatPgrp(t *testing.T) {
	for in, want := range map[string]int{
		"123 (sh) S 1 77 77 0 -1":          77,
		"123 (sh) Z 1 78 78 0 -1":          78,
		"9 (a) b) c) R 3 4242 4242 0 -1 x": 4242,
	} {
		if got, ok := statPgrp([]byte(in)); !ok || got != want {
			t.Errorf("statPgrp(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	if statState([]byte("123 (sh) Z 1 78 78")) != "Z" || statState([]byte("123 (a) b) R 1")) != "R" {
		t.Error("statState misread the state field")
	}
	if _, ok := statPgrp([]byte("123 (sh")); ok {
		t.Error("statPgrp accepted a line without ')'")
	}
}

// TestGroupCPUTime measures a process group that burns CPU in a forked child, the way Kamailio's
// workers are counted.
func TestGroupCPUTime(t *testing.T) {
	p, err := StartProc("burn", exec.Command("sh", "-c", "sh -c 'while :; do :; done' & wait"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	time.Sleep(400 * time.Millisecond)
	d, err := p.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	if d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("group CPU time %v after 400 ms of one busy child", d)
	}
	p.Stop(time.Second)
	if !p.Exited() {
		t.Fatal("process still running after Stop")
	}
	if _, err := GroupCPUTime(p.Pid()); !errors.Is(err, ErrProcess) {
		t.Fatalf("group after Stop: %v, want ErrProcess (every member killed)", err)
	}
}

func TestLoadResultFigures(t *testing.T) {
	var r LoadResult
	r.Add(LoadResult{FloodSent: 1000, FloodRecv: 1000, FloodWall: 100 * time.Millisecond, FloodCPU: 5 * time.Millisecond,
		PacedSent: 100, PacedRecv: 90, PacedCPU: time.Millisecond,
		Latencies: []time.Duration{3 * time.Microsecond, time.Microsecond, 2 * time.Microsecond}})
	r.Add(LoadResult{FloodSent: 1000, FloodRecv: 1000, FloodWall: 100 * time.Millisecond, FloodCPU: 5 * time.Millisecond,
		Latencies: []time.Duration{4 * time.Microsecond}})
	if got := r.PacketsPerSecond(); got != 10000 {
		t.Errorf("PacketsPerSecond = %v, want 10000", got)
	}
	if got := r.CPUPerPacket(); got != 5000 {
		t.Errorf("CPUPerPacket = %v ns, want 5000", got)
	}
	if got := r.PacedCPUPerPacket(); got != float64(time.Millisecond)/90 {
		t.Errorf("PacedCPUPerPacket = %v", got)
	}
	if got := r.Loss(); got != 10.0/2100 {
		t.Errorf("Loss = %v, want %v", got, 10.0/2100)
	}
	if p50, p100 := r.Percentile(50), r.Percentile(100); p50 != 2*time.Microsecond || p100 != 4*time.Microsecond {
		t.Errorf("percentiles 50/100 = %v/%v, want 2µs/4µs", p50, p100)
	}
}
