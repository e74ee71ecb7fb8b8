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
	fs, af, cf := callFlagSet("answer", "hang up this long after answering (0: wait for the far end)", stderr)
	wait := fs.Duration("timeout", 0, "give up if no call arrives within this time (0: wait forever)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("answer", pos); err != nil {
		return err
	}
	p, err := startCallPhone(ctx, af, cf, stdout, stderr)
	if err != nil {
		return err
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
				return af.fail(stdout, errors.New("phone closed while waiting for a call"))
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
			mo := cf.media()
			if err := c.Answer(&mo); err != nil {
				continue
			}
			call = c
		case <-wctx.Done():
			if ctx.Err() != nil {
				return af.fail(stdout, ctx.Err())
			}
			return af.fail(stdout, fmt.Errorf("no incoming call within %v", *wait))
		}
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = call.WaitAnswered(actx)
	cancel()
	if err != nil {
		return finishCall(stdout, af.json, call, cf.record, err)
	}
	return talk(ctx, stdout, stderr, af.json, call, *cf)
}
