// Package astconf parses Asterisk configuration files (pjsip.conf, sorcery.conf,
// extconfig.conf, …) the way Asterisk's main/config.c reads them, keeping the file and line
// of every category and variable so that errors can point at them.
//
// It is internal because three packages share it: backends/config (which re-exports it to
// users as config.ParseFile and friends), sorcery (sorcery.conf mappings) and
// backends/realtime (extconfig.conf).
//
// # Syntax
//
//	; a comment, to the end of the line        \;  a literal semicolon
//	;-- a block comment, which may span lines and nest --;
//	[name]               a category
//	[name](!)            a template: never an object, only inherited from
//	[name](tpl1,tpl2)    inherits the variables of earlier categories, tpl1's first
//	[name](!,tpl1)       options combine
//	[name](+)            adds to the first earlier non-template category of that name
//	[name](+type=aor)    … the first whose variables match the filter (see below)
//	key = value          a variable; key => value is the same
//	key += more          appends to the last earlier value of key
//	#include file        and #tryinclude file: plain, "quoted" or <bracketed>, globs allowed
//	#exec command        runs command and parses its output, only when Options.Exec is set
//
// Category and variable names match without regard to case (Category.Get, File.Category,
// inheritance and (+) lookups); values and category names are kept as written. Whitespace
// around names and values is trimmed. A UTF-8 byte order mark at the start of a file and CR
// before each LF are ignored. Repeated keys are kept, in order: that is how multi-valued
// options such as allow= are written.
//
// Inheritance copies the parent's variables, inherited ones included, in front of the
// category's own; the copies keep the parent's file and line. A parent may be a template or
// an ordinary category but must be defined above the line that names it.
//
// The (+) filter is Asterisk's: expressions name=value joined by &, each side an unanchored
// regular expression matched against one variable of the candidate category. (+type=aor)
// therefore also matches type=aors; write (+type=^aor$) to be exact. TEMPLATES=include lets
// the filter select templates too, TEMPLATES=restrict only templates.
//
// Variables that come before any category in an included file belong to the category that
// was current where the file was included, as in Asterisk.
//
// # Errors
//
// Every error a file causes is an [*Error] carrying the file and line; it matches
// errors.ErrInvalid, and also fs.ErrNotExist for a missing #include. The parser stops at the
// first error. It never panics, whatever the input: FuzzParse checks that.
//
// # Change detection
//
// [File.Changed] tells whether re-reading would give a different result, which is how
// Asterisk's "reload only if changed" works: the files read, the files every #include pattern
// matches, and #exec (whose output is always treated as changed).
//
// # Concurrency
//
// Parsing has no shared state: any number of parses may run at once. A [File] is not changed
// after it is returned and may be read from many goroutines.
package astconf
