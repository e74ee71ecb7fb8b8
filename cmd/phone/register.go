package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sipedge/sipedge/softphone"
)

func runRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("register", stderr)
	var af accountFlags
	af.register(fs)
	hold := fs.Duration("duration", 0, "stay registered this long before unregistering (0: unregister at once)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("register", pos); err != nil {
		return err
	}
	p, err := startPhone(ctx, &af, stderr, false)
	if err != nil {
		return af.fail(stdout, err)
	}
	defer p.Close()
	st := p.Registration()
	acct := p.Account()
	if af.json {
		printJSON(stdout, map[string]any{"ok": true, "account": acct.Name, "aor": "sip:" + acct.User + "@" + acct.Domain,
			"edge": acct.Edge, "state": st.State, "contact": st.Contact, "flow": st.Flow, "expires_s": int(st.Expires / time.Second)})
	} else {
		fmt.Fprintf(stdout, "registered sip:%s@%s via %s\n  contact %s\n  flow %s  expires %v\n",
			acct.User, acct.Domain, acct.Edge, st.Contact, st.Flow, st.Expires)
	}
	if *hold > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(*hold):
		}
	}
	return nil
}

// startPhone builds the phone from flags and registers it (bounded by --register-timeout).
func startPhone(ctx context.Context, af *accountFlags, stderr io.Writer, keepTrying bool) (*softphone.Phone, error) {
	acct, opts, err := af.setup(stderr)
	if err != nil {
		return nil, err
	}
	opts.KeepTrying = keepTrying
	p, err := softphone.New(acct, opts)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, af.registerTimeout)
	defer cancel()
	if err := p.Start(sctx); err != nil {
		if keepTrying {
			return p, err
		}
		return nil, fmt.Errorf("registration as %s at %s failed: %w", acct.User, acct.Edge, err)
	}
	return p, nil
}
