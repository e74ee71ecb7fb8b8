package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sipedge/sipedge/softphone"
)

func runCall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("call", stderr)
	var af accountFlags
	af.register(fs)
	play := fs.String("play", "silence", "audio to send: tone:FREQ, file:PATH.wav, silence (device: not in this build)")
	record := fs.String("record", "", "record the received audio to this WAV file")
	dur := fs.Duration("duration", 10*time.Second, "hang up this long after the call is answered (0: wait for the far end)")
	ring := fs.Duration("ring-timeout", 60*time.Second, "give up if not answered within this time")
	digits := fs.String("dtmf", "", "send these DTMF digits one second after the answer")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("call needs exactly one destination: phone call URI|NUMBER|CONTACT [flags]")
	}
	if err := checkAudioFlags(*play, *record); err != nil {
		return err
	}
	fail := func(err error) error {
		if af.json {
			return failJSON(stdout, err)
		}
		return err
	}
	p, err := startPhone(ctx, &af, stderr, false)
	if err != nil {
		return fail(err)
	}
	defer p.Close()
	call, err := p.Dial(ctx, pos[0], softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: *play, Record: *record}})
	if err != nil {
		return fail(err)
	}
	if !af.json {
		fmt.Fprintf(stderr, "calling %s ...\n", call.Info().Remote)
	}
	rctx, cancel := context.WithTimeout(ctx, *ring)
	err = call.WaitAnswered(rctx)
	ringExpired := ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded)
	cancel()
	if err != nil {
		hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = call.Hangup(hctx)
		hcancel()
		if ringExpired {
			err = &softphone.StatusError{Method: "INVITE", Code: 408, Reason: "not answered within " + ring.String()}
		}
		return finishCall(stdout, af.json, call, *record, err)
	}
	return talk(ctx, stdout, stderr, af.json, call, *record, *dur, *digits)
}

// talk keeps an answered call up for dur (or until the far end hangs up or
// ctx ends), sends digits, hangs up and prints the summary.
func talk(ctx context.Context, stdout, stderr io.Writer, asJSON bool, call *softphone.Call, record string, dur time.Duration, digits string) error {
	if !asJSON {
		fmt.Fprintf(stderr, "answered: %s %s\n", call.Info().Codec, call.Info().SRTP)
	}
	var timer <-chan time.Time
	if dur > 0 {
		t := time.NewTimer(dur)
		defer t.Stop()
		timer = t.C
	}
	var dtmfC <-chan time.Time
	if digits != "" {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		dtmfC = t.C
	}
	for {
		select {
		case <-dtmfC:
			if err := call.SendDTMF(ctx, digits); err != nil {
				fmt.Fprintln(stderr, "phone: dtmf:", err)
			}
			dtmfC = nil
			continue
		case <-call.Done():
		case <-timer:
		case <-ctx.Done():
		}
		break
	}
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = call.Hangup(hctx)
	return finishCall(stdout, asJSON, call, record, nil)
}

// finishCall prints the summary and returns err marked as reported when it was printed as JSON.
func finishCall(stdout io.Writer, asJSON bool, call *softphone.Call, record string, err error) error {
	if err == nil {
		err = call.Err()
	}
	s := summarize(call, record, err)
	printSummary(stdout, asJSON, s)
	if err != nil {
		if asJSON {
			return &reportedErr{err: err}
		}
		return err
	}
	return nil
}
