package astconf

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// Limits the parser enforces. They are Asterisk's.
const (
	// MaxLineLength is the longest line accepted, in bytes, not counting the line feed that
	// ends it (a CR before it counts). Asterisk reads lines into an 8192-byte buffer and skips
	// longer ones with a warning; here a longer line is an error.
	MaxLineLength = 8190

	// MaxIncludeDepth is how many files one chain of #include may have open at once, the top
	// file counting as one (Asterisk's include level limit).
	MaxIncludeDepth = 10

	// MaxCommentDepth is how deeply ;-- --; block comments may nest.
	MaxCommentDepth = 128

	// DefaultMaxVariables bounds the variables one parse may hold, inherited copies included,
	// when Options.MaxVariables is zero. It is not Asterisk's: it stops a small file whose
	// templates inherit from each other twice over from growing exponentially. 100,000
	// endpoints of 30 variables each stay below it.
	DefaultMaxVariables = 1 << 22

	// DefaultExecTimeout bounds an #exec command when Options.ExecTimeout is zero.
	DefaultExecTimeout = 10 * time.Second

	// maxExecOutput bounds what an #exec command may print.
	maxExecOutput = 64 << 20
)

// Options adjust parsing. The zero value (or a nil *Options) reads from the operating
// system's file system and refuses #exec.
type Options struct {
	// Exec allows #exec directives: the command runs through /bin/sh -c in the directory of
	// the file that names it, and its standard output is parsed in place of the directive.
	// Zero (false): an #exec line is an error, as in an Asterisk without execincludes=yes.
	Exec bool

	// ExecTimeout bounds each #exec command; the parse's context bounds it too.
	// Zero: DefaultExecTimeout.
	ExecTimeout time.Duration

	// MaxVariables bounds the variables the parse may hold, inherited copies included;
	// beyond it the parse fails. Zero: DefaultMaxVariables.
	MaxVariables int

	// FS, when set, is where files and #include patterns are read from: paths are
	// slash-separated and relative to its root, as io/fs requires. Zero (nil): the operating
	// system's file system, where relative paths are relative to the working directory.
	FS fs.FS
}

// File is a parsed configuration file, its includes resolved.
type File struct {
	// Name is the path given to ParseFile, or the name given to Parse.
	Name string

	// Categories are every category in the order their headers appear, templates included.
	// A category that (+) added to appears once, where it was first defined.
	Categories []*Category

	// Files are the paths of every file read, in the order they were first read: the top
	// file first (when it was read from a file system), then each included file.
	Files []string

	fsys     fileSystem
	sources  []source        // what was read, to tell whether it changed
	includes []includeRecord // every #include pattern and the files it matched
	hasExec  bool            // some #exec ran: its output may differ each time
}

// Category returns the first category that is not a template and is named name, matching
// without regard to case, or nil when there is none. This is how Asterisk looks a category
// up by name.
func (f *File) Category(name string) *Category {
	for _, c := range f.Categories {
		if !c.IsTemplate && strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// Category is one [name] section of a file.
type Category struct {
	// Name is the name between the brackets, trimmed, in the case it was written.
	Name string

	// IsTemplate reports a template, [name](!): a category only to be inherited from.
	IsTemplate bool

	// Templates are the names of the categories this one inherits from, in order.
	Templates []string

	// Vars are the category's variables in order: those inherited first, parent by parent,
	// then its own, then those a later (+) added.
	Vars []Variable

	// File and Line locate the category's header.
	File string
	Line int
}

// Get returns the value of the first variable named name, matching without regard to case,
// and whether there is one.
func (c *Category) Get(name string) (string, bool) {
	for i := range c.Vars {
		if strings.EqualFold(c.Vars[i].Name, name) {
			return c.Vars[i].Value, true
		}
	}
	return "", false
}

// Values returns the values of every variable named name, matching without regard to case,
// in order, or nil when there is none.
func (c *Category) Values(name string) []string {
	var vs []string
	for i := range c.Vars {
		if strings.EqualFold(c.Vars[i].Name, name) {
			vs = append(vs, c.Vars[i].Value)
		}
	}
	return vs
}

// Variable is one name = value line.
type Variable struct {
	Name  string // as written, trimmed
	Value string // as written, trimmed; += appends to it
	File  string // where the line is; for an inherited variable, in the parent
	Line  int
}

// Error is an error in a configuration file: what is wrong, and where. It matches
// errors.ErrInvalid; Err is the cause and is matched too (fs.ErrNotExist for a missing
// #include, for instance).
type Error struct {
	File string // the file at fault
	Line int    // the line at fault, counting from 1; 0 when the error is about the whole file
	Err  error  // what is wrong
}

// Error returns "sorcery: file:line: what is wrong".
func (e *Error) Error() string { return "sorcery: " + e.Detail() }

// Detail is Error without the library's name (see errors.Detailer).
func (e *Error) Detail() string {
	msg := "invalid"
	if e.Err != nil {
		msg = errors.Detail(e.Err)
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
	}
	return fmt.Sprintf("%s: %s", e.File, msg)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is errors.ErrInvalid: every Error is an invalid configuration.
func (e *Error) Is(target error) bool { return target == errors.ErrInvalid }

// ParseFile reads and parses the configuration file at path with its includes.
func ParseFile(path string, opts *Options) (*File, error) {
	return ParseFileContext(context.Background(), path, opts)
}

// ParseFileContext is [ParseFile] with a context, which bounds #exec commands and is checked
// before each file is read. A cancelled ctx returns an error matching ctx.Err().
func ParseFileContext(ctx context.Context, path string, opts *Options) (*File, error) {
	p := newParser(ctx, path, opts)
	if err := p.readFile(path, nil, 0); err != nil {
		return nil, err
	}
	p.flush()
	return p.file, nil
}

// Parse parses src as the contents of a file called name. name is used in error messages,
// and #include paths are resolved relative to its directory (in Options.FS when set). The
// top file itself is not read from any file system and not listed in File.Files.
func Parse(name string, src []byte, opts *Options) (*File, error) {
	return ParseContext(context.Background(), name, src, opts)
}

// ParseContext is [Parse] with a context, as [ParseFileContext] uses it.
func ParseContext(ctx context.Context, name string, src []byte, opts *Options) (*File, error) {
	p := newParser(ctx, name, opts)
	if err := p.ctx.Err(); err != nil {
		return nil, errors.Errorf("%s: %w", name, err)
	}
	if err := p.parse(name, p.fsys.dir(name), p.fsys.key(name), src); err != nil {
		return nil, err
	}
	p.flush()
	return p.file, nil
}
