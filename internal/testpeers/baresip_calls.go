package testpeers

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Command sends a baresip long command (as typed after "/" in its console, e.g. "reginfo",
// "callstat", "listcalls") with params and returns the response text. ok=false wraps ErrCommand.
func (b *Baresip) Command(ctx context.Context, cmd, params string) (string, error) {
	if b.proc.exited() {
		return "", b.proc.exitError()
	}
	return b.ctrl.command(ctx, cmd, params)
}

func (b *Baresip) simple(cmd, params string) error {
	ctx, cancel := context.WithTimeout(context.Background(), baresipCmdTimeout)
	defer cancel()
	_, err := b.Command(ctx, cmd, params)
	return err
}

// Dial calls uri (e.g. "sip:bob@127.0.0.1") from the phone's account. Wait for EventCallEstablished or
// EventCallClosed to learn the outcome.
func (b *Baresip) Dial(uri string) error {
	if !strings.HasPrefix(uri, "sip:") && !strings.HasPrefix(uri, "sips:") || strings.ContainsAny(uri, " \r\n") {
		return fmt.Errorf("%w: dial target %q is not a sip: URI", ErrBadOption, uri)
	}
	return b.simple("dial", uri)
}

// Accept answers the current incoming call.
func (b *Baresip) Accept() error { return b.simple("accept", "") }

// Hangup ends (or rejects, or cancels) the current call.
func (b *Baresip) Hangup() error { return b.simple("hangup", "") }

// Hold puts the current call on hold (re-INVITE with a=sendonly).
func (b *Baresip) Hold() error { return b.simple("hold", "") }

// Resume takes the current call off hold.
func (b *Baresip) Resume() error { return b.simple("resume", "") }

// SendDTMF sends digits (0-9, *, #, A-D) on the current call as RFC 4733 telephone events.
func (b *Baresip) SendDTMF(digits string) error {
	for _, c := range digits {
		if !strings.ContainsRune("0123456789*#ABCDabcd", c) {
			return fmt.Errorf("%w: DTMF digit %q", ErrBadOption, c)
		}
	}
	if digits == "" {
		return fmt.Errorf("%w: no DTMF digits", ErrBadOption)
	}
	return b.simple("sndcode", digits)
}

// WaitEvent waits for the oldest event of one of the given types that no earlier wait returned, and
// consumes it. It fails when ctx ends or baresip exits. With no types, any event matches.
func (b *Baresip) WaitEvent(ctx context.Context, types ...string) (Event, error) {
	return b.WaitEventFunc(ctx, func(ev Event) bool {
		if len(types) == 0 {
			return true
		}
		for _, t := range types {
			if ev.Type == t {
				return true
			}
		}
		return false
	})
}

// WaitEventFunc is WaitEvent with a predicate.
func (b *Baresip) WaitEventFunc(ctx context.Context, match func(Event) bool) (Event, error) {
	ev, err := b.ctrl.waitEvent(ctx, match)
	if err != nil {
		if b.proc.exited() {
			return ev, fmt.Errorf("baresip %s: %w (waiting: %v)", b.opts.User, b.proc.exitError(), err)
		}
		return ev, fmt.Errorf("baresip %s: waiting for event: %w; events so far: %s", b.opts.User, err,
			eventSummary(b.Events()))
	}
	return ev, nil
}

// Events returns every event received so far, consumed or not.
func (b *Baresip) Events() []Event { return b.ctrl.snapshot() }

func eventSummary(evs []Event) string {
	parts := make([]string, 0, len(evs))
	for _, e := range evs {
		s := e.Type
		if e.Param != "" {
			s += "(" + e.Param + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Recording is one call's audio as baresip's sndfile module wrote it.
type Recording struct {
	Received string // WAV of the decoded audio from the peer (dump-*-dec.wav)
	Sent     string // WAV of the audio sent to the peer, before encoding (dump-*-enc.wav)
}

// Recordings returns the recordings of the most recent call. Call it after EventCallClosed: it waits up
// to 3 s for baresip to finish the WAV files.
func (b *Baresip) Recordings() (Recording, error) {
	all, err := b.AllRecordings()
	if err != nil {
		return Recording{}, err
	}
	return all[len(all)-1], nil
}

// AllRecordings returns the recordings of every call so far, oldest first. baresip names the files by
// the second the call's audio started, so two calls of one phone starting within the same second share
// (and overwrite) one pair.
func (b *Baresip) AllRecordings() ([]Recording, error) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		recs, complete, err := b.scanRecordings()
		if err != nil {
			return nil, err
		}
		if complete && len(recs) > 0 {
			return recs, nil
		}
		if time.Now().After(deadline) {
			if len(recs) == 0 {
				return nil, fmt.Errorf("%w in %s", ErrNoRecording, b.recDir)
			}
			return recs, nil // files never finalized (baresip killed?): return them anyway
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scanRecordings pairs dump-<stamp>-enc.wav and dump-<stamp>-dec.wav by stamp; complete is false while
// some WAV header does not yet match its file size.
func (b *Baresip) scanRecordings() (recs []Recording, complete bool, err error) {
	entries, err := os.ReadDir(b.recDir)
	if err != nil {
		return nil, false, err
	}
	type pair struct {
		rec  Recording
		when time.Time
	}
	byStamp := map[string]*pair{}
	complete = true
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "dump-") || !strings.HasSuffix(name, ".wav") {
			continue
		}
		stem := strings.TrimSuffix(name, ".wav")
		var stamp, dir string
		switch {
		case strings.HasSuffix(stem, "-dec"):
			stamp, dir = strings.TrimSuffix(stem, "-dec"), "dec"
		case strings.HasSuffix(stem, "-enc"):
			stamp, dir = strings.TrimSuffix(stem, "-enc"), "enc"
		default:
			continue
		}
		path := filepath.Join(b.recDir, name)
		info, err := e.Info()
		if err != nil {
			return nil, false, err
		}
		if !wavComplete(path, info.Size()) {
			complete = false
		}
		p := byStamp[stamp]
		if p == nil {
			p = &pair{when: info.ModTime()}
			byStamp[stamp] = p
		}
		if dir == "dec" {
			p.rec.Received = path
		} else {
			p.rec.Sent = path
		}
		if info.ModTime().Before(p.when) {
			p.when = info.ModTime()
		}
	}
	stamps := make([]string, 0, len(byStamp))
	for s := range byStamp {
		stamps = append(stamps, s)
	}
	sort.Slice(stamps, func(i, j int) bool {
		a, c := byStamp[stamps[i]], byStamp[stamps[j]]
		if !a.when.Equal(c.when) {
			return a.when.Before(c.when)
		}
		return stamps[i] < stamps[j]
	})
	for _, s := range stamps {
		recs = append(recs, byStamp[s].rec)
	}
	return recs, complete, nil
}

// wavComplete reports whether the RIFF size in the header matches the file size (libsndfile writes
// the sizes when it closes the file).
func wavComplete(path string, size int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	var hdr [8]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return false
	}
	if string(hdr[:4]) != "RIFF" {
		return false
	}
	return int64(binary.LittleEndian.Uint32(hdr[4:8]))+8 == size && size > 44
}
