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
	fs, af, cf := callFlagSet("call", "hang up this long after the call is answered (0: wait for the far end)", stderr)
	ring := fs.Duration("ring-timeout", 60*time.Second, "give up if not answered within this time")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("call needs exactly one destination: phone call URI|NUMBER|CONTACT [flags]")
	}
	p, err := startCallPhone(ctx, af, cf, stdout, stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	call, err := p.Dial(ctx, pos[0], softphone.DialOptions{MediaOptions: cf.media()})
	if err != nil {
		return af.fail(stdout, err)
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
		return finishCall(stdout, af.json, call, cf.record, err)
	}
	return talk(ctx, stdout, stderr, af.json, call, *cf)
}

// talk keeps an answered call up for dur (or until the far end hangs up or
// ctx ends), sends digits, hangs up and prints the summary.
func talk(ctx context.Context, stdout, stderr io.Writer, asJSON bool, call *softphone.Call, cf callFlags) error {
	record, dur, digits := cf.record, cf.dur, cf.digits
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
