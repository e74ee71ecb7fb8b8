package softphone

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// HistoryEntry is one finished call in the history file (one JSON object per line).
type HistoryEntry struct {
	Time      time.Time  `json:"time"`
	Account   string     `json:"account,omitempty"`
	Direction string     `json:"direction"`
	Remote    string     `json:"remote"`
	Name      string     `json:"name,omitempty"`
	Answered  bool       `json:"answered"`
	Duration  Seconds    `json:"duration_s"`
	Code      int        `json:"code,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Codec     string     `json:"codec,omitempty"`
	SRTP      string     `json:"srtp,omitempty"`
	Stats     *CallStats `json:"stats,omitempty"`
}

// History is an append-only JSON-lines call log. It is safe for concurrent use
// within a process; appends from several processes are whole lines (O_APPEND).
type History struct {
	path string
	mu   sync.Mutex
}

// DefaultHistoryPath returns $XDG_DATA_HOME/sipedge/history.jsonl.
func DefaultHistoryPath() (string, error) {
	d, err := DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "history.jsonl"), nil
}

// OpenHistory returns the history at path (created on first append).
func OpenHistory(path string) *History { return &History{path: path} }

// Path returns the history file path.
func (h *History) Path() string { return h.path }

// Append adds one entry.
func (h *History) Append(e HistoryEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("history: %w", err)
	}
	return f.Close()
}

// Read returns all entries, oldest first. Lines that do not parse are skipped
// and counted in the returned number.
func (h *History) Read() ([]HistoryEntry, int, error) {
	f, err := os.Open(h.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, nil
		}
		return nil, 0, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	var out []HistoryEntry
	bad := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e HistoryEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			bad++
			continue
		}
		out = append(out, e)
	}
	return out, bad, sc.Err()
}
