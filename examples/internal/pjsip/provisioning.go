package pjsip

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Wizards holds one wizard per PJSIP type, as a provisioning service keeps them.
type Wizards struct {
	Endpoints, Auths, Aors sorcery.Wizard
}

// NewProvisioningHandler returns an HTTP handler that serves ws over Asterisk's
// res_config_curl protocol under /ps_endpoints, /ps_auths and /ps_aors: the base URLs an
// extconfig.conf maps the types to ("ps_endpoints => curl,http://host/ps_endpoints"). A nil
// opts means curl's defaults.
func NewProvisioningHandler(ws Wizards, opts *curl.HandlerOptions) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/"+TableEndpoints+"/", curl.NewHandler(ws.Endpoints, opts))
	mux.Handle("/"+TableAuths+"/", curl.NewHandler(ws.Auths, opts))
	mux.Handle("/"+TableAors+"/", curl.NewHandler(ws.Aors, opts))
	return mux
}

// AddProvisioning adds to each type of ts a memory cache with cacheOpts (named after the
// type) and behind it a curl wizard, named "provisioning", reading the type from a
// provisioning service at baseURL (baseURL/ps_endpoints and so on, as
// [NewProvisioningHandler] serves them). A nil cacheOpts or curlOpts means the package's
// defaults.
func (ts Types) AddProvisioning(baseURL string, cacheOpts *cache.Options, curlOpts *curl.Options) error {
	baseURL = strings.TrimSuffix(baseURL, "/")
	add := func(name, table string, addCache func(*cache.Options) error, addWizard func(string, sorcery.Wizard, *sorcery.MappingOptions) error) error {
		var co cache.Options
		if cacheOpts != nil {
			co = *cacheOpts
		}
		co.Name = name
		if err := addCache(&co); err != nil {
			return fmt.Errorf("%s: cache: %w", name, err)
		}
		w, err := curl.New(baseURL+"/"+table, curlOpts)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := addWizard("provisioning", w, nil); err != nil {
			w.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := add(TypeEndpoint, TableEndpoints, ts.Endpoints.AddCache, ts.Endpoints.AddWizard); err != nil {
		return err
	}
	if err := add(TypeAuth, TableAuths, ts.Auths.AddCache, ts.Auths.AddWizard); err != nil {
		return err
	}
	return add(TypeAor, TableAors, ts.Aors.AddCache, ts.Aors.AddWizard)
}

// UserRecords returns the records of a typical phone user named user: an endpoint of that
// name whose auth and AOR have the same name, an auth with the user's name and password
// (auth_type=userpass), and an AOR holding one contact, a new registration replacing the
// old (max_contacts=1, remove_existing=yes), as Asterisk's own examples configure phones.
func UserRecords(user, password string) (endpoint, auth, aor sorcery.Record) {
	endpoint = sorcery.Record{ID: user, Fields: sorcery.Fields{
		{Name: "type", Value: TypeEndpoint},
		{Name: "context", Value: "default"},
		{Name: "disallow", Value: "all"},
		{Name: "allow", Value: "opus,ulaw,alaw"},
		{Name: "auth", Value: user},
		{Name: "aors", Value: user},
		{Name: "callerid", Value: fmt.Sprintf(`"%s" <%s>`, user, user)},
	}}
	auth = sorcery.Record{ID: user, Fields: sorcery.Fields{
		{Name: "type", Value: TypeAuth},
		{Name: "auth_type", Value: AuthUserPass},
		{Name: "username", Value: user},
		{Name: "password", Value: password},
	}}
	aor = sorcery.Record{ID: user, Fields: sorcery.Fields{
		{Name: "type", Value: TypeAor},
		{Name: "max_contacts", Value: "1"},
		{Name: "remove_existing", Value: "yes"},
	}}
	return endpoint, auth, aor
}
