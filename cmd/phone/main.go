// Command phone is the sipedge softphone: one-shot commands (register, call,
// answer, history) and a daemon driven over a unix socket (daemon, ctl).
//
// main only wires the process (signals, exit code); run does the work and is
// what the tests call.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/internal/buildinfo"
	"github.com/sipedge/sipedge/softphone"
)

func main() {
	// sipgo refuses UDP messages over sip.UDPMTUSize-200 bytes, a process-wide
	// setting; an INVITE with SRTP offers exceeds the default on udp:// edges.
	// The engine never changes it: this process owns it and sets it once,
	// before any sipgo code runs.
	sip.UDPMTUSize = softphone.UDPMaxMessage + 200
	// sipgo logs its internal warnings (e.g. connection reference counting) through its process-wide
	// default logger, on stderr; the phone reports what matters itself. PHONE_SIP_DEBUG=1 keeps them.
	if os.Getenv("PHONE_SIP_DEBUG") == "" {
		sip.SetDefaultLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // the flag package printed the help
	}
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "phone:", err)
		}
		os.Exit(exitCode(err))
	}
}

const usage = `usage: phone COMMAND [flags]

commands:
  register            register with the edge and print the registration
  call URI            place a call, print its summary
  answer              wait for the next incoming call, answer it, print its summary
  daemon              keep the registration and calls; control it over a unix socket
  ctl CMD [ARGS]      send a command to a running daemon (status, dial, answer, hangup, ...)
  history             print the call history
  devices             list the audio devices (microphones and speakers)
  version             print the version

Run "phone COMMAND -h" for the flags of a command. Account flags (all commands
that register): --config --account --edge --user --password --domain --ca-file
--fingerprint --insecure --json.
`

// commands are the subcommands, one file each.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"register": runRegister,
	"call":     runCall,
	"answer":   runAnswer,
	"daemon":   runDaemon,
	"ctl":      runCtl,
	"history":  runHistory,
	"devices":  runDevices,
}

// run executes one phone command with args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError("no command given")
	}
	cmd, rest := args[0], args[1:]
	if f, ok := commands[cmd]; ok {
		return f(ctx, rest, stdout, stderr)
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "phone", buildinfo.Get())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError(fmt.Sprintf("unknown command %q", cmd))
}
