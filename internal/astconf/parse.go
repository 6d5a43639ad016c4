package astconf

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

const bom = "\xEF\xBB\xBF"

// parser holds the state of one parse: the file being built and Asterisk's notion of the
// current category, which an included file starts from.
type parser struct {
	ctx     context.Context
	opts    Options
	fsys    fileSystem
	file    *File
	byName  map[string]nameChain // lower-cased name → the categories of that name
	next    []int                // index in file.Categories → next category of the same name, or -1
	current *Category            // the category last defined or added to, across files
	stack   []frame              // the files being read, outermost first
	vars    int                  // variables stored so far
	maxVars int                  // the most variables allowed

	// appending is the variable that the last lines extended with +=: its value grows in
	// buf, with room to spare, and is written back by flush before any other line is
	// handled, so that a run of += lines costs time linear in what they add.
	appending struct {
		cat *Category
		idx int
		buf []byte
	}
}

// nameChain links the categories that share a name, in order, through parser.next; plain is
// the first of them that is not a template, or -1, so that [name](+) finds it at once.
type nameChain struct{ first, last, plain int }

// frame is one file on the include stack.
type frame struct {
	name, key string
}

// fileState is the state of one file being read: its own current category, which an
// #include does not change.
type fileState struct {
	name string // for messages
	dir  string // where relative includes resolve
	cur  *Category
}

func newParser(ctx context.Context, name string, opts *Options) *parser {
	if ctx == nil {
		ctx = context.Background()
	}
	p := &parser{ctx: ctx, byName: make(map[string]nameChain)}
	if opts != nil {
		p.opts = *opts
	}
	p.fsys = newFileSystem(p.opts.FS)
	p.maxVars = p.opts.MaxVariables
	if p.maxVars <= 0 {
		p.maxVars = DefaultMaxVariables
	}
	p.file = &File{Name: name, fsys: p.fsys}
	return p
}

// errorf returns an *Error at file:line.
func errorf(file string, line int, format string, args ...any) error {
	return &Error{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// readFile reads the file at path and parses it. from and line name the #include that asked
// for it; from is nil for the top file.
func (p *parser) readFile(path string, from *fileState, line int) error {
	key := p.fsys.key(path)
	if err := p.enter(key, path, from, line); err != nil {
		return err
	}
	if err := p.ctx.Err(); err != nil {
		return errors.Errorf("%s: %w", path, err)
	}
	readAt := time.Now()
	data, info, err := p.fsys.readFile(path)
	if err != nil {
		if from == nil {
			return &Error{File: path, Err: err}
		}
		return errorf(from.name, line, "#include %s: %w", path, err)
	}
	p.file.Files = append(p.file.Files, path)
	p.file.sources = append(p.file.sources, newSource(path, info, data, readAt))
	return p.parse(path, p.fsys.dir(path), key, data)
}

// enter checks that reading the file named key would make no include cycle and stay within
// MaxIncludeDepth.
func (p *parser) enter(key, name string, from *fileState, line int) error {
	if from == nil {
		return nil
	}
	for i, fr := range p.stack {
		if fr.key == key {
			chain := make([]string, 0, len(p.stack)-i+1)
			for _, g := range p.stack[i:] {
				chain = append(chain, g.name)
			}
			chain = append(chain, name)
			return errorf(from.name, line, "include cycle: %s", strings.Join(chain, " includes "))
		}
	}
	if len(p.stack) >= MaxIncludeDepth {
		return errorf(from.name, line, "#include %s: includes nested more than %d files deep", name, MaxIncludeDepth)
	}
	return nil
}

// parse parses data as the contents of the file called name, which lies in dir.
func (p *parser) parse(name, dir, key string, data []byte) error {
	p.stack = append(p.stack, frame{name: name, key: key})
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()

	f := &fileState{name: name, dir: dir, cur: p.current}
	text := strings.TrimPrefix(string(data), bom)
	var blocks []int // start lines of the open block comments, innermost last
	for lineno := 1; text != ""; lineno++ {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		if len(line) > MaxLineLength {
			return errorf(name, lineno, "line is %d bytes long, over the limit of %d", len(line), MaxLineLength)
		}
		if strings.IndexByte(line, 0) >= 0 {
			return errorf(name, lineno, "line contains a NUL byte")
		}
		stripped, err := stripComments(line, lineno, &blocks)
		if err != nil {
			return &Error{File: name, Line: lineno, Err: err}
		}
		stripped = trim(stripped)
		if stripped == "" {
			continue
		}
		if err := p.line(f, stripped, lineno); err != nil {
			return err
		}
	}
	if n := len(blocks); n > 0 {
		return errorf(name, blocks[n-1], "block comment ';--' is never closed with '--;'")
	}
	return nil
}

// stripComments returns line without its comments, with \; turned into ;. blocks is the
// stack of open block comments, carried from line to line.
func stripComments(line string, lineno int, blocks *[]int) (string, error) {
	if len(*blocks) == 0 && strings.IndexByte(line, ';') < 0 {
		return line, nil
	}
	var out segments
	i := 0
	for i <= len(line) {
		j := strings.IndexByte(line[i:], ';')
		if len(*blocks) == 0 {
			if j < 0 {
				out.add(line[i:])
				break
			}
			j += i
			switch {
			case j > i && line[j-1] == '\\': // an escaped semicolon is text
				out.add(line[i : j-1])
				out.add(";")
				i = j + 1
				continue
			case isBlockStart(line, j):
				out.add(line[i:j])
				*blocks = append(*blocks, lineno)
				i = j + 3
				continue
			}
			out.add(line[i:j]) // a comment to the end of the line
			break
		}
		if j < 0 { // the rest of the line is inside the block comment
			break
		}
		j += i
		switch {
		case j > i && line[j-1] == '\\':
			i = j + 1
		case isBlockStart(line, j):
			if len(*blocks) >= MaxCommentDepth {
				return "", fmt.Errorf("block comments nested more than %d deep", MaxCommentDepth)
			}
			*blocks = append(*blocks, lineno)
			i = j + 3
		case j >= i+2 && line[j-2] == '-' && line[j-1] == '-':
			*blocks = (*blocks)[:len(*blocks)-1]
			i = j + 1
		default:
			i = j + 1
		}
	}
	return out.String(), nil
}

// isBlockStart reports whether the semicolon at line[j] opens a block comment: ";--" not
// followed by another "-".
func isBlockStart(line string, j int) bool {
	return j+2 < len(line) && line[j+1] == '-' && line[j+2] == '-' && (j+3 == len(line) || line[j+3] != '-')
}

// segments joins the pieces of a line left between comments, allocating only when there are
// two or more.
type segments struct {
	first string
	b     *strings.Builder
}

func (s *segments) add(seg string) {
	switch {
	case seg == "":
	case s.b != nil:
		s.b.WriteString(seg)
	case s.first == "":
		s.first = seg
	default:
		s.b = new(strings.Builder)
		s.b.WriteString(s.first)
		s.b.WriteString(seg)
	}
}

func (s *segments) String() string {
	if s.b != nil {
		return s.b.String()
	}
	return s.first
}

// trim removes the white space Asterisk's ast_strip removes.
func trim(s string) string {
	start, end := 0, len(s)
	for start < end && isSpace(s[start]) {
		start++
	}
	for end > start && isSpace(s[end-1]) {
		end--
	}
	return s[start:end]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// quote shortens s for an error message.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// line handles one line, comments and white space removed.
func (p *parser) line(f *fileState, text string, lineno int) error {
	switch text[0] {
	case '[':
		p.flush()
		return p.header(f, text, lineno)
	case '#':
		p.flush()
		return p.directive(f, text, lineno)
	}
	return p.variable(f, text, lineno)
}

// flush writes the value a run of += lines built back into its variable.
func (p *parser) flush() {
	a := &p.appending
	if a.cat == nil {
		return
	}
	a.cat.Vars[a.idx].Value = string(a.buf)
	a.cat, a.buf = nil, a.buf[:0]
}

// header handles a category header: [name] or [name](options).
func (p *parser) header(f *fileState, text string, lineno int) error {
	end := strings.IndexByte(text, ']')
	if end < 0 {
		return errorf(f.name, lineno, "category header %s has no closing ']'", quote(text))
	}
	name := trim(text[1:end])
	if name == "" {
		return errorf(f.name, lineno, "category header %s has no name", quote(text))
	}
	var opts string // the text between the parentheses
	hasOpts := false
	if rest := text[end+1:]; rest != "" {
		if rest[0] != '(' {
			return errorf(f.name, lineno, "unexpected %s after ']' in %s: options follow ']' directly, as in [%s](!)", quote(rest), quote(text), name)
		}
		closing := strings.IndexByte(rest, ')')
		if closing < 0 {
			return errorf(f.name, lineno, "category options in %s have no closing ')'", quote(text))
		}
		if after := trim(rest[closing+1:]); after != "" {
			return errorf(f.name, lineno, "unexpected %s after ')' in %s", quote(after), quote(text))
		}
		opts = rest[1:closing]
		hasOpts = true
	}

	c := &Category{Name: name, File: f.name, Line: lineno}
	target := c // where options apply: c, or the category (+) adds to
	if hasOpts {
		for opt := range strings.SplitSeq(opts, ",") {
			var err error
			if c, target, err = p.option(f, lineno, text, c, target, trim(opt)); err != nil {
				return err
			}
		}
	}
	if c != nil {
		i := len(p.file.Categories)
		p.file.Categories = append(p.file.Categories, c)
		p.next = append(p.next, -1)
		k := strings.ToLower(name)
		plain := -1
		if !c.IsTemplate {
			plain = i
		}
		if chain, ok := p.byName[k]; ok {
			p.next[chain.last] = i
			if chain.plain >= 0 {
				plain = chain.plain
			}
			p.byName[k] = nameChain{chain.first, i, plain}
		} else {
			p.byName[k] = nameChain{i, i, plain}
		}
	}
	p.current = target
	f.cur = target
	return nil
}

// option applies one category option: ! makes target a template, +filter switches to the
// earlier category it selects (moving c's variables there; c becomes nil), and a name
// inherits that category's variables. It returns the new c and target.
func (p *parser) option(f *fileState, lineno int, text string, c, target *Category, opt string) (*Category, *Category, error) {
	name := target.Name
	switch {
	case opt == "":
		return nil, nil, errorf(f.name, lineno, "empty option in %s", quote(text))
	case opt == "!":
		was := target.IsTemplate
		target.IsTemplate = true
		if target != c && !was {
			p.replain(name) // an earlier category became a template
		}
	case opt[0] == '+':
		filter, err := parseFilter(trim(opt[1:]))
		if err != nil {
			return nil, nil, errorf(f.name, lineno, "filter %s of [%s]: %w", quote(opt[1:]), name, err)
		}
		existing := p.find(name, filter)
		if existing == nil {
			if filter.expr == "" {
				return nil, nil, errorf(f.name, lineno, "[%s](+) adds to category %q, which is not defined above this line", name, name)
			}
			return nil, nil, errorf(f.name, lineno, "[%s](%s) adds to a category %q matching %q, and none is defined above this line", name, opt, name, filter.expr)
		}
		if c != nil {
			was := existing.IsTemplate
			existing.IsTemplate = existing.IsTemplate || c.IsTemplate
			if existing.IsTemplate && !was {
				p.replain(name)
			}
			existing.Templates = append(existing.Templates, c.Templates...)
			existing.Vars = append(existing.Vars, c.Vars...)
			c = nil
		}
		target = existing
	default:
		base := p.findAny(opt)
		if base == nil {
			return nil, nil, errorf(f.name, lineno, "[%s] inherits from %q, which is not defined above this line", name, opt)
		}
		if err := p.grow(f, lineno, len(base.Vars)); err != nil {
			return nil, nil, err
		}
		target.Templates = append(target.Templates, base.Name)
		if target.Vars == nil { // room for the category's own variables too
			target.Vars = make([]Variable, 0, len(base.Vars)+8)
		}
		target.Vars = append(target.Vars, base.Vars...)
	}
	return c, target, nil
}

// grow accounts for n more variables, failing past the limit.
func (p *parser) grow(f *fileState, lineno, n int) error {
	if n > p.maxVars-p.vars {
		return errorf(f.name, lineno, "the configuration grows past %d variables (templates inheriting from each other several times over?)", p.maxVars)
	}
	p.vars += n
	return nil
}

// replain finds again the first category named name that is not a template, after one of
// them became a template.
func (p *parser) replain(name string) {
	k := strings.ToLower(name)
	chain := p.byName[k]
	chain.plain = -1
	for i := chain.first; i >= 0; i = p.next[i] {
		if !p.file.Categories[i].IsTemplate {
			chain.plain = i
			break
		}
	}
	p.byName[k] = chain
}

// find returns the first category named name that filter selects, or nil.
func (p *parser) find(name string, filter filter) *Category {
	chain, ok := p.byName[strings.ToLower(name)]
	if !ok {
		return nil
	}
	if filter.templates == templatesExclude && len(filter.pairs) == 0 {
		// [name](+): the first category of that name that is not a template.
		if chain.plain < 0 {
			return nil
		}
		return p.file.Categories[chain.plain]
	}
	for i := chain.first; i >= 0; i = p.next[i] {
		if c := p.file.Categories[i]; filter.match(c) {
			return c
		}
	}
	return nil
}

// findAny returns the first category named name, template or not, or nil.
func (p *parser) findAny(name string) *Category {
	if chain, ok := p.byName[strings.ToLower(name)]; ok {
		return p.file.Categories[chain.first]
	}
	return nil
}

// filter is the selector of [name](+filter): Asterisk's does_category_match.
type filter struct {
	expr      string
	templates int // templatesExclude, templatesInclude or templatesOnly
	pairs     []filterPair
}

const (
	templatesExclude = iota
	templatesInclude
	templatesOnly
)

type filterPair struct{ name, value *regexp.Regexp }

func parseFilter(expr string) (filter, error) {
	f := filter{expr: expr}
	if expr == "" {
		return f, nil
	}
	for part := range strings.SplitSeq(expr, "&") {
		n, v, ok := strings.Cut(part, "=")
		n, v = trim(n), trim(v)
		if !ok {
			return f, fmt.Errorf("%q is not name=value", trim(part))
		}
		if n == "TEMPLATES" {
			switch strings.ToLower(v) {
			case "include":
				f.templates = templatesInclude
			case "restrict":
				f.templates = templatesOnly
			default:
				return f, fmt.Errorf("TEMPLATES=%s: want include or restrict", v)
			}
			continue
		}
		nre, err := regexp.Compile(n)
		if err != nil {
			return f, err
		}
		vre, err := regexp.Compile(v)
		if err != nil {
			return f, err
		}
		f.pairs = append(f.pairs, filterPair{nre, vre})
	}
	return f, nil
}

func (f filter) match(c *Category) bool {
	switch {
	case f.templates == templatesExclude && c.IsTemplate:
		return false
	case f.templates == templatesOnly && !c.IsTemplate:
		return false
	}
	for _, pair := range f.pairs {
		found := false
		for i := range c.Vars {
			if pair.name.MatchString(c.Vars[i].Name) && pair.value.MatchString(c.Vars[i].Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// variable handles a name = value, name => value or name += value line.
func (p *parser) variable(f *fileState, text string, lineno int) error {
	if f.cur == nil {
		return errorf(f.name, lineno, "variable %s comes before the first [category]", quote(lineName(text)))
	}
	start, skip := 0, 0
	if text[0] == '\\' { // a backslash makes the name's first character ordinary
		if len(text) < 2 || text[1] <= ' ' {
			return errorf(f.name, lineno, "invalid escape at the start of a variable line")
		}
		start, skip = 1, 1
	}
	eq := strings.IndexByte(text[start+skip:], '=')
	if eq < 0 {
		return errorf(f.name, lineno, "not a name = value line (%d bytes, not quoted: values carry passwords)", len(text))
	}
	eq += start + skip
	if eq > start+skip && text[eq-1] == '+' {
		name := trim(text[start : eq-1])
		if name == "" {
			return errorf(f.name, lineno, "a name += value line has no variable name")
		}
		raw := text[eq+1:]
		a := &p.appending
		if a.cat == f.cur && strings.EqualFold(f.cur.Vars[a.idx].Name, name) {
			// No other line came between: the variable is still the last of that name.
			a.buf = appendTrimmed(a.buf, raw)
			return nil
		}
		p.flush()
		vars := f.cur.Vars
		for i := len(vars) - 1; i >= 0; i-- {
			if strings.EqualFold(vars[i].Name, name) {
				a.cat, a.idx = f.cur, i
				a.buf = appendTrimmed(append(a.buf[:0], vars[i].Value...), raw)
				return nil
			}
		}
		if err := p.grow(f, lineno, 1); err != nil {
			return err
		}
		f.cur.Vars = append(vars, Variable{Name: name, Value: trim(raw), File: f.name, Line: lineno})
		return nil
	}
	p.flush()
	name := trim(text[start:eq])
	if name == "" {
		return errorf(f.name, lineno, "a name = value line has no variable name")
	}
	if err := p.grow(f, lineno, 1); err != nil {
		return err
	}
	v := eq + 1
	if v < len(text) && text[v] == '>' {
		v++
	}
	f.cur.Vars = append(f.cur.Vars, Variable{Name: name, Value: trim(text[v:]), File: f.name, Line: lineno})
	return nil
}

// directive handles #include, #tryinclude and #exec.
func (p *parser) directive(f *fileState, text string, lineno int) error {
	body := text[1:]
	k := 0
	for k < len(body) && body[k] > ' ' {
		k++
	}
	word, arg := body[:k], dequote(trim(body[k:]))
	var include, try bool
	switch strings.ToLower(word) {
	case "include":
		include = true
	case "tryinclude":
		include, try = true, true
	case "exec":
	default:
		return errorf(f.name, lineno, "unknown directive #%s", word)
	}
	if arg == "" {
		what := "a file name"
		if !include {
			what = "a command"
		}
		return errorf(f.name, lineno, "#%s needs %s", word, what)
	}
	if !include {
		return p.exec(f, arg, lineno)
	}
	pattern := arg
	if !p.fsys.isAbs(pattern) {
		pattern = p.fsys.join(f.dir, pattern)
	}
	matches, err := expand(p.fsys, pattern)
	if err != nil {
		return errorf(f.name, lineno, "#%s %s: %w", word, pattern, err)
	}
	p.file.includes = append(p.file.includes, includeRecord{pattern: pattern, matches: matches})
	if len(matches) == 0 {
		if try {
			return nil
		}
		if hasMeta(pattern) {
			return errorf(f.name, lineno, "#%s %s: no file matches: %w", word, pattern, fs.ErrNotExist)
		}
		return errorf(f.name, lineno, "#%s %s: %w", word, pattern, fs.ErrNotExist)
	}
	for _, m := range matches {
		if err := p.readFile(m, f, lineno); err != nil {
			return err
		}
	}
	return nil
}

// dequote removes the quotes or angle brackets around an #include argument.
func dequote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '<' && s[len(s)-1] == '>') {
		return trim(s[1 : len(s)-1])
	}
	return s
}

func errorsIsNotExist(err error) bool {
	return err != nil && errors.Is(err, fs.ErrNotExist)
}

// appendTrimmed appends raw to a value that is already trimmed, so that the result is
// trim(value + raw), as Asterisk's += makes it, without copying value.
func appendTrimmed(value []byte, raw string) []byte {
	if len(value) == 0 {
		return append(value, trim(raw)...)
	}
	end := len(raw)
	for end > 0 && isSpace(raw[end-1]) {
		end--
	}
	return append(value, raw[:end]...)
}

// lineName returns the name part of a variable line, for messages: the value is never
// quoted, since values carry passwords.
func lineName(text string) string {
	if i := strings.IndexByte(text, '='); i >= 0 {
		text = text[:i]
	}
	return trim(strings.TrimSuffix(trim(text), "+"))
}
