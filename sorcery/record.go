package sorcery

import "strings"

// Field is one name=value pair of an object, as a wizard stores it.
type Field struct {
	Name  string
	Value string
}

// Fields is an object's fields in order. A name may repeat: that is how multi-valued options
// such as allow= travel, in Asterisk's config files and in its realtime protocols alike.
// Names compare without case, like Asterisk option names; values are kept as they are.
type Fields []Field

// Get returns the first value of name and whether the name is present.
func (f Fields) Get(name string) (string, bool) {
	for i := range f {
		if strings.EqualFold(f[i].Name, name) {
			return f[i].Value, true
		}
	}
	return "", false
}

// Value returns the first value of name, or "" when it is absent.
func (f Fields) Value(name string) string {
	v, _ := f.Get(name)
	return v
}

// Values returns every value of name in order, or nil when it is absent.
func (f Fields) Values(name string) []string {
	var vs []string
	for i := range f {
		if strings.EqualFold(f[i].Name, name) {
			vs = append(vs, f[i].Value)
		}
	}
	return vs
}

// Has reports whether name is present.
func (f Fields) Has(name string) bool {
	_, ok := f.Get(name)
	return ok
}

// Add appends name=value, keeping any earlier values of name.
func (f *Fields) Add(name, value string) {
	*f = append(*f, Field{Name: name, Value: value})
}

// Set replaces every value of name with the single value given. The field keeps the position
// of its first occurrence, or is appended when it was absent.
func (f *Fields) Set(name, value string) {
	fs := *f
	for i := range fs {
		if strings.EqualFold(fs[i].Name, name) {
			fs[i].Value = value
			rest := fs[:i+1]
			for _, g := range fs[i+1:] {
				if !strings.EqualFold(g.Name, name) {
					rest = append(rest, g)
				}
			}
			*f = rest
			return
		}
	}
	*f = append(fs, Field{Name: name, Value: value})
}

// Del removes every value of name.
func (f *Fields) Del(name string) {
	fs := (*f)[:0]
	for _, g := range *f {
		if !strings.EqualFold(g.Name, name) {
			fs = append(fs, g)
		}
	}
	*f = fs
}

// Names returns the distinct names in order of first appearance, spelled as they first
// appear.
func (f Fields) Names() []string {
	var names []string
	for i := range f {
		seen := false
		for _, n := range names {
			if strings.EqualFold(n, f[i].Name) {
				seen = true
				break
			}
		}
		if !seen {
			names = append(names, f[i].Name)
		}
	}
	return names
}

// Clone returns a copy that shares no memory with f.
func (f Fields) Clone() Fields {
	if f == nil {
		return nil
	}
	return append(Fields(nil), f...)
}

// Record is an object as wizards see it: its id and its fields. The id is not repeated among
// the fields.
type Record struct {
	ID     string
	Fields Fields
}

// Clone returns a deep copy of r.
func (r Record) Clone() Record {
	return Record{ID: r.ID, Fields: r.Fields.Clone()}
}

// Equal reports whether r and o have the same id and the same fields in the same order.
func (r Record) Equal(o Record) bool {
	if r.ID != o.ID || len(r.Fields) != len(o.Fields) {
		return false
	}
	for i := range r.Fields {
		if r.Fields[i] != o.Fields[i] {
			return false
		}
	}
	return true
}
