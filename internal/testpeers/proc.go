package testpeers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is one external peer process. It runs in its own process group so that it and every child it
// forks can be killed together. It gets SIGKILL when the test binary dies (Pdeathsig), and so do the
// children it forked (Kamailio's workers), through a watchdog: a shell in the same process group that
// waits on a pipe only the test binary holds, and kills the group when the pipe closes.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done is closed

	watchdog     *exec.Cmd // nil if it could not be started (then only Pdeathsig protects)
	watchdogPipe *os.File  // write end; closing it (or dying) makes the watchdog kill the group

	stopOnce sync.Once
}

// startProcess starts bin with args in dir, stdout and stderr appended to logPath.
func startProcess(name, dir, logPath, bin string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: open log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdin = nil
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("%s: start %s: %w", name, bin, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	p.startWatchdog()
	// The waiter goroutine is owned by the process: it ends when the process exits, and stop() makes sure
	// it does.
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// startWatchdog starts "sh -c 'read x; kill -9 -PGID'" in the peer's process group, its stdin the
// read end of a pipe whose write end only this process holds (os.Pipe sets close-on-exec).
func (p *process) startWatchdog() {
	sh, err := lookPath("sh")
	if err != nil {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	pgid := p.cmd.Process.Pid
	wd := exec.Command(sh, "-c", fmt.Sprintf("read x; kill -9 -%d", pgid))
	wd.Stdin = r
	// No Pdeathsig here: the watchdog must outlive the test binary to do its job.
	wd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
	err = wd.Start()
	_ = r.Close()
	if err != nil {
		_ = w.Close()
		return
	}
	p.watchdog, p.watchdogPipe = wd, w
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, waits up to grace, then SIGKILLs the group. Children left in
// the group after the main process exited are killed as well. Safe to call more than once.
func (p *process) stop(grace time.Duration) {
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		if !p.exited() {
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(grace):
			}
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
		if p.watchdog != nil {
			_ = p.watchdogPipe.Close()
			_ = p.watchdog.Wait() // killed with the group, or exits at EOF
		}
	})
}

// exitError describes how the process ended, for error messages.
func (p *process) exitError() error {
	if !p.exited() {
		return nil
	}
	if p.waitErr == nil {
		return fmt.Errorf("%s exited with status 0: %w", p.name, ErrNotRunning)
	}
	return fmt.Errorf("%s exited (%v): %w", p.name, p.waitErr, ErrNotRunning)
}

// logTail returns the last max bytes of the log, starting at a line boundary.
func (p *process) logTail(max int) string {
	return fileTail(p.logPath, max)
}

func fileTail(path string, max int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if len(data) > max {
		data = data[len(data)-max:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
		data = append([]byte("...\n"), data...)
	}
	return string(data)
}

// logContains reports whether the log contains s.
func (p *process) logContains(s string) bool {
	data, err := os.ReadFile(p.logPath)
	return err == nil && bytes.Contains(data, []byte(s))
}

// errAddrInUse reports whether the log shows that a listen address was taken (a port race with another
// process); the caller then retries with fresh ports.
func (p *process) addrInUse() bool {
	return p.logContains("Address already in use") || p.logContains("address already in use") ||
		p.logContains("EADDRINUSE")
}

var errRetry = errors.New("retry with new ports")
