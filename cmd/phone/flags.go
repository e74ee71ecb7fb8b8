package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/sipedge/sipedge/softphone"
)

// passwordEnv may hold the password instead of --password (which other users can see in ps).
const passwordEnv = "SIPEDGE_PHONE_PASSWORD"

// accountFlags are the flags shared by every command that registers.
type accountFlags struct {
	config, account                                   string
	edge, user, password, domain, caFile, fingerprint string
	insecure, autoAnswer, json, verbose               bool
	dataDir, contacts, history, audioBackend          string
	registerTimeout                                   time.Duration
	fs                                                *flag.FlagSet
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("phone "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func (a *accountFlags) register(fs *flag.FlagSet) {
	a.fs = fs
	fs.StringVar(&a.config, "config", "", "config file (default $XDG_CONFIG_HOME/sipedge/phone.yaml)")
	fs.StringVar(&a.account, "account", "", "account name in the config file (default: the first)")
	fs.StringVar(&a.edge, "edge", "", "edge address, e.g. tls://host:5061 (default tls://127.0.0.1:5061)")
	fs.StringVar(&a.user, "user", "", "SIP user")
	fs.StringVar(&a.password, "password", "", "SIP password (or $"+passwordEnv+")")
	fs.StringVar(&a.domain, "domain", "", "SIP domain (default: the edge host)")
	fs.StringVar(&a.caFile, "ca-file", "", "PEM file of CAs trusted for the edge certificate")
	fs.StringVar(&a.fingerprint, "fingerprint", "", "pin the edge certificate: SHA256:AB:CD:... or SHA256:<base64>")
	fs.BoolVar(&a.insecure, "insecure", false, "do not verify the edge certificate (unsafe)")
	fs.BoolVar(&a.autoAnswer, "auto-answer", false, "answer incoming calls at once")
	fs.BoolVar(&a.json, "json", false, "machine-readable JSON output")
	fs.BoolVar(&a.verbose, "verbose", false, "log SIP and media diagnostics to stderr")
	fs.StringVar(&a.dataDir, "data-dir", "", "data directory (default $XDG_DATA_HOME/sipedge)")
	fs.StringVar(&a.contacts, "contacts", "", "contacts file (default $XDG_CONFIG_HOME/sipedge/contacts.yaml)")
	fs.StringVar(&a.history, "history", "", "call history file (default $XDG_DATA_HOME/sipedge/history.jsonl)")
	fs.DurationVar(&a.registerTimeout, "register-timeout", 15*time.Second, "how long to wait for the first registration")
	fs.StringVar(&a.audioBackend, "audio-backend", os.Getenv("PHONE_AUDIO_BACKEND"), "audio device backend (default: the system's; null: a silent virtual device; or $PHONE_AUDIO_BACKEND)")
}

func (a *accountFlags) isSet(name string) bool {
	set := false
	a.fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// setup resolves the account (file + flags) and the phone's options.
func (a *accountFlags) setup(stderr io.Writer) (softphone.Account, softphone.Options, error) {
	var opts softphone.Options
	path, optional := a.config, false
	if path == "" {
		p, err := softphone.DefaultConfigPath()
		if err != nil {
			return softphone.Account{}, opts, err
		}
		path, optional = p, true
	}
	file, err := softphone.LoadFile(path, optional)
	if err != nil {
		return softphone.Account{}, opts, err
	}
	o := softphone.Overrides{Edge: a.edge, User: a.user, Password: a.password, Domain: a.domain,
		CAFile: a.caFile, Fingerprint: a.fingerprint}
	if o.Password == "" {
		o.Password = os.Getenv(passwordEnv)
	}
	if a.isSet("insecure") {
		o.Insecure = &a.insecure
	}
	if a.isSet("auto-answer") {
		o.AutoAnswer = &a.autoAnswer
	}
	if o.Fingerprint != "" && !a.isSet("insecure") {
		f := false
		o.Insecure = &f
	}
	acct, err := file.Account(a.account, o)
	if err != nil {
		return softphone.Account{}, opts, err
	}
	opts.DataDir = a.dataDir
	opts.AudioBackend = a.audioBackend
	if a.verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cpath, coptional := a.contacts, false
	if cpath == "" {
		cpath = file.ContactsFile
	}
	if cpath == "" {
		if cpath, err = softphone.DefaultContactsPath(); err != nil {
			return acct, opts, err
		}
		coptional = true
	}
	if opts.Contacts, err = softphone.LoadContacts(cpath, coptional); err != nil {
		return acct, opts, err
	}
	hpath, err := a.historyPath(file)
	if err != nil {
		return acct, opts, err
	}
	opts.History = softphone.OpenHistory(hpath)
	return acct, opts, nil
}

func (a *accountFlags) historyPath(file *softphone.File) (string, error) {
	if a.history != "" {
		return a.history, nil
	}
	if file != nil && file.HistoryFile != "" {
		return file.HistoryFile, nil
	}
	if a.dataDir != "" {
		return a.dataDir + "/history.jsonl", nil
	}
	return softphone.DefaultHistoryPath()
}

// parseArgs parses flags that may come before or after positional arguments
// ("phone call bob --duration 5s") and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError(err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// checkAudioFlags checks device audio before registering: a build without devices (no cgo), or a device
// name that matches nothing (the error lists the devices), fails with a clear message.
func checkAudioFlags(play, record, backend string) error {
	return softphone.CheckAudio(play, record, backend)
}

// callFlags are the media and timing flags of call and answer.
type callFlags struct {
	play, record, digits string
	dur                  time.Duration
}

// callFlagSet is the flag set of call and answer: account and media flags.
func callFlagSet(name, durHelp string, stderr io.Writer) (*flag.FlagSet, *accountFlags, *callFlags) {
	fs := newFlagSet(name, stderr)
	af, cf := &accountFlags{}, &callFlags{}
	af.register(fs)
	cf.register(fs, durHelp)
	return fs, af, cf
}

// startCallPhone checks the media flags and registers the phone of call and answer.
func startCallPhone(ctx context.Context, af *accountFlags, cf *callFlags, stdout, stderr io.Writer) (*softphone.Phone, error) {
	if err := checkAudioFlags(cf.play, cf.record, af.audioBackend); err != nil {
		return nil, err
	}
	p, err := startPhone(ctx, af, stderr, false)
	if err != nil {
		return nil, af.fail(stdout, err)
	}
	return p, nil
}

func (c *callFlags) register(fs *flag.FlagSet, durHelp string) {
	fs.StringVar(&c.play, "play", "silence", "audio to send: tone:FREQ, file:PATH.wav, silence, device or device:NAME (microphone)")
	fs.StringVar(&c.record, "record", "", "where the received audio goes: a WAV file, device or device:NAME (speaker)")
	fs.DurationVar(&c.dur, "duration", 10*time.Second, durHelp)
	fs.StringVar(&c.digits, "dtmf", "", "send these DTMF digits one second after the answer")
}

// media returns the call's audio options.
func (c *callFlags) media() softphone.MediaOptions {
	return softphone.MediaOptions{Play: c.play, Record: c.record}
}

// fail reports a command failure: as JSON on stdout with --json (and marked
// reported), else returned for main to print.
func (a *accountFlags) fail(stdout io.Writer, err error) error {
	if a.json {
		return failJSON(stdout, err)
	}
	return err
}

// noArgs refuses positional arguments for a command that takes none.
func noArgs(cmd string, pos []string) error {
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("%s takes no arguments (got %q)", cmd, pos))
	}
	return nil
}
