package testpeers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// baresipModules are the modules the harness loads (checked by Require).
var baresipModules = []string{
	"account.so", "uuid.so", "menu.so", "ctrl_tcp.so", "ausine.so", "aufile.so", "aubridge.so",
	"sndfile.so", "g711.so", "g722.so", "srtp.so",
}

const (
	baresipStartTimeout = 10 * time.Second
	baresipCmdTimeout   = 5 * time.Second
)

// BaresipOptions configures one baresip phone with one account. The zero value plus User is usable: a
// UDP phone for domain 127.0.0.1 that plays a 440 Hz tone and answers manually.
type BaresipOptions struct {
	// User is the account's user name (required). AuthUser defaults to User.
	User, AuthUser string
	// Password for digest authentication ("" sends none).
	Password string
	// DisplayName is the optional display name of the account.
	DisplayName string
	// Domain is the host part of the account's AOR, optionally with ":port". Without Outbound, baresip
	// sends its REGISTER there, so use the registrar's address, e.g. "127.0.0.1:5060". Default "127.0.0.1".
	Domain string
	// Transport is "udp" (default), "tcp" or "tls"; it becomes the AOR's transport parameter.
	Transport string
	// Outbound is an outbound proxy every request is sent through, e.g. the edge:
	// "sip:127.0.0.1:5061;transport=tls", or a Kamailio.URI("tcp").
	Outbound string
	// SIPOutbound turns on RFC 5626 (sipnat=outbound): +sip.instance, reg-id and ;ob in the Contact.
	SIPOutbound bool
	// NoRegister creates the account without registering (regint=0).
	NoRegister bool
	// RegInterval is the registration expiry asked for, in seconds; default 600.
	RegInterval int
	// MediaEnc is "", "srtp", "srtp-mand", "srtp-mandf" or "dtls_srtp".
	MediaEnc string
	// MediaNAT is "", "stun", "turn" or "ice"; STUNServer ("turn:127.0.0.1:3478"), STUNUser and STUNPass
	// go with it.
	MediaNAT, STUNServer, STUNUser, STUNPass string
	// AnswerMode is "manual" (default), "auto" or "early".
	AnswerMode string
	// ToneHz is the frequency of the sine tone the phone sends (ausine); default 440. Use different tones
	// on the two ends of a call to tell the directions apart.
	ToneHz int
	// AudioFile, when set, is an audio file (any WAV sox reads) sent instead of the tone, in a loop. The
	// harness converts it with sox to the 48 kHz stereo that the source runs at.
	AudioFile string
	// Codecs lists the audio codecs offered, in order, e.g. {"PCMU", "PCMA"} or {"G722"}; default
	// PCMU, PCMA, G722.
	Codecs []string
	// CAFile is a PEM file of CA certificates to trust for TLS (sip_cafile), e.g. the edge's certificate.
	CAFile string
	// SIPPort is the local SIP port (UDP and TCP; TLS uses SIPPort+1); 0 picks a free pair.
	SIPPort int
	// ExtraAccountParams are appended to the account line, e.g. ";ptime=40".
	ExtraAccountParams string
	// ExtraConfig lines are appended to the config file.
	ExtraConfig []string
	// Verbose runs baresip with -v (debug output in the log).
	Verbose bool
}

// Baresip is a running baresip phone, driven over its ctrl_tcp connection.
type Baresip struct {
	opts    BaresipOptions
	dir     string
	recDir  string
	sipPort int
	ctlPort int
	aor     string
	proc    *process
	ctrl    *ctrlConn
}

// StartBaresip starts a baresip phone for the test and stops it in t.Cleanup; it fails the test if baresip
// cannot start. It returns once the account exists and its registration (unless NoRegister) was sent:
// wait for EventRegisterOK with WaitEvent. Call Require(t, "baresip") first.
func StartBaresip(t testing.TB, opts BaresipOptions) *Baresip {
	t.Helper()
	b, err := startBaresip(t, opts)
	if err != nil {
		t.Fatalf("start baresip %s: %v", opts.User, err)
	}
	return b
}

func startBaresip(t testing.TB, opts BaresipOptions) (*Baresip, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	bin, err := lookPath("baresip")
	if err != nil {
		return nil, err
	}
	modDir, err := baresipModuleDir()
	if err != nil {
		return nil, err
	}
	b := &Baresip{opts: opts, dir: t.TempDir()}
	b.recDir = filepath.Join(b.dir, "recordings")
	if err := os.MkdirAll(b.recDir, 0o755); err != nil {
		return nil, err
	}
	if opts.AudioFile != "" {
		if err := b.convertAudioFile(); err != nil {
			return nil, err
		}
	}
	for attempt := 1; ; attempt++ {
		err := b.launch(bin, modDir, attempt)
		if err == nil {
			break
		}
		if !errors.Is(err, errRetry) || opts.SIPPort != 0 || attempt >= 3 {
			return nil, err
		}
		t.Logf("baresip %s: ports taken by another process, retrying (%v)", opts.User, err)
	}
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("baresip %s log (%s):\n%s", b.opts.User, b.LogPath(), b.proc.logTail(16000))
		}
	})
	// The account is added over the control connection, so that no event (REGISTER_OK) can happen
	// before the harness listens.
	ctx, cancel := context.WithTimeout(context.Background(), baresipCmdTimeout)
	defer cancel()
	if _, err := b.ctrl.command(ctx, "uanew", b.accountLine()); err != nil {
		return nil, fmt.Errorf("add account %s: %w", b.aor, err)
	}
	return b, nil
}

// launch writes the config, starts baresip and connects the control connection.
func (b *Baresip) launch(bin, modDir string, attempt int) error {
	b.sipPort = b.opts.SIPPort
	if b.sipPort == 0 {
		p, err := freePortPair()
		if err != nil {
			return err
		}
		b.sipPort = p
	}
	var err error
	if b.ctlPort, err = freePort(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config"), []byte(b.config(modDir)), 0o644); err != nil {
		return err
	}
	// No accounts at start: the account is added with "uanew" once the harness is connected.
	if err := os.WriteFile(filepath.Join(b.dir, "accounts"), nil, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "contacts"), nil, 0o644); err != nil {
		return err
	}
	logPath := b.LogPath()
	if attempt > 1 {
		_ = os.Rename(logPath, filepath.Join(b.dir, fmt.Sprintf("baresip.attempt%d.log", attempt-1)))
	}
	args := []string{"-4", "-f", b.dir}
	if b.opts.Verbose {
		args = append(args, "-v")
	}
	proc, err := startProcess("baresip "+b.opts.User, b.dir, logPath, bin, args...)
	if err != nil {
		return err
	}
	b.proc = proc
	deadline := time.Now().Add(baresipStartTimeout)
	ctlAddr := fmt.Sprintf("127.0.0.1:%d", b.ctlPort)
	for {
		if proc.exited() || proc.addrInUse() {
			proc.stop(time.Second)
			if proc.addrInUse() {
				return fmt.Errorf("%w: %v", errRetry, proc.exitError())
			}
			return fmt.Errorf("%w; log %s:\n%s", proc.exitError(), logPath, proc.logTail(6000))
		}
		if proc.logContains("baresip is ready") {
			c, err := dialCtrl(ctlAddr, time.Second)
			if err == nil {
				b.ctrl = c
				return nil
			}
		}
		if time.Now().After(deadline) {
			proc.stop(time.Second)
			return fmt.Errorf("baresip: %w after %v; log %s:\n%s", ErrStartTimeout, baresipStartTimeout,
				logPath, proc.logTail(6000))
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// Stop ends baresip (SIGTERM, SIGKILL after 2 s) and closes the control connection. t.Cleanup calls it.
func (b *Baresip) Stop() {
	b.proc.stop(2 * time.Second)
	if b.ctrl != nil {
		b.ctrl.close()
	}
}

// Running reports whether the baresip process is still alive.
func (b *Baresip) Running() bool { return !b.proc.exited() }

// AOR returns the account's address of record, e.g. "sip:alice@127.0.0.1:5060".
func (b *Baresip) AOR() string { return b.aor }

// SIPPort returns baresip's local SIP port (UDP and TCP; TLS is SIPPort()+1).
func (b *Baresip) SIPPort() int { return b.sipPort }

// Dir returns the phone's config dir (config, log, recordings).
func (b *Baresip) Dir() string { return b.dir }

// LogPath returns the path of baresip's log (stdout and stderr).
func (b *Baresip) LogPath() string { return filepath.Join(b.dir, "baresip.log") }

// baresipModuleDir finds the directory holding baresip's modules.
func baresipModuleDir() (string, error) {
	cands := []string{"/usr/lib/baresip/modules", "/usr/local/lib/baresip/modules", "/usr/lib64/baresip/modules"}
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "ctrl_tcp.so")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("baresip %w (looked in %s)", errNoModuleDir, strings.Join(cands, ", "))
}
