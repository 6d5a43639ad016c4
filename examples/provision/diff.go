package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// optionDiff is an option whose values differ between two versions of an object. The
// values of each side are in order; a side without the option has none.
type optionDiff struct {
	name string
	a, b []string
	aAt  []location // where each value of a was written, when a comes from a file
	bAt  []location
}

// objectDiff is an object that differs between two sources: only in a (b nil), only in b
// (a nil), or in both with the options listed in options.
type objectDiff struct {
	a, b    *object
	options []optionDiff
}

// object returns the object the difference is about, for its type and id.
func (d *objectDiff) object() *object {
	if d.a != nil {
		return d.a
	}
	return d.b
}

// diffSets returns how b differs from a, object by object, ordered by type and id. Objects
// are matched by type and id; two objects are equal when every option has the same values
// in the same order (the order of different options does not matter, as it does not in a
// realtime table).
func diffSets(a, b *objectSet) []objectDiff {
	var out []objectDiff
	for _, o := range a.sorted() {
		other := b.get(o.typ, o.id)
		if other == nil {
			out = append(out, objectDiff{a: o})
			continue
		}
		if opts := diffObjects(o, other); len(opts) > 0 {
			out = append(out, objectDiff{a: o, b: other, options: opts})
		}
	}
	for _, o := range b.sorted() {
		if a.get(o.typ, o.id) == nil {
			out = append(out, objectDiff{b: o})
		}
	}
	slices.SortStableFunc(out, func(x, y objectDiff) int { return compareObjects(x.object(), y.object()) })
	return out
}

// diffObjects returns the options whose values differ between a and b, in the order the
// options first appear in a, then in b.
func diffObjects(a, b *object) []optionDiff {
	var out []optionDiff
	for _, name := range names(a, b) {
		av, aAt := values(a, name)
		bv, bAt := values(b, name)
		if !slices.Equal(av, bv) {
			out = append(out, optionDiff{name: name, a: av, b: bv, aAt: aAt, bAt: bAt})
		}
	}
	return out
}

// names returns the distinct option names of the objects given, in order of first
// appearance.
func names(objs ...*object) []string {
	var out []string
	for _, o := range objs {
		for _, f := range o.fields {
			if !slices.Contains(out, f.Name) {
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// values returns the values of option name of o, in order, with where each was written.
func values(o *object, name string) ([]string, []location) {
	var (
		vs []string
		at []location
	)
	for i, f := range o.fields {
		if f.Name == name {
			vs = append(vs, f.Value)
			at = append(at, o.fieldAt(i))
		}
	}
	return vs, at
}

// diffStats counts the differences of a diff.
type diffStats struct {
	onlyA, onlyB, changed int
}

func (s diffStats) total() int { return s.onlyA + s.onlyB + s.changed }

// countDiffs counts the differences in ds.
func countDiffs(ds []objectDiff) diffStats {
	var s diffStats
	for _, d := range ds {
		switch {
		case d.b == nil:
			s.onlyA++
		case d.a == nil:
			s.onlyB++
		default:
			s.changed++
		}
	}
	return s
}

// writeDiff writes ds for a person to read, in the manner of a unified diff: a header naming
// the sources, then each object that differs, marked - (only in a), + (only in b) or
// ~ (changed), with its options below it marked - (a's values) and + (b's values). Values
// read from a file are followed by the file and line they were written at. Nothing is
// written when ds is empty.
func writeDiff(w io.Writer, nameA, nameB string, ds []objectDiff) error {
	if len(ds) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", nameA, nameB)
	for _, d := range ds {
		switch {
		case d.b == nil:
			line(&b, "- "+d.a.String(), d.a.where)
			for i, f := range d.a.fields {
				line(&b, "    - "+f.Name+"="+f.Value, d.a.fieldAt(i))
			}
		case d.a == nil:
			line(&b, "+ "+d.b.String(), d.b.where)
			for i, f := range d.b.fields {
				line(&b, "    + "+f.Name+"="+f.Value, d.b.fieldAt(i))
			}
		default:
			at := d.a.where
			if at.File == "" {
				at = d.b.where
			}
			line(&b, "~ "+d.a.String(), at)
			for _, o := range d.options {
				for i, v := range o.a {
					line(&b, "    - "+o.name+"="+v, o.aAt[i])
				}
				for i, v := range o.b {
					line(&b, "    + "+o.name+"="+v, o.bAt[i])
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// line writes text and, when at is a place in a file, that place in parentheses.
func line(b *strings.Builder, text string, at location) {
	b.WriteString(text)
	if s := at.String(); s != "" {
		b.WriteString("  (")
		b.WriteString(s)
		b.WriteString(")")
	}
	b.WriteByte('\n')
}
