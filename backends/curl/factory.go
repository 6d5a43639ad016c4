package curl

import "github.com/gosorcery/gosorcery/sorcery"

// Factory returns the factory of curl wizards for [sorcery.Options.Wizards], so that a
// mapping line such as
//
//	endpoint=curl,http://127.0.0.1:8088/prov/endpoint
//
// or s.Apply("endpoint", "curl", "http://127.0.0.1:8088/prov/endpoint") opens [New] with the
// data string as the base URL and opts for every wizard it opens. ${NAME} in the data string
// is replaced from opts.Variables. A nil opts means the defaults.
func Factory(opts *Options) sorcery.WizardFactory {
	return func(_, data string) (sorcery.Wizard, error) {
		return New(data, opts)
	}
}
