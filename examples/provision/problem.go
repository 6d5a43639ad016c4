package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/errors"
)

// problem is one thing wrong with a source or an object, and where it is when it is in a
// file.
type problem struct {
	at   location
	what string
}

// String returns "file:line: what", or "what" when there is no location.
func (p problem) String() string {
	if at := p.at.String(); at != "" {
		return at + ": " + p.what
	}
	return p.what
}

// problemf returns a problem at a location.
func problemf(at location, format string, args ...any) problem {
	return problem{at: at, what: fmt.Sprintf(format, args...)}
}

// problems is an error made of one or more problems, each reported on a line of its own.
type problems []problem

// Error returns the problems, one a line.
func (ps problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// maxProblems bounds how many problems are printed; the rest are counted.
const maxProblems = 50

// report writes err to w for a person to read: each problem on a line of its own with the
// program's name in front, and library errors without their "sorcery: " prefixes.
func report(w io.Writer, err error) {
	var ps problems
	if !errors.As(err, &ps) {
		var ce *config.ParseError
		if errors.As(err, &ce) {
			ps = problems{fromConfError(ce)}
		} else {
			ps = problems{{what: plain(err)}}
		}
	}
	for i, p := range ps {
		if i == maxProblems {
			fmt.Fprintf(w, "provision: … and %d more\n", len(ps)-maxProblems)
			break
		}
		fmt.Fprintf(w, "provision: %s\n", p)
	}
}

// plain returns err's message without the "sorcery: " that starts the library's messages
// (the library names itself once per message: see errors.Detail).
func plain(err error) string { return errors.Detail(err) }

// fromConfError turns a parse error of a configuration file into a problem at its line.
func fromConfError(e *config.ParseError) problem {
	what := "invalid"
	if e.Err != nil {
		what = errors.Detail(e.Err)
	}
	if e.Line == 0 {
		return problem{what: e.File + ": " + what}
	}
	return problem{at: location{File: e.File, Line: e.Line}, what: what}
}
