package realtime

import (
	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/sorcery"
)

// openCurl opens the curl driver's wizard: as with Asterisk's res_config_curl, the
// database field is the base URL and the table is not used.
func (w *Wizard) openCurl(m Mapping) (sorcery.Wizard, error) {
	return curl.New(m.Database, w.opts.Curl)
}
