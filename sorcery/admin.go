package sorcery

import (
	"context"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// CacheAdmin is what an operator can do with a cache layer whatever its object type: the
// methods of [cache.Cache] that do not involve the objects' Go type, the twins of Asterisk's
// "sorcery memory cache" CLI commands and AMI actions. Every *cache.Cache[T] is one.
type CacheAdmin interface {
	Options() cache.Options
	Stats() cache.Stats
	Inspect(id string) (cache.EntryInfo, bool)
	List(opts *cache.ListOptions) (cache.EntryPage, error)
	Expire(id string)
	ExpireAll()
	MarkStale(id string, reload bool)
	MarkAllStale()
	Populate(ctx context.Context) error
}

var _ CacheAdmin = (*cache.Cache[struct{}])(nil)

// Layer is one element of a type's chain, as [Sorcery.Chain] reports it: a wizard or a
// cache.
type Layer struct {
	// Name is the layer's name in the chain, as in errors, stats and hooks.
	Name string
	// Cache is the cache of a cache layer; nil for a wizard.
	Cache CacheAdmin
}

// adminType is what Chain and PeekRecord need of a Type[T] whatever T is.
type adminType interface {
	adminChain() []Layer
	peekRecord(id string) (Record, bool, error)
}

// Chain returns the layers of the type typeName in chain order, for administration. It is an
// error matching errors.ErrInvalid to name no registered type, and errors.ErrClosed after
// Close.
func (s *Sorcery) Chain(typeName string) ([]Layer, error) {
	t, err := s.lookup(typeName)
	if err != nil {
		return nil, err
	}
	return t.(adminType).adminChain(), nil
}

// PeekRecord returns the object id of the type typeName as the first cache of its chain that
// holds it has it, encoded into a record by the type's codec, without loading it: what an
// administration page may show of an object. found is false when no cache holds it. Errors
// are those of [Sorcery.Chain], or the codec's.
func (s *Sorcery) PeekRecord(typeName, id string) (rec Record, found bool, err error) {
	t, err := s.lookup(typeName)
	if err != nil {
		return Record{}, false, err
	}
	return t.(adminType).peekRecord(id)
}

func (t *Type[T]) adminChain() []Layer {
	ls := t.layers()
	out := make([]Layer, len(ls))
	for i, l := range ls {
		out[i].Name = l.name
		if l.cache != nil {
			out[i].Cache = l.cache
		}
	}
	return out
}

func (t *Type[T]) peekRecord(id string) (Record, bool, error) {
	v, ok := t.peek(id)
	if !ok {
		return Record{}, false, nil
	}
	rec, err := t.codec.Encode(v)
	if err != nil {
		return Record{}, false, errors.Errorf("%s: encode %q: %w", t.name, id, err)
	}
	if rec.ID == "" {
		rec.ID = id
	}
	return rec, true, nil
}

// errorClass is the kind of a failure, an index in errorClasses.
type errorClass uint8

// errorClasses name the kinds of failure in WizardStats.LastErrorClass, by errorClass.
var errorClasses = [...]string{"other", "timeout", "canceled", "unavailable", "invalid", "not_found", "exists", "read_only", "unsupported", "closed"}

// errorClassOf classes err: context.DeadlineExceeded, context.Canceled, then the sentinels of
// package errors, in the order of errorClasses; anything else is "other".
func errorClassOf(err error) errorClass {
	for i, target := range []error{
		nil, context.DeadlineExceeded, context.Canceled, errors.ErrUnavailable, errors.ErrInvalid,
		errors.ErrNotFound, errors.ErrExists, errors.ErrReadOnly, errors.ErrUnsupported, errors.ErrClosed,
	} {
		if target != nil && errors.Is(err, target) {
			return errorClass(i)
		}
	}
	return 0
}
