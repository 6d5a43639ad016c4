package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gosorcery/gosorcery/sorcery"
)

// location is where a line of a configuration file is. The zero location is "not from a
// file" (an object read from a database).
type location struct {
	File string
	Line int
}

// String returns "file:line", or "" for the zero location.
func (l location) String() string {
	if l.File == "" {
		return ""
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

// object is one PJSIP object of some source: its type, id and options, and, when it comes
// from a configuration file, where it and each of its options were written.
type object struct {
	typ    *objectType
	id     string
	fields sorcery.Fields // option names in lower case; type= is not among them
	where  location       // the category header
	at     []location     // where each field's line is, parallel to fields; nil from a database
}

// fieldAt returns where field i was written, or the zero location.
func (o *object) fieldAt(i int) location {
	if o.at == nil {
		return location{}
	}
	return o.at[i]
}

// String returns "endpoint 1001", the id quoted when it needs to be.
func (o *object) String() string { return o.typ.name + " " + showID(o.id) }

// showID returns id as it is when it is a plain word, and quoted otherwise.
func showID(id string) string {
	if id == "" || strings.ContainsFunc(id, func(r rune) bool {
		return r <= ' ' || r == '"' || r == '\\' || r >= 0x7f
	}) {
		return strconv.Quote(id)
	}
	return id
}

// effective returns the options of an object of type t as Asterisk applies fields, which
// are in the order Asterisk reads them: an option that accumulates keeps every line (but a
// disallow= naming "all" drops the codec lines before it, which it cancels), any other
// option keeps the value of its last line, at the place of its first. Option names are
// lower-cased, since Asterisk matches them without regard to case. at, when not nil, is
// where each field was written and is carried along.
func effective(t *objectType, fields sorcery.Fields, at []location) (sorcery.Fields, []location) {
	out := make(sorcery.Fields, 0, len(fields))
	var outAt []location
	if at != nil {
		outAt = make([]location, 0, len(fields))
	}
	codecs := t.known && slices.Contains(t.multi, "allow")
	for i, f := range fields {
		f.Name = strings.ToLower(f.Name)
		switch {
		case codecs && f.Name == "disallow" && namesAll(f.Value):
			keep := 0
			for j, g := range out {
				if g.Name == "allow" || g.Name == "disallow" {
					continue
				}
				out[keep] = g
				if outAt != nil {
					outAt[keep] = outAt[j]
				}
				keep++
			}
			out = out[:keep]
			if outAt != nil {
				outAt = outAt[:keep]
			}
		case t.accumulates(f.Name):
		default:
			if j := slices.IndexFunc(out, func(g sorcery.Field) bool { return g.Name == f.Name }); j >= 0 {
				out[j].Value = f.Value
				if outAt != nil {
					outAt[j] = at[i]
				}
				continue
			}
		}
		out = append(out, f)
		if outAt != nil {
			outAt = append(outAt, at[i])
		}
	}
	return out, outAt
}

// namesAll reports whether a comma-separated codec list names "all".
func namesAll(list string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(c), "all") {
			return true
		}
	}
	return false
}

// key identifies an object within a source: ids are unique per type only.
type key struct {
	typ string
	id  string
}

// objectSet is the objects of a source.
type objectSet struct {
	objs map[key]*object
}

func newObjectSet() *objectSet { return &objectSet{objs: make(map[key]*object)} }

// add adds o, unless an object of its type and id is there already, which is then returned.
func (s *objectSet) add(o *object) (existing *object) {
	k := key{o.typ.name, o.id}
	if e, ok := s.objs[k]; ok {
		return e
	}
	s.objs[k] = o
	return nil
}

// get returns the object of type t and id, or nil.
func (s *objectSet) get(t *objectType, id string) *object { return s.objs[key{t.name, id}] }

// len returns the number of objects.
func (s *objectSet) len() int { return len(s.objs) }

// sorted returns the objects ordered by type name, then by id (byte-wise).
func (s *objectSet) sorted() []*object {
	out := make([]*object, 0, len(s.objs))
	for _, o := range s.objs {
		out = append(out, o)
	}
	slices.SortFunc(out, compareObjects)
	return out
}

// compareObjects orders objects by type name, then by id.
func compareObjects(a, b *object) int {
	return cmp.Or(cmp.Compare(a.typ.name, b.typ.name), cmp.Compare(a.id, b.id))
}

// only returns the objects of s whose type is among ts.
func (s *objectSet) only(ts []*objectType) *objectSet {
	out := newObjectSet()
	for k, o := range s.objs {
		if slices.Contains(ts, o.typ) {
			out.objs[k] = o
		}
	}
	return out
}

// count returns how many objects of each type s holds, as "3 endpoints, 1 aor".
func (s *objectSet) count() string {
	n := make(map[*objectType]int)
	for _, o := range s.objs {
		n[o.typ]++
	}
	var parts []string
	for _, t := range types {
		if n[t] > 0 {
			parts = append(parts, plural(n[t], t.name))
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	return strings.Join(parts, ", ")
}

// plural returns "1 endpoint" or "2 endpoints" ("2 identifies", "2 domain_aliases").
func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "s"):
		return fmt.Sprintf("%d %ses", n, noun)
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
