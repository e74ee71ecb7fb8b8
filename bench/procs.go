package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a helper process started in its own process group (so that a forking server such as
// Kamailio is stopped and measured as a whole) with its output kept for error messages.
type Proc struct {
	Name  string
	Cmd   *exec.Cmd
	out   *tailBuf
	stdin io.Closer // closed first by Stop: children of this package exit when it closes
	done  chan struct{}
	err   error
	once  sync.Once
}

// StartProc starts cmd in a new process group; it is killed if this process dies. Stdout and stderr
// are kept (the last 64 KiB) unless the caller set them.
func StartProc(name string, cmd *exec.Cmd) (*Proc, error) {
	p := &Proc{Name: name, Cmd: cmd, out: &tailBuf{max: 64 << 10}, done: make(chan struct{})}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.out
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %v", ErrProcess, name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	return p, nil
}

// Pid returns the process id (also its process group id).
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Output returns the tail of what the process printed.
func (p *Proc) Output() string { return p.out.String() }

// Stop closes the process's standard input if it holds it, then sends SIGTERM to the process group, then SIGKILL after grace, and waits for the process.
func (p *Proc) Stop(grace time.Duration) {
	p.once.Do(func() {
		pg := -p.Pid()
		if p.stdin != nil {
			_ = p.stdin.Close()
			select {
			case <-p.done:
			case <-time.After(grace):
			}
		}
		_ = syscall.Kill(pg, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(pg, syscall.SIGKILL)
			<-p.done
		}
		_ = syscall.Kill(pg, syscall.SIGKILL) // forked children that outlived their parent
	})
}

// CPUTime returns the CPU time (user+system) used so far by every live process in the process group
// (every thread of each), from /proc/PID/task/TID/schedstat (nanoseconds).
func (p *Proc) CPUTime() (time.Duration, error) { return GroupCPUTime(p.Pid()) }

// GroupCPUTime sums the on-CPU time of every thread of every live process whose process group is
// pgid. It fails with ErrProcess when the group has no live member.
func GroupCPUTime(pgid int) (time.Duration, error) {
	procs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return 0, err
	}
	var total time.Duration
	found := false
	for _, statPath := range procs {
		data, err := os.ReadFile(statPath)
		if err != nil {
			continue // exited meanwhile
		}
		if pg, ok := statPgrp(data); !ok || pg != pgid || statState(data) == "Z" {
			continue // another group, or a zombie not yet reaped
		}
		found = true
		dir := filepath.Dir(statPath)
		tasks, _ := filepath.Glob(dir + "/task/[0-9]*/schedstat")
		for _, t := range tasks {
			if d, err := readSchedstat(t); err == nil {
				total += d
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("%w: no process in group %d", ErrProcess, pgid)
	}

	return total, nil
}

// statPgrp returns field 5 (pgrp) of a /proc/PID/stat line; the command name (field 2) may contain
// spaces and parentheses, so fields are counted after its last ')'.
func statPgrp(stat []byte) (int, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:])) // state ppid pgrp ...
	if len(f) < 3 {
		return 0, false
	}
	n, err := strconv.Atoi(f[2])

	return n, err == nil
}

// statState returns field 3 (state) of a /proc/PID/stat line.
func statState(stat []byte) string {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) == 0 {
		return ""
	}

	return f[0]
}

// readSchedstat returns the first field of a schedstat file: time spent on the CPU in ns.
func readSchedstat(path string) (time.Duration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, fmt.Errorf("%w: empty %s", ErrProcess, path)
	}
	n, err := strconv.ParseInt(f[0], 10, 64)

	return time.Duration(n), err
}

// WaitLine reads r until a line starting with prefix arrives and returns the rest of that line.
func WaitLine(r io.Reader, prefix string, timeout time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				ch <- res{s: strings.TrimSpace(rest)}
				go func() { _, _ = io.Copy(io.Discard, r) }() // keep the pipe drained
				return
			}
		}
		ch <- res{err: fmt.Errorf("%w: output ended before %q", ErrProcess, prefix)}
	}()
	select {
	case x := <-ch:
		return x.s, x.err
	case <-time.After(timeout):
		return "", fmt.Errorf("%w: no %q within %v", ErrProcess, prefix, timeout)
	}
}

// tailBuf keeps the last max bytes written to it.
type tailBuf struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuf) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}

	return len(p), nil
}

func (t *tailBuf) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()

	return string(t.b)
}
