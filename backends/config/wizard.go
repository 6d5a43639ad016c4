package config

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	pathpkg "path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astconf"
	"github.com/gosorcery/gosorcery/internal/astvalue"
	"github.com/gosorcery/gosorcery/sorcery"
)

var (
	_ sorcery.Wizard   = (*Wizard)(nil)
	_ sorcery.Searcher = (*Wizard)(nil)
	_ sorcery.Reloader = (*Wizard)(nil)
	_ sorcery.Locator  = (*Wizard)(nil)

	_ sorcery.ImmediateRetriever = (*Wizard)(nil)
	_ io.Closer                  = (*Wizard)(nil)
)

// Options configure a [Wizard]. The zero value (or a nil *Options) makes every category that
// is not a template an object, reads from the operating system's file system and refuses
// #exec.
type Options struct {
	// Type is the object type the wizard serves, such as "endpoint", used in error messages.
	// Zero: "object". [Factory] sets it to the mapping's type.
	Type string

	// Criteria select the categories that are objects of this type (Asterisk's
	// criteria=name=value, repeatable): each must hold, meaning the first variable of the
	// category with that name, matched without regard to case, has exactly that value. A
	// category lacking the variable is not an object. Zero (none), and no ExplicitName:
	// every category is.
	Criteria sorcery.Fields

	// ExplicitName selects the category of that name, matched exactly, whatever its
	// variables (Asterisk's explicit_name=, used with SingleObject for types that exist once,
	// such as PJSIP's [global] and ARI's [general], which carry no type=). With Criteria
	// too, a category is an object when either selects it, as in res_sorcery_config.c.
	// Zero: the name selects nothing by itself.
	ExplicitName string

	// SingleObject makes a file that holds more than one object of this type an error
	// (Asterisk's single_object=yes). Zero (false): any number of objects.
	SingleObject bool

	// Dir is the directory a relative path given to [New] or in the factory's data string is
	// resolved against. Zero: the working directory (the root of FS when FS is set).
	Dir string

	// Exec allows #exec directives; ExecTimeout bounds each command (zero:
	// DefaultExecTimeout); MaxVariables bounds the variables of a parse (zero:
	// DefaultMaxVariables); FS, when set, is the file system files are read from (zero: the
	// operating system's). They are passed to the parser as [ParseOptions].
	Exec         bool
	ExecTimeout  time.Duration
	MaxVariables int
	FS           fs.FS
}

// Wizard serves the objects of one type from an Asterisk configuration file, like a
// sorcery.conf line "endpoint = config,pjsip.conf,criteria=type=endpoint". Create one with
// [New] or through [Factory]; the zero Wizard is not ready to use. It is safe for concurrent
// use.
//
// The file is parsed once, by New and then by each Reload that finds it changed; Retrieve
// and Search answer from the set of objects in memory and never read the file. Records are
// copies: a caller may change what it receives.
//
// A Wizard is read-only: it does not implement [sorcery.Writer], so the core skips it for
// writes and a type served only by config files answers writes with errors.ErrReadOnly.
type Wizard struct {
	path      string // the file, resolved against Options.Dir
	opts      Options
	parseOpts astconf.Options

	set    atomic.Pointer[objectSet] // the objects being served; swapped whole by Reload and Close
	closed atomic.Bool               // Close has been called

	reloadMu sync.Mutex // serializes Reload and Close, so that a reload never outlives Close

	parses, unchanged, reloadErrors atomic.Uint64
}

// objectSet is one generation of objects, built from one parse and never changed after.
type objectSet struct {
	file     *astconf.File // for change detection; its categories are dropped once built
	records  []sorcery.Record
	origins  []string       // file:line of each record's category
	byID     map[string]int // id → index in records
	files    int
	loadedAt time.Time
	closed   bool // the set Close leaves: every call answers errors.ErrClosed
}

// Stats describes what a Wizard holds and how often it has read its file.
type Stats struct {
	Objects      int       // objects in the set being served
	Files        int       // files read for that set, includes counted
	LoadedAt     time.Time // when that set was parsed
	Parses       uint64    // times the file was parsed: by New and by reloads that found it changed, failures included
	Unchanged    uint64    // reloads that found nothing changed and parsed nothing
	ReloadErrors uint64    // reloads whose new file did not load; the previous set was kept
}

// New opens the configuration file at path, resolved against opts.Dir when relative, and
// loads the objects of one type from it. An error in the file is a [*ParseError] naming
// the file and line; two objects of this type with one id are an error naming both.
func New(path string, opts *Options) (*Wizard, error) {
	return NewContext(context.Background(), path, opts)
}

// NewContext is [New] bounded by ctx, which is checked before each file is read and bounds
// #exec commands; a ctx that ends makes it fail with an error matching ctx.Err().
func NewContext(ctx context.Context, path string, opts *Options) (*Wizard, error) {
	var o Options
	if opts != nil {
		o = *opts
		o.Criteria = o.Criteria.Clone()
	}
	if strings.TrimSpace(path) == "" {
		return nil, errors.Errorf("config wizard: no file name: %w", errors.ErrInvalid)
	}
	for _, c := range o.Criteria {
		if strings.TrimSpace(c.Name) == "" {
			return nil, errors.Errorf("config wizard %s: criterion %q=%q has no field name: %w", path, c.Name, c.Value, errors.ErrInvalid)
		}
	}
	if o.Dir != "" {
		if o.FS != nil && !pathpkg.IsAbs(path) {
			path = pathpkg.Join(o.Dir, path)
		} else if o.FS == nil && !filepath.IsAbs(path) {
			path = filepath.Join(o.Dir, path)
		}
	}
	w := &Wizard{
		path: path,
		opts: o,
		parseOpts: astconf.Options{
			Exec:         o.Exec,
			ExecTimeout:  o.ExecTimeout,
			MaxVariables: o.MaxVariables,
			FS:           o.FS,
		},
	}
	s, err := w.load(ctx)
	if err != nil {
		return nil, err
	}
	w.set.Store(s)
	return w, nil
}

// Path returns the file the wizard reads, resolved against Options.Dir.
func (w *Wizard) Path() string { return w.path }

// load parses the file and builds the set of objects of the wizard's type.
func (w *Wizard) load(ctx context.Context) (*objectSet, error) {
	w.parses.Add(1)
	f, err := astconf.ParseFileContext(ctx, w.path, &w.parseOpts)
	if err != nil {
		return nil, err
	}
	return w.build(f)
}

func (w *Wizard) typeName() string {
	if w.opts.Type != "" {
		return w.opts.Type
	}
	return "object"
}

// build selects the categories that are objects of the wizard's type and turns them into
// records.
func (w *Wizard) build(f *astconf.File) (*objectSet, error) {
	s := &objectSet{file: f, byID: make(map[string]int), files: len(f.Files), loadedAt: time.Now()}
	var cats []*astconf.Category // the category of each record, for messages
	for _, c := range f.Categories {
		if c.IsTemplate || !w.selects(c) {
			continue
		}
		if i, dup := s.byID[c.Name]; dup {
			first := cats[i]
			return nil, &astconf.Error{File: c.File, Line: c.Line, Err: fmt.Errorf(
				"%s %q is defined twice: first at %s:%d", w.typeName(), c.Name, first.File, first.Line)}
		}
		fields := make(sorcery.Fields, len(c.Vars))
		for i, v := range c.Vars {
			fields[i] = sorcery.Field{Name: v.Name, Value: v.Value}
		}
		s.byID[c.Name] = len(s.records)
		s.records = append(s.records, sorcery.Record{ID: c.Name, Fields: fields})
		s.origins = append(s.origins, c.File+":"+strconv.Itoa(c.Line))
		cats = append(cats, c)
	}
	if w.opts.SingleObject && len(cats) > 1 {
		return nil, &astconf.Error{File: cats[1].File, Line: cats[1].Line, Err: fmt.Errorf(
			"single_object is set, but %s %q is a second %s after %q at %s:%d",
			w.typeName(), cats[1].Name, w.typeName(), cats[0].Name, cats[0].File, cats[0].Line)}
	}
	f.Categories = nil // the records hold what is needed; keep only what change detection uses
	return s, nil
}

// selects reports whether c is an object of the wizard's type, as res_sorcery_config.c's
// sorcery_config_internal_load decides: with neither ExplicitName nor Criteria, every
// category is; otherwise a category is when its name is ExplicitName, or when every
// criterion holds for the first variable of that name. Either one is enough.
func (w *Wizard) selects(c *astconf.Category) bool {
	if w.opts.ExplicitName == "" && len(w.opts.Criteria) == 0 {
		return true
	}
	if w.opts.ExplicitName != "" && c.Name == w.opts.ExplicitName {
		return true
	}
	if len(w.opts.Criteria) == 0 {
		return false
	}
	for _, crit := range w.opts.Criteria {
		v, ok := c.Get(crit.Name)
		if !ok || v != crit.Value {
			return false
		}
	}
	return true
}

// Locate returns the file and line of the category that defines the object with id, such
// as "pjsip.conf:12", or "" when the wizard serves no such object.
func (w *Wizard) Locate(id string) string {
	s := w.set.Load()
	if i, ok := s.byID[id]; ok && i < len(s.origins) {
		return s.origins[i]
	}
	return ""
}

// Retrieve returns the object with the given id, matched exactly (ids are case-sensitive).
// It answers from memory: (record, true, nil) when the object exists, (zero, false, nil)
// when it does not. A cancelled ctx returns ctx.Err(); after Close, errors.ErrClosed.
func (w *Wizard) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	s := w.set.Load()
	if s.closed {
		return sorcery.Record{}, false, errors.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return sorcery.Record{}, false, err
	}
	i, ok := s.byID[id]
	if !ok {
		return sorcery.Record{}, false, nil
	}
	return s.records[i].Clone(), true, nil
}

// AnswersFor reports whether w is this wizard itself, for [sorcery.ImmediateRetriever]: a
// type that embeds the wizard and changes its Retrieve is then asked through that Retrieve.
func (w *Wizard) AnswersFor(as sorcery.Wizard) bool { return as == sorcery.Wizard(w) }

// RetrieveNow is Retrieve, which always answers at once: from the objects read from the
// file, never from the file itself.
func (w *Wizard) RetrieveNow(ctx context.Context, id string) (rec sorcery.Record, found bool, err error, now bool) {
	rec, found, err = w.Retrieve(ctx, id)
	return rec, found, err, true
}

// Search returns the objects that satisfy q, in file order, from memory. Every operator of
// [sorcery.Op], IDRegex and IDPrefix is supported; a bad regular expression is
// errors.ErrInvalid. A cancelled ctx returns ctx.Err(); after Close, errors.ErrClosed.
func (w *Wizard) Search(ctx context.Context, q sorcery.Query) ([]sorcery.Record, error) {
	s := w.set.Load()
	if s.closed {
		return nil, errors.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := q.Compile()
	if err != nil {
		return nil, err
	}
	var out []sorcery.Record
	for i := range s.records {
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if m.Match(s.records[i]) {
			out = append(out, s.records[i].Clone())
		}
	}
	return out, nil
}

// Reload re-reads the file when it or one of its includes changed, and swaps in the new set
// of objects whole: a concurrent Retrieve or Search sees either the old set or the new one,
// never a mixture.
//
// Change is detected as Asterisk detects it, by the size and modification time of every
// file read, with two refinements: a file whose time changed but whose contents did not
// (touched, or rewritten with the same bytes) is unchanged, and a file modified within two
// seconds before it was read is compared by contents, since coarse file system clocks can
// hide a second write. An #include pattern that now matches other files is a change; a file
// with #exec always counts as changed. When nothing changed, Reload parses nothing
// ([Stats].Unchanged counts those).
//
// When the new file does not load (a syntax error, a missing include, a duplicate id), the
// previous set stays in service and the error is returned.
func (w *Wizard) Reload(ctx context.Context) error {
	w.reloadMu.Lock()
	defer w.reloadMu.Unlock()
	if w.closed.Load() {
		return errors.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !w.set.Load().file.Changed() {
		w.unchanged.Add(1)
		return nil
	}
	s, err := w.load(ctx)
	if err != nil {
		w.reloadErrors.Add(1)
		return err
	}
	w.set.Store(s)
	return nil
}

// Close releases the objects. Later calls of every method return errors.ErrClosed, Close
// included.
func (w *Wizard) Close() error {
	w.reloadMu.Lock()
	defer w.reloadMu.Unlock()
	if w.closed.Swap(true) {
		return errors.ErrClosed
	}
	w.set.Store(&objectSet{file: &astconf.File{}, byID: map[string]int{}, closed: true})
	return nil
}

// Stats returns what the wizard holds and how often it has read its file.
func (w *Wizard) Stats() Stats {
	s := w.set.Load()
	return Stats{
		Objects:      len(s.records),
		Files:        s.files,
		LoadedAt:     s.loadedAt,
		Parses:       w.parses.Load(),
		Unchanged:    w.unchanged.Load(),
		ReloadErrors: w.reloadErrors.Load(),
	}
}

// Factory returns the factory of the "config" wizard for sorcery.Options.Wizards. It takes
// Asterisk's wizard data, the part of a sorcery.conf line after "config,":
//
//	pjsip.conf,criteria=type=endpoint
//	pjsip.conf,criteria=type=global,single_object=yes,explicit_name=global
//
// The file name comes first, resolved against opts.Dir when relative; options follow, comma
// separated: criteria=name=value (repeatable, added to opts.Criteria), explicit_name=name,
// single_object=yes|no (Asterisk's truth values), and Asterisk's buckets=n and
// integrity=file|object, which are checked and have no effect here (there are no hash
// buckets to size, and objects are decoded by the core, not by the wizard). Anything else is
// errors.ErrInvalid. The mapping's type becomes Options.Type unless opts sets one.
func Factory(opts *Options) sorcery.WizardFactory {
	var base Options
	if opts != nil {
		base = *opts
	}
	return func(typeName, data string) (sorcery.Wizard, error) {
		o := base
		o.Criteria = base.Criteria.Clone()
		if o.Type == "" {
			o.Type = typeName
		}
		file, err := parseData(data, &o)
		if err != nil {
			return nil, err
		}
		w, err := New(file, &o)
		if err != nil {
			return nil, err
		}
		return w, nil
	}
}

// parseData reads the wizard data string into o and returns the file name.
func parseData(data string, o *Options) (string, error) {
	bad := func(format string, args ...any) error {
		return errors.Errorf("config wizard data %q: %s: %w", data, fmt.Sprintf(format, args...), errors.ErrInvalid)
	}
	parts := strings.Split(data, ",")
	file := strings.TrimSpace(parts[0])
	if file == "" {
		return "", bad("no file name")
	}
	for _, part := range parts[1:] {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "criteria":
			field, v, ok := strings.Cut(value, "=")
			field, v = strings.TrimSpace(field), strings.TrimSpace(v)
			if !ok || field == "" {
				return "", bad("criteria %q is not criteria=name=value", value)
			}
			o.Criteria = append(o.Criteria, sorcery.Field{Name: field, Value: v})
		case "explicit_name":
			if value == "" {
				return "", bad("explicit_name needs a category name")
			}
			o.ExplicitName = value
		case "single_object":
			b, err := astvalue.Bool(value)
			if err != nil {
				return "", bad("single_object: %v", err)
			}
			o.SingleObject = b
		case "buckets":
			if n, err := astvalue.Count(value); err != nil || n == 0 {
				return "", bad("buckets=%q is not a positive number", value)
			}
		case "integrity":
			if v := strings.ToLower(value); v != "file" && v != "object" {
				return "", bad("integrity=%q is neither file nor object", value)
			}
		default:
			return "", bad("unknown option %q (want criteria, explicit_name, single_object, buckets or integrity)", name)
		}
	}
	return file, nil
}
