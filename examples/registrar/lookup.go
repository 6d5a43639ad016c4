package registrar

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Location is the answer of the look-up endpoint: where an AOR is registered.
type Location struct {
	AOR string `json:"aor"`
	// Contacts are the AOR's live contacts, sorted by URI; empty when it is not registered.
	Contacts []LocatedContact `json:"contacts"`
	// AnsweredBy is the name of the registrar that answered ([Options].Name).
	AnsweredBy string `json:"answered_by,omitempty"`
}

// LocatedContact is one registered contact, with the ps_contacts columns that say where to
// send a request for it.
type LocatedContact struct {
	ID        string `json:"id"`
	URI       string `json:"uri"`
	Expires   int64  `json:"expires"`    // seconds left
	RegServer string `json:"reg_server"` // the registrar that took the registration
	Endpoint  string `json:"endpoint"`
	Path      string `json:"path,omitempty"`
	ViaAddr   string `json:"via_addr,omitempty"`
	ViaPort   int    `json:"via_port,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	CallID    string `json:"call_id,omitempty"`
}

// LookupHandler returns an http.Handler that answers where an AOR is registered:
//
//	GET /aors/{aor}  →  200 {"aor":"1001","contacts":[{"uri":…,"reg_server":…}],"answered_by":…}
//
// It answers from the contact store — in a cluster, this instance's cache of the contacts
// every instance registered, kept fresh by push invalidation — and keeps answering from it
// while the database is down. An AOR without live contacts is a 200 with no contacts; 503
// with Retry-After means the store could not answer (nothing cached and the database down).
func (r *Registrar) LookupHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /aors/{aor}", func(w http.ResponseWriter, req *http.Request) {
		aor := req.PathValue("aor")
		if aor == "" || strings.Contains(aor, ";@") {
			http.Error(w, "bad aor", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(req.Context(), r.opts.LookupTimeout)
		defer cancel()
		cs, err := r.Contacts(ctx, aor)
		if err != nil {
			r.log.Warn("registrar: look-up", "aor", aor, "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(int(r.opts.RetryAfter/time.Second)))
			http.Error(w, "the contacts cannot be read now", http.StatusServiceUnavailable)
			return
		}
		loc := Location{AOR: aor, Contacts: make([]LocatedContact, 0, len(cs)), AnsweredBy: r.opts.Name}
		now := time.Now().Unix()
		for _, c := range cs {
			loc.Contacts = append(loc.Contacts, LocatedContact{
				ID: c.ID, URI: c.URI, Expires: max(c.ExpirationTime-now, 0), RegServer: c.RegServer,
				Endpoint: c.Endpoint, Path: c.Path, ViaAddr: c.ViaAddr, ViaPort: c.ViaPort,
				UserAgent: c.UserAgent, CallID: c.CallID,
			})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(loc) // a client gone is no error of ours
	})
	return mux
}
