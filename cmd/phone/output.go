package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/sipedge/sipedge/softphone"
)

// callSummary is what call and answer print when a call is over.
type callSummary struct {
	OK        bool   `json:"ok"`
	Call      string `json:"call,omitempty"`
	Direction string `json:"direction,omitempty"`
	Remote    string `json:"remote,omitempty"`
	Name      string `json:"name,omitempty"`
	Answered  bool   `json:"answered"`
	Code      int    `json:"code,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Error     string `json:"error,omitempty"`
	Record    string `json:"record,omitempty"`
	*softphone.CallStats
}

func summarize(c *softphone.Call, record string, err error) callSummary {
	info := c.Info()
	st := c.Stats()
	s := callSummary{OK: err == nil, Call: info.ID, Direction: info.Direction, Remote: info.Remote, Name: info.Name,
		Answered: info.Answered != nil, Code: info.Code, Reason: info.Reason, Record: record, CallStats: &st}
	if err != nil {
		s.Error = err.Error()
		var se *softphone.StatusError
		if errors.As(err, &se) {
			s.Code, s.Reason = se.Code, se.Reason
		}
	}
	return s
}

// printSummary writes the call summary as text or JSON.
func printSummary(w io.Writer, asJSON bool, s callSummary) {
	if asJSON {
		_ = json.NewEncoder(w).Encode(s)
		return
	}
	who := s.Remote
	if s.Name != "" {
		who = fmt.Sprintf("%s (%s)", s.Remote, s.Name)
	}
	verb := "call to"
	if s.Direction == softphone.DirIn {
		verb = "call from"
	}
	if !s.Answered {
		fmt.Fprintf(w, "%s %s: not answered: %d %s\n", verb, who, s.Code, s.Reason)
		return
	}
	st := s.CallStats
	fmt.Fprintf(w, "%s %s: ended (%s)\n", verb, who, endText(s))
	fmt.Fprintf(w, "  duration %.1f s  codec %s  srtp %s\n", st.Duration.D().Seconds(), st.Codec, st.SRTP)
	rtt := "n/a" // no RTCP round trip measured yet (short call, or a peer that sends no reports)
	if st.RTTMs > 0 {
		rtt = fmt.Sprintf("%.1f ms", st.RTTMs)
	}
	fmt.Fprintf(w, "  packets sent %d received %d lost %d (%.2f%%)  jitter %.1f ms  rtt %s  MOS %.2f\n",
		st.PacketsSent, st.PacketsReceived, st.PacketsLost, st.LossPercent, st.JitterMs, rtt, st.MOS)
	if st.DTMFReceived != "" {
		fmt.Fprintf(w, "  dtmf received %s\n", st.DTMFReceived)
	}
	if s.Record != "" {
		fmt.Fprintf(w, "  recording %s\n", s.Record)
	}
}

func endText(s callSummary) string {
	if s.Reason != "" {
		return s.Reason
	}
	return "hung up"
}

// printJSON writes v as one JSON line.
func printJSON(w io.Writer, v any) { _ = json.NewEncoder(w).Encode(v) }

// failJSON prints a failure as JSON (for --json) and marks the error reported.
func failJSON(w io.Writer, err error) error {
	out := map[string]any{"ok": false, "error": err.Error()}
	var se *softphone.StatusError
	if errors.As(err, &se) {
		out["code"], out["reason"] = se.Code, se.Reason
	}
	printJSON(w, out)
	return &reportedErr{err: err}
}
