// Package config serves sorcery objects from Asterisk configuration files — pjsip.conf and
// its kin — and exports the parser that reads them.
//
// # The wizard
//
// A [Wizard] is Asterisk's "config" sorcery wizard: one object type read from one file.
// The sorcery.conf line
//
//	endpoint = config,pjsip.conf,criteria=type=endpoint
//
// becomes, through [Factory] in sorcery.Options.Wizards or directly,
//
//	w, err := config.New("pjsip.conf", &config.Options{
//		Type:     "endpoint",
//		Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}},
//	})
//
// Every category that is not a template and meets the criteria is an object; its id is the
// category name (case-sensitive) and its fields are the category's variables in order,
// inherited ones first and type= included, values as written. A file where two objects of
// the type share an id is rejected whole, with both places named. Endpoints, auths and aors
// may share an id: they are told apart by type= and served by three wizards.
//
// A Wizard implements [sorcery.Wizard], [sorcery.Searcher] (every operator, IDRegex and
// IDPrefix, from memory), [sorcery.Reloader] and io.Closer. It is not a [sorcery.Writer]:
// configuration files are read-only, so the core skips it for writes, and a type served by
// config files alone answers writes with errors.ErrReadOnly.
//
// Reload re-reads the file only when it or one of its includes changed, and replaces the
// whole set of objects at once; when the new file does not load, the previous set stays in
// service and Reload returns the error. [Wizard.Stats] counts parses and skipped reloads.
//
// # The parser
//
// [ParseFile] reads the Asterisk syntax as main/config.c does, keeping the file and line of
// every category and variable:
//
//	; a comment, to the end of the line        \;  a literal semicolon
//	;-- a block comment, which may span lines and nest --;
//	[name]               a category
//	[name](!)            a template: never an object, only inherited from
//	[name](tpl1,tpl2)    inherits the variables of earlier categories, tpl1's first
//	[name](!,tpl1)       options combine
//	[name](+)            adds to the first earlier non-template category of that name
//	[name](+type=aor)    … the first whose variables match the filter
//	key = value          a variable; key => value is the same; repeated keys are kept
//	key += more          appends "more" (as written after +=) to the last earlier value
//	#include file        and #tryinclude file: plain, "quoted" or <bracketed>, globs allowed,
//	                     relative to the including file
//	#exec command        runs command and parses its output, only when enabled
//
// Category and variable names match without regard to case; values and category names
// (object ids) keep theirs. A UTF-8 byte order mark and CRLF line ends are accepted. The
// (+) filter is Asterisk's: name=value expressions joined by &, each side an unanchored
// regular expression, so (+type=aor) also matches type=aors; write (+type=^aor$) to be exact.
//
// Every error a file causes is a [*ParseError] with the file and line — a variable before
// the first category, an unknown or later-defined template, an unterminated block comment,
// a missing #include, an include cycle, a line over [MaxLineLength], #exec when not enabled,
// and others — and matches errors.ErrInvalid. The parser never panics.
//
// docs/asterisk.md lists where this reading differs from Asterisk's and why.
//
// # Concurrency
//
// A Wizard is safe for concurrent use; Retrieve and Search take no lock. Parsing has no
// shared state, and a parsed [File] may be read from many goroutines.
package config
