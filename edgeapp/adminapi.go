package edgeapp

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"time"

	"github.com/sipedge/sipedge/secevent"
)

// adminAPI adds the operator endpoints to the admin server (behind admin.token_file's bearer token when
// set; otherwise keep the server on loopback):
//
//	GET    /calls        calls and subscriptions the proxy tracks
//	GET    /flows        phone connections with their users and registered contacts
//	GET    /bans         banned source IPs with rule, reason and expiry
//	DELETE /bans/{ip}    lift a ban (security event ban_removed)
//	DELETE /calls/{id}   end a call (its call_id) with BYE to both parties (security event call_terminated_by_operator)
func (a *App) adminAPI() {
	a.Admin.Handle("GET /calls", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, a.Proxy.Dialogs()) })
	a.Admin.Handle("DELETE /calls/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		ev := secevent.Event{Type: secevent.CallTerminatedByOperator, CallID: id, Reason: "ended via the admin API"}
		for _, d := range a.Proxy.Dialogs() { // the first party the edge knows a user for
			if d.ID == id && d.Method == "INVITE" && ev.User == "" {
				ev.User = cmp.Or(d.UserA, d.UserB)
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := a.Proxy.EndCall(ctx, id, "terminated by operator"); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			ev.SrcIP, ev.SrcPort = ap.Addr().Unmap().String(), int(ap.Port())
		}
		_ = a.Sec.Emit(ev)
		w.WriteHeader(http.StatusNoContent)
	})
	a.Admin.Handle("GET /flows", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, a.Proxy.Flows()) })
	a.Admin.Handle("GET /bans", func(w http.ResponseWriter, r *http.Request) {
		type ban struct {
			IP      string    `json:"ip"`
			Since   time.Time `json:"since"`
			Until   time.Time `json:"until"`
			Rule    string    `json:"rule"`
			Reason  string    `json:"reason"`
			Offence int       `json:"offence"`
		}
		out := []ban{}
		for _, b := range a.Policy.Bans() {
			out = append(out, ban{IP: b.IP.String(), Since: b.Since, Until: b.Until, Rule: b.Rule, Reason: b.Reason, Offence: b.Offence})
		}
		writeJSON(w, out)
	})
	a.Admin.Handle("DELETE /bans/{ip}", func(w http.ResponseWriter, r *http.Request) {
		ip, err := netip.ParseAddr(r.PathValue("ip"))
		if err != nil {
			http.Error(w, "not an IP address: "+r.PathValue("ip"), http.StatusBadRequest)
			return
		}
		if !a.Policy.Unban(ip) {
			http.Error(w, "no ban for "+ip.String(), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
