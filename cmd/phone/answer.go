package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sipedge/sipedge/softphone"
)

func runAnswer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("answer", stderr)
	var af accountFlags
	af.register(fs)
	play := fs.String("play", "silence", "audio to send: tone:FREQ, file:PATH.wav, silence (device: not in this build)")
	record := fs.String("record", "", "record the received audio to this WAV file")
	dur := fs.Duration("duration", 10*time.Second, "hang up this long after answering (0: wait for the far end)")
	wait := fs.Duration("timeout", 0, "give up if no call arrives within this time (0: wait forever)")
	digits := fs.String("dtmf", "", "send these DTMF digits one second after answering")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("answer takes no arguments (got %q)", pos))
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
	events, unsub := p.Events(256)
	defer unsub()
	if !af.json {
		fmt.Fprintf(stderr, "registered as %s; waiting for a call ...\n", p.Account().User)
	}
	wctx := ctx
	if *wait > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, *wait)
		defer cancel()
	}
	var call *softphone.Call
	for call == nil {
		select {
		case e, ok := <-events:
			if !ok {
				return fail(errors.New("phone closed while waiting for a call"))
			}
			if e.Type != softphone.EventIncoming {
				continue
			}
			c, err := p.Call(e.Call)
			if err != nil {
				continue // already gone (cancelled)
			}
			if !af.json {
				fmt.Fprintf(stderr, "incoming call from %s\n", e.Remote)
			}
			if err := c.Answer(&softphone.MediaOptions{Play: *play, Record: *record}); err != nil {
				continue
			}
			call = c
		case <-wctx.Done():
			if ctx.Err() != nil {
				return fail(ctx.Err())
			}
			return fail(fmt.Errorf("no incoming call within %v", *wait))
		}
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = call.WaitAnswered(actx)
	cancel()
	if err != nil {
		return finishCall(stdout, af.json, call, *record, err)
	}
	return talk(ctx, stdout, stderr, af.json, call, *record, *dur, *digits)
}
