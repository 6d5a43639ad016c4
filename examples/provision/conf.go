package main

import (
	"context"
	"strings"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/sorcery"
)

// loadConf reads the pjsip.conf at path, its #include files and templates resolved, and
// returns its objects: one per category that is not a template, of the type its type= names.
// #exec is refused. Every error names the file and line at fault; all the problems of the
// file are reported together.
func loadConf(ctx context.Context, path string) (*objectSet, error) {
	f, err := config.ParseFileContext(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	set := newObjectSet()
	var ps problems
	for _, c := range f.Categories {
		if c.IsTemplate {
			continue
		}
		o, p := confObject(c)
		if p != nil {
			ps = append(ps, *p)
			continue
		}
		if e := set.add(o); e != nil {
			ps = append(ps, problemf(o.where, "%s is defined twice: first at %s", o, e.where))
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return set, nil
}

// confObject returns the object category c defines.
func confObject(c *config.Category) (*object, *problem) {
	header := location{File: c.File, Line: c.Line}
	var (
		t      *objectType
		typeAt location
		fields = make(sorcery.Fields, 0, len(c.Vars))
		at     = make([]location, 0, len(c.Vars))
	)
	for _, v := range c.Vars {
		here := location{File: v.File, Line: v.Line}
		if !strings.EqualFold(v.Name, "type") {
			fields = append(fields, sorcery.Field{Name: v.Name, Value: v.Value})
			at = append(at, here)
			continue
		}
		nt := lookupType(v.Value)
		if nt == nil {
			p := problemf(here, "[%s]: unknown type=%s; known types: %s", c.Name, v.Value, typeNames(types))
			return nil, &p
		}
		if t != nil && t != nt {
			p := problemf(here, "[%s]: type=%s, but type=%s at %s", c.Name, v.Value, t.name, typeAt)
			return nil, &p
		}
		t, typeAt = nt, here
	}
	if t == nil {
		p := problemf(header, "[%s] has no type=; a category only inherited from is a template: [%s](!)", c.Name, c.Name)
		return nil, &p
	}
	o := &object{typ: t, id: c.Name, where: header}
	o.fields, o.at = effective(t, fields, at)
	return o, nil
}
