package sorcery

import (
	"encoding"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astvalue"
)

// Codec converts between a typed object and the [Record] wizards store. [TypeOptions.Codec]
// plugs in a custom one; the default is [NewCodec]'s struct-tag codec.
type Codec[T any] interface {
	Decode(r Record) (T, error)
	Encode(v T) (Record, error)
}

// CodecOptions tunes the default codec.
type CodecOptions struct {
	// IgnoreUnknown makes Decode skip fields the struct has no place for, as Asterisk's
	// realtime does with extra columns. The zero value rejects them with errors.ErrInvalid.
	IgnoreUnknown bool
}

// NewCodec returns the default codec for T, which reads T's struct tags once, here.
//
// T is a struct (or [Record], which is passed through unchanged). Each exported field maps to
// one object field, named by its tag:
//
//	ID          string            `sorcery:"id"`                       // the object id
//	Context     string            `sorcery:"context,default=default"`  // default when absent (last, may hold commas)
//	Allow       []string          `sorcery:"allow"`                    // repeated fields or comma lists
//	DirectMedia bool              `sorcery:"direct_media,default=yes"` // Asterisk truth values
//	Extended    map[string]string `sorcery:"@"`                        // "@name" extended fields
//	Internal    string            `sorcery:"-"`                        // not mapped
//
// An exported field without a tag maps to its name in snake_case (MaxContacts → max_contacts).
// Embedded structs are flattened. Supported field types: string; bool (Asterisk's truth
// values yes/no, true/false, on/off, 1/0, y/n, t/f, without case; any other word is an
// error); every int, uint and float kind; time.Duration (a number of seconds as Asterisk
// writes it, fractions allowed, or Go syntax such as "1m30s"); slices of those
// (from repeated fields, each of which may be a comma list); types implementing
// encoding.TextUnmarshaler and encoding.TextMarshaler; map[string]string tagged "@" for
// Asterisk's extended fields. Names match without case.
//
// Decode starts from the defaults, then applies the record's fields in order: a scalar takes
// the last value given, a slice collects every value. A value that does not parse is
// errors.ErrInvalid naming the field and the value. Encode writes every field in struct order
// (slices as repeated fields, booleans as yes/no, durations in whole seconds where exact), so
// Decode(Encode(v)) == v and Encode(Decode(r)) == r for a record written in that form.
func NewCodec[T any](opts *CodecOptions) (Codec[T], error) {
	var o CodecOptions
	if opts != nil {
		o = *opts
	}
	rt := reflect.TypeFor[T]()
	if rt == reflect.TypeFor[Record]() {
		return any(recordCodec{}).(Codec[T]), nil
	}
	if rt.Kind() != reflect.Struct {
		return nil, fmt.Errorf("sorcery: codec: %v is not a struct: %w", rt, errors.ErrInvalid)
	}
	c := &structCodec[T]{ignoreUnknown: o.IgnoreUnknown, byName: map[string]int{}}
	if err := c.build(rt, nil); err != nil {
		return nil, err
	}
	if c.idIndex == nil {
		return nil, fmt.Errorf("sorcery: codec: %v has no field tagged `sorcery:\"id\"`: %w", rt, errors.ErrInvalid)
	}
	// Check the defaults now, so a bad one is a registration error and not a decode error.
	var zero T
	v := reflect.ValueOf(&zero).Elem()
	for i := range c.fields {
		if err := c.applyDefault(v, &c.fields[i]); err != nil {
			return nil, fmt.Errorf("sorcery: codec: %v: default of %w", rt, err)
		}
	}
	return c, nil
}

// recordCodec is the identity codec of Type[Record].
type recordCodec struct{}

func (recordCodec) Decode(r Record) (Record, error) { return r.Clone(), nil }
func (recordCodec) Encode(r Record) (Record, error) { return r.Clone(), nil }

type fieldKind uint8

const (
	kindScalar   fieldKind = iota
	kindSlice              // collects every value
	kindExtended           // map[string]string of "@name" fields
)

type codecField struct {
	name     string
	index    []int
	kind     fieldKind
	hasDef   bool
	def      string
	decode   func(v reflect.Value, s string) error // of one value (an element for slices)
	encode   func(v reflect.Value) (string, error) // of one value (an element for slices)
	elemType reflect.Type                          // of a slice's elements
}

type structCodec[T any] struct {
	fields        []codecField
	byName        map[string]int // lower-cased name → index in fields
	idIndex       []int
	extended      int // index in fields of the "@" map; -1 if none
	hasExtended   bool
	ignoreUnknown bool
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	extendedMapType     = reflect.TypeFor[map[string]string]()
)

func (c *structCodec[T]) build(rt reflect.Type, index []int) error {
	for i := range rt.NumField() {
		sf := rt.Field(i)
		idx := append(slices.Clone(index), i)
		tag, tagged := sf.Tag.Lookup("sorcery")
		if tag == "-" {
			continue
		}
		if sf.Anonymous && !tagged {
			ft := sf.Type
			if ft.Kind() == reflect.Struct {
				if err := c.build(ft, idx); err != nil {
					return err
				}
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		name = strings.TrimSpace(name)
		if name == "" {
			name = snakeCase(sf.Name)
		}
		where := fmt.Sprintf("%v.%s", rt, sf.Name)
		if name == "id" {
			if sf.Type.Kind() != reflect.String {
				return fmt.Errorf("sorcery: codec: %s: the id field must be a string: %w", where, errors.ErrInvalid)
			}
			if c.idIndex != nil {
				return fmt.Errorf("sorcery: codec: %s: a second id field: %w", where, errors.ErrInvalid)
			}
			c.idIndex = idx
			continue
		}
		f := codecField{name: name, index: idx}
		// Options are comma-separated; default= comes last and takes the rest of the tag, commas
		// included, so that a list can be a default.
		for opts != "" {
			if def, ok := strings.CutPrefix(strings.TrimLeft(opts, " "), "default="); ok {
				f.hasDef, f.def = true, def
				break
			}
			var opt string
			opt, opts, _ = strings.Cut(opts, ",")
			if strings.TrimSpace(opt) != "" {
				return fmt.Errorf("sorcery: codec: %s: unknown tag option %q: %w", where, opt, errors.ErrInvalid)
			}
		}
		if name == "@" {
			if sf.Type != extendedMapType {
				return fmt.Errorf("sorcery: codec: %s: the \"@\" field must be a map[string]string: %w", where, errors.ErrInvalid)
			}
			if c.hasExtended {
				return fmt.Errorf("sorcery: codec: %s: a second \"@\" field: %w", where, errors.ErrInvalid)
			}
			f.kind = kindExtended
			c.hasExtended, c.extended = true, len(c.fields)
			c.fields = append(c.fields, f)
			continue
		}
		ft := sf.Type
		if ft.Kind() == reflect.Slice && !implementsText(ft) {
			f.kind = kindSlice
			f.elemType = ft.Elem()
			ft = ft.Elem()
		}
		dec, enc, ok := scalarFuncs(ft)
		if !ok {
			return fmt.Errorf("sorcery: codec: %s: unsupported type %v (tag it `sorcery:\"-\"` to leave it out): %w", where, sf.Type, errors.ErrInvalid)
		}
		f.decode, f.encode = dec, enc
		key := strings.ToLower(name)
		if _, dup := c.byName[key]; dup {
			return fmt.Errorf("sorcery: codec: %s: field name %q used twice: %w", where, name, errors.ErrInvalid)
		}
		c.byName[key] = len(c.fields)
		c.fields = append(c.fields, f)
	}
	return nil
}

func implementsText(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(textUnmarshalerType)
}

// scalarFuncs returns the decoder and encoder of one value of type t.
func scalarFuncs(t reflect.Type) (dec func(reflect.Value, string) error, enc func(reflect.Value) (string, error), ok bool) {
	if implementsText(t) {
		dec = func(v reflect.Value, s string) error {
			return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
		}
		switch {
		case t.Implements(textMarshalerType):
			enc = func(v reflect.Value) (string, error) {
				b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
				return string(b), err
			}
		case reflect.PointerTo(t).Implements(textMarshalerType):
			enc = func(v reflect.Value) (string, error) {
				if !v.CanAddr() {
					p := reflect.New(t)
					p.Elem().Set(v)
					v = p.Elem()
				}
				b, err := v.Addr().Interface().(encoding.TextMarshaler).MarshalText()
				return string(b), err
			}
		default:
			return nil, nil, false
		}
		return dec, enc, true
	}
	if t == durationType {
		return func(v reflect.Value, s string) error {
				d, err := astvalue.Duration(s)
				if err != nil {
					return err
				}
				v.SetInt(int64(d))
				return nil
			}, func(v reflect.Value) (string, error) {
				return astvalue.FormatDuration(time.Duration(v.Int())), nil
			}, true
	}
	switch t.Kind() {
	case reflect.String:
		return func(v reflect.Value, s string) error { v.SetString(s); return nil },
			func(v reflect.Value) (string, error) { return v.String(), nil }, true
	case reflect.Bool:
		return func(v reflect.Value, s string) error {
				b, err := astvalue.Bool(s)
				if err != nil {
					return err
				}
				v.SetBool(b)
				return nil
			}, func(v reflect.Value) (string, error) {
				if v.Bool() {
					return "yes", nil
				}
				return "no", nil
			}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return func(v reflect.Value, s string) error {
				n, err := strconv.ParseInt(strings.TrimSpace(s), 10, bits)
				if err != nil {
					return numError(err)
				}
				v.SetInt(n)
				return nil
			}, func(v reflect.Value) (string, error) {
				return strconv.FormatInt(v.Int(), 10), nil
			}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		bits := t.Bits()
		return func(v reflect.Value, s string) error {
				n, err := strconv.ParseUint(strings.TrimSpace(s), 10, bits)
				if err != nil {
					return numError(err)
				}
				v.SetUint(n)
				return nil
			}, func(v reflect.Value) (string, error) {
				return strconv.FormatUint(v.Uint(), 10), nil
			}, true
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(v reflect.Value, s string) error {
				f, err := strconv.ParseFloat(strings.TrimSpace(s), bits)
				if err != nil {
					return numError(err)
				}
				v.SetFloat(f)
				return nil
			}, func(v reflect.Value) (string, error) {
				return strconv.FormatFloat(v.Float(), 'g', -1, bits), nil
			}, true
	}
	return nil, nil, false
}

func numError(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		if errors.Is(ne.Err, strconv.ErrRange) {
			return errors.New("out of range")
		}
		return errors.New("not a number")
	}
	return err
}

func snakeCase(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (c *structCodec[T]) applyDefault(v reflect.Value, f *codecField) error {
	if !f.hasDef {
		return nil
	}
	fv := v.FieldByIndex(f.index)
	if f.kind == kindExtended {
		return fmt.Errorf("field %q: an \"@\" field takes no default: %w", f.name, errors.ErrInvalid)
	}
	if f.kind == kindSlice {
		fv.SetLen(0)
		return c.appendValues(fv, f, f.def)
	}
	if err := f.decode(fv, f.def); err != nil {
		return fmt.Errorf("field %q: invalid value %q: %v: %w", f.name, f.def, err, errors.ErrInvalid)
	}
	return nil
}

// appendValues appends the comma-separated values of s to the slice fv.
func (c *structCodec[T]) appendValues(fv reflect.Value, f *codecField, s string) error {
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ev := reflect.New(f.elemType).Elem()
		if err := f.decode(ev, part); err != nil {
			return fmt.Errorf("field %q: invalid value %q: %v: %w", f.name, part, err, errors.ErrInvalid)
		}
		fv.Set(reflect.Append(fv, ev))
	}
	return nil
}

// Decode builds an object from r.
func (c *structCodec[T]) Decode(r Record) (T, error) {
	var out T
	v := reflect.ValueOf(&out).Elem()
	v.FieldByIndex(c.idIndex).SetString(r.ID)
	for i := range c.fields {
		if err := c.applyDefault(v, &c.fields[i]); err != nil {
			var zero T
			return zero, err
		}
	}
	// A slice given in the record replaces its default: reset each on its first value.
	var reset uint64 // bit i: field i reset (fields beyond 64 use the map below)
	var resetMore map[int]bool
	for _, rf := range r.Fields {
		if strings.HasPrefix(rf.Name, "@") && c.hasExtended {
			m := v.FieldByIndex(c.fields[c.extended].index)
			if m.IsNil() {
				m.Set(reflect.MakeMap(extendedMapType))
			}
			m.SetMapIndex(reflect.ValueOf(rf.Name[1:]), reflect.ValueOf(rf.Value))
			continue
		}
		i, ok := c.byName[rf.Name]
		if !ok {
			i, ok = c.byName[strings.ToLower(rf.Name)]
		}
		if !ok {
			if strings.EqualFold(rf.Name, "id") || strings.EqualFold(rf.Name, "type") {
				// Some sources repeat the id among the fields; config files carry type=,
				// which Asterisk registers as a no-op field of every pjsip object type.
				continue
			}
			if c.ignoreUnknown {
				continue
			}
			var zero T
			return zero, fmt.Errorf("sorcery: unknown field %q: %w", rf.Name, errors.ErrInvalid)
		}
		f := &c.fields[i]
		fv := v.FieldByIndex(f.index)
		if f.kind == kindSlice {
			first := false
			if i < 64 {
				first = reset&(1<<i) == 0
				reset |= 1 << i
			} else {
				if resetMore == nil {
					resetMore = map[int]bool{}
				}
				first = !resetMore[i]
				resetMore[i] = true
			}
			if first {
				fv.Set(reflect.Zero(fv.Type()))
			}
			if err := c.appendValues(fv, f, rf.Value); err != nil {
				var zero T
				return zero, fmt.Errorf("sorcery: %w", err)
			}
			continue
		}
		if err := f.decode(fv, rf.Value); err != nil {
			var zero T
			return zero, fmt.Errorf("sorcery: field %q: invalid value %q: %v: %w", f.name, rf.Value, err, errors.ErrInvalid)
		}
	}
	return out, nil
}

// Encode writes v as a record.
func (c *structCodec[T]) Encode(obj T) (Record, error) {
	v := reflect.ValueOf(&obj).Elem()
	r := Record{ID: v.FieldByIndex(c.idIndex).String(), Fields: make(Fields, 0, len(c.fields))}
	for i := range c.fields {
		f := &c.fields[i]
		fv := v.FieldByIndex(f.index)
		switch f.kind {
		case kindExtended:
			for _, k := range slices.Sorted(maps.Keys(fv.Interface().(map[string]string))) {
				r.Fields = append(r.Fields, Field{Name: "@" + k, Value: fv.MapIndex(reflect.ValueOf(k)).String()})
			}
		case kindSlice:
			if fv.Len() == 0 && f.hasDef && f.def != "" {
				// An empty value, so that decoding does not bring the default back.
				r.Fields = append(r.Fields, Field{Name: f.name})
			}
			for j := range fv.Len() {
				s, err := f.encode(fv.Index(j))
				if err != nil {
					return Record{}, fmt.Errorf("sorcery: field %q: %v: %w", f.name, err, errors.ErrInvalid)
				}
				r.Fields = append(r.Fields, Field{Name: f.name, Value: s})
			}
		default:
			s, err := f.encode(fv)
			if err != nil {
				return Record{}, fmt.Errorf("sorcery: field %q: %v: %w", f.name, err, errors.ErrInvalid)
			}
			r.Fields = append(r.Fields, Field{Name: f.name, Value: s})
		}
	}
	return r, nil
}
