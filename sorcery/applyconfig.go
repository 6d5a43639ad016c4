package sorcery

import (
	"context"
	"fmt"
	"strings"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astconf"
)

// ApplyConfig reads the sorcery.conf file at path and applies every mapping line of its
// section, in file order, as [Sorcery.Apply] does:
//
//	[res_pjsip]
//	endpoint = config,pjsip.conf,criteria=type=endpoint
//	endpoint/cache = memory_cache,object_lifetime_stale=60,object_lifetime_maximum=86400
//	endpoint = realtime,ps_endpoints
//
// A cache line becomes a cache layer at its position in the chain. The file is Asterisk
// configuration syntax (comments, #include, templates…). An error names the file and line at
// fault — an unknown type, an unknown wizard, bad cache options, a wizard that cannot open —
// and stops the reading; the lines before it stay applied. A section that the file lacks is
// errors.ErrInvalid.
func (s *Sorcery) ApplyConfig(path, section string) error {
	return s.ApplyConfigContext(context.Background(), path, section)
}

// ApplyConfigContext is [Sorcery.ApplyConfig] bounded by ctx: the file and its includes are
// read under it, and a ctx that ends stops the reading before the next mapping line, with an
// error matching ctx.Err(). A line being applied is bounded by its wizard factory (the sqldb
// factory by its Options.Timeout, for one).
func (s *Sorcery) ApplyConfigContext(ctx context.Context, path, section string) error {
	f, err := astconf.ParseFileContext(ctx, path, nil)
	if err != nil {
		return err
	}
	cat := f.Category(section)
	if cat == nil {
		return &astconf.Error{File: path, Err: errors.Errorf("no section [%s]: %w", section, errors.ErrInvalid)}
	}
	for _, v := range cat.Vars {
		if err := ctx.Err(); err != nil {
			return errors.Errorf("%s:%d: not applied: %w", v.File, v.Line, context.Cause(ctx))
		}
		wizard, data, _ := strings.Cut(v.Value, ",")
		wizard = strings.TrimSpace(wizard)
		if wizard == "" {
			return &astconf.Error{File: v.File, Line: v.Line, Err: fmt.Errorf("%s: no wizard named", v.Name)}
		}
		if err := s.Apply(v.Name, wizard, strings.TrimSpace(data)); err != nil {
			return &astconf.Error{File: v.File, Line: v.Line, Err: err}
		}
	}
	return nil
}
