package sorcery

import (
	"context"
	"fmt"
	"strconv"
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
// errors.ErrInvalid. A line mapping a wizard the type already has from an earlier line
// (endpoint = realtime,ps_endpoints then endpoint = realtime,extra) is ignored, as
// main/sorcery.c ignores it, and logged as a warning naming the file and line of both.
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
	first := map[string]string{} // "type\x00wizard" → file:line of the line that applied it
	for _, v := range cat.Vars {
		if err := ctx.Err(); err != nil {
			return errors.Errorf("%s:%d: not applied: %w", v.File, v.Line, context.Cause(ctx))
		}
		wizard, data, _ := strings.Cut(v.Value, ",")
		wizard = strings.TrimSpace(wizard)
		if wizard == "" {
			return &astconf.Error{File: v.File, Line: v.Line, Err: fmt.Errorf("%s: no wizard named", v.Name)}
		}
		here := v.File + ":" + strconv.Itoa(v.Line)
		if err := s.Apply(v.Name, wizard, strings.TrimSpace(data)); err != nil {
			var dup *DuplicateMappingError
			if errors.As(err, &dup) {
				s.logger.Warn("sorcery: duplicate mapping ignored, as Asterisk ignores it",
					"at", here, "type", dup.Type, "wizard", dup.Wizard, "first", first[dup.Type+"\x00"+dup.Wizard])
				continue
			}
			return &astconf.Error{File: v.File, Line: v.Line, Err: err}
		}
		base, _ := strings.CutSuffix(strings.TrimSpace(v.Name), "/cache")
		first[base+"\x00"+wizard] = here
	}
	return nil
}

// DuplicateMappingError is the refusal of [Sorcery.Apply] to map a wizard to a type that
// already has it from an earlier Apply. It matches errors.ErrExists.
type DuplicateMappingError struct {
	Type   string // the object type, such as "endpoint"
	Wizard string // the wizard, such as "realtime"
}

// Error returns "sorcery: <type>: wizard <wizard> already applied; mapping ignored".
func (e *DuplicateMappingError) Error() string {
	return "sorcery: " + e.Type + ": wizard " + e.Wizard + " already applied; mapping ignored"
}

// Unwrap returns errors.ErrExists.
func (e *DuplicateMappingError) Unwrap() error { return errors.ErrExists }

// reserveMapping records that Apply maps wizard to typeName, or refuses a duplicate.
func (s *Sorcery) reserveMapping(typeName, wizard string) error {
	key := typeName + "\x00" + wizard
	s.appliedMu.Lock()
	defer s.appliedMu.Unlock()
	if s.applied[key] {
		return &DuplicateMappingError{Type: typeName, Wizard: wizard}
	}
	if s.applied == nil {
		s.applied = map[string]bool{}
	}
	s.applied[key] = true
	return nil
}

// releaseMapping forgets a mapping that failed to apply.
func (s *Sorcery) releaseMapping(typeName, wizard string) {
	s.appliedMu.Lock()
	defer s.appliedMu.Unlock()
	delete(s.applied, typeName+"\x00"+wizard)
}
