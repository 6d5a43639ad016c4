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
	"unsafe"

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
// errors.ErrInvalid naming the field (not the value, which may be a secret). Encode writes
// every field in struct order (slices as repeated fields, booleans as yes/no, durations in
// whole seconds where exact), so Decode(Encode(v)) == v and Encode(Decode(r)) == r for a
// record written in that form.
//
// The codec plans each field once, here; Decode and Encode allocate only what they return.
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
		return nil, errors.Errorf("codec: %v is not a struct: %w", rt, errors.ErrInvalid)
	}
	c := &structCodec[T]{ignoreUnknown: o.IgnoreUnknown, extended: -1, byName: map[string]int{}}
	if err := c.build(rt, nil, 0); err != nil {
		return nil, err
	}
	if c.idIndex == nil {
		return nil, errors.Errorf("codec: %v has no field tagged `sorcery:\"id\"`: %w", rt, errors.ErrInvalid)
	}
	// Decode the defaults now, once: a bad one is a registration error and not a decode
	// error, and Decode starts from a copy of c.defaults.
	v := reflect.ValueOf(&c.defaults).Elem()
	for i := range c.fields {
		f := &c.fields[i]
		if !f.hasDef {
			continue
		}
		if f.kind == kindExtended {
			return nil, errors.Errorf("codec: %v: default of field %q: an \"@\" field takes no default: %w", rt, f.name, errors.ErrInvalid)
		}
		if err := f.setDefault(f.field(v)); err != nil {
			return nil, errors.Errorf("codec: %v: default %q of %w", rt, f.def, err)
		}
		// A default that holds memory (a slice, or a text type that may) is decoded again
		// for every object instead of being shared by all of them.
		if f.kind == kindSlice || f.conv == convText {
			c.perCall = append(c.perCall, i)
		}
	}
	c.direct = true
	for i := range c.fields {
		f := &c.fields[i]
		if f.conv == convText || f.kind == kindSlice && f.conv != convString {
			c.direct = false
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

// conv is how one value (an element, for slices) is read and written.
type conv uint8

const (
	convString conv = iota
	convBool
	convInt
	convUint
	convFloat
	convDuration
	convText // encoding.TextUnmarshaler and TextMarshaler
)

// codecField is the plan of one struct field, made once by NewCodec: where the field is, and
// how its values are converted, without closures or per-call lookups.
type codecField struct {
	name     string
	index    []int        // path from the struct, for embedded fields
	top      int          // index in the struct when len(index) == 1, else -1
	offset   uintptr      // from the start of the struct (embedded structs are values)
	typ      reflect.Type // the field's
	kind     fieldKind
	conv     conv
	bits     int          // of numbers
	elemType reflect.Type // of a slice's elements
	hasDef   bool
	def      string
	// textPtr: the pointer type implements TextMarshaler (not the value type).
	textPtr bool
}

// field returns f's field of the struct v.
func (f *codecField) field(v reflect.Value) reflect.Value {
	if f.top >= 0 {
		return v.Field(f.top)
	}
	return v.FieldByIndex(f.index)
}

type structCodec[T any] struct {
	fields   []codecField
	byName   map[string]int // lower-cased name → index in fields, for long structs
	idIndex  []int
	idOffset uintptr
	extended int   // index in fields of the "@" map; -1 if none
	perCall  []int // fields whose default is decoded for every object
	defaults T     // the zero T with every default applied
	// direct: every field is set through a typed pointer (strings, string lists, booleans,
	// numbers, durations, the extended map), none through reflect, so that Decode's object
	// stays on the stack.
	direct        bool
	ignoreUnknown bool
}

// linearLookup is the number of fields up to which a name is looked up by scanning the
// fields, which is faster than hashing for short structs.
const linearLookup = 16

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	extendedMapType     = reflect.TypeFor[map[string]string]()
)

func (c *structCodec[T]) build(rt reflect.Type, index []int, offset uintptr) error {
	for i := range rt.NumField() {
		sf := rt.Field(i)
		idx := append(slices.Clone(index), i)
		off := offset + sf.Offset
		tag, tagged := sf.Tag.Lookup("sorcery")
		if tag == "-" {
			continue
		}
		if sf.Anonymous && !tagged {
			ft := sf.Type
			if ft.Kind() == reflect.Struct {
				if err := c.build(ft, idx, off); err != nil {
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
				return errors.Errorf("codec: %s: the id field must be a string: %w", where, errors.ErrInvalid)
			}
			if c.idIndex != nil {
				return errors.Errorf("codec: %s: a second id field: %w", where, errors.ErrInvalid)
			}
			c.idIndex, c.idOffset = idx, off
			continue
		}
		f := codecField{name: name, index: idx, top: -1, offset: off, typ: sf.Type}
		if len(idx) == 1 {
			f.top = idx[0]
		}
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
				return errors.Errorf("codec: %s: unknown tag option %q: %w", where, opt, errors.ErrInvalid)
			}
		}
		if name == "@" {
			if sf.Type != extendedMapType {
				return errors.Errorf("codec: %s: the \"@\" field must be a map[string]string: %w", where, errors.ErrInvalid)
			}
			if c.extended >= 0 {
				return errors.Errorf("codec: %s: a second \"@\" field: %w", where, errors.ErrInvalid)
			}
			f.kind = kindExtended
			c.extended = len(c.fields)
			c.fields = append(c.fields, f)
			continue
		}
		ft := sf.Type
		if ft.Kind() == reflect.Slice && !implementsText(ft) {
			f.kind = kindSlice
			f.elemType = ft.Elem()
			ft = ft.Elem()
		}
		if !f.plan(ft) {
			return errors.Errorf("codec: %s: unsupported type %v (tag it `sorcery:\"-\"` to leave it out): %w", where, sf.Type, errors.ErrInvalid)
		}
		key := strings.ToLower(name)
		if _, dup := c.byName[key]; dup {
			return errors.Errorf("codec: %s: field name %q used twice: %w", where, name, errors.ErrInvalid)
		}
		c.byName[key] = len(c.fields)
		c.fields = append(c.fields, f)
	}
	return nil
}

func implementsText(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(textUnmarshalerType)
}

// plan sets how values of type t (a field's, or a slice's elements') are converted, and
// reports whether t is supported.
func (f *codecField) plan(t reflect.Type) bool {
	if implementsText(t) {
		f.conv = convText
		switch {
		case t.Implements(textMarshalerType):
		case reflect.PointerTo(t).Implements(textMarshalerType):
			f.textPtr = true
		default:
			return false
		}
		return true
	}
	if t == durationType {
		f.conv = convDuration
		return true
	}
	switch t.Kind() {
	case reflect.String:
		f.conv = convString
	case reflect.Bool:
		f.conv = convBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f.conv, f.bits = convInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f.conv, f.bits = convUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		f.conv, f.bits = convFloat, t.Bits()
	default:
		return false
	}
	return true
}

// decodeValue sets v, a field or a slice element, from s.
func (f *codecField) decodeValue(v reflect.Value, s string) error {
	switch f.conv {
	case convString:
		v.SetString(s)
	case convBool:
		b, err := astvalue.Bool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case convInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, f.bits)
		if err != nil {
			return numError(err)
		}
		v.SetInt(n)
	case convUint:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, f.bits)
		if err != nil {
			return numError(err)
		}
		v.SetUint(n)
	case convFloat:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), f.bits)
		if err != nil {
			return numError(err)
		}
		v.SetFloat(n)
	case convDuration:
		d, err := astvalue.Duration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case convText:
		// The type's own error is left out: it may quote the value, which may be a secret.
		if v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)) != nil {
			return fmt.Errorf("not a valid %v", v.Type())
		}
	}
	return nil
}

// encodeValue writes v, a field or a slice element.
func (f *codecField) encodeValue(v reflect.Value) (string, error) {
	switch f.conv {
	case convString:
		return v.String(), nil
	case convBool:
		return astvalue.FormatBool(v.Bool()), nil
	case convInt:
		return strconv.FormatInt(v.Int(), 10), nil
	case convUint:
		return strconv.FormatUint(v.Uint(), 10), nil
	case convFloat:
		return strconv.FormatFloat(v.Float(), 'g', -1, f.bits), nil
	case convDuration:
		return astvalue.FormatDuration(time.Duration(v.Int())), nil
	}
	var m encoding.TextMarshaler
	if f.textPtr {
		if !v.CanAddr() {
			p := reflect.New(v.Type())
			p.Elem().Set(v)
			v = p.Elem()
		}
		m = v.Addr().Interface().(encoding.TextMarshaler)
	} else {
		m = v.Interface().(encoding.TextMarshaler)
	}
	b, err := m.MarshalText()
	return string(b), err
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

// setDefault sets fv, f's field, to f's default.
func (f *codecField) setDefault(fv reflect.Value) error {
	if f.kind == kindSlice {
		fv.SetLen(0)
		return f.appendValues(fv, f.def)
	}
	if err := f.decodeValue(fv, f.def); err != nil {
		return errors.Errorf("field %q: %v: %w", f.name, err, errors.ErrInvalid)
	}
	return nil
}

// appendValues appends the comma-separated values of s to the slice fv, in place.
func (f *codecField) appendValues(fv reflect.Value, s string) error {
	for s != "" {
		part, rest, _ := strings.Cut(s, ",")
		s = rest
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n := fv.Len()
		if n == fv.Cap() {
			fv.Grow(1)
		}
		fv.SetLen(n + 1)
		if err := f.decodeValue(fv.Index(n), part); err != nil {
			fv.SetLen(n)
			return errors.Errorf("field %q: %v: %w", f.name, err, errors.ErrInvalid)
		}
	}
	return nil
}

// appendStrings appends the comma-separated values of s to *p.
func appendStrings(p *[]string, s string) {
	for s != "" {
		part, rest, _ := strings.Cut(s, ",")
		s = rest
		if part = strings.TrimSpace(part); part != "" {
			*p = append(*p, part)
		}
	}
}

// countValues returns an upper bound of the number of values fields hold for the field
// named name.
func (c *structCodec[T]) countValues(fields Fields, name string) int {
	n := 0
	for i := range fields {
		if fields[i].Name == name || strings.EqualFold(fields[i].Name, name) {
			n += 1 + strings.Count(fields[i].Value, ",")
		}
	}
	return n
}

// lookup returns the index in c.fields of the field named name, trying first the field
// after the one last found (records usually come in struct order).
func (c *structCodec[T]) lookup(name string, hint int) (int, bool) {
	if hint < len(c.fields) && c.fields[hint].name == name {
		return hint, true
	}
	if len(c.fields) <= linearLookup {
		for i := range c.fields {
			if c.fields[i].name == name {
				return i, true
			}
		}
		for i := range c.fields {
			if strings.EqualFold(c.fields[i].name, name) {
				return i, true
			}
		}
		return 0, false
	}
	if i, ok := c.byName[name]; ok {
		return i, true
	}
	i, ok := c.byName[strings.ToLower(name)]
	return i, ok
}

// Decode builds an object from r.
func (c *structCodec[T]) Decode(r Record) (T, error) {
	if c.direct {
		return c.decodeDirect(r)
	}
	return c.decodeReflect(r)
}

// fieldSet is the set of fields a record gave, by index: a slice given in the record
// replaces its default (it is reset on its first value), and a default that is decoded for
// every object is only needed for fields the record did not give.
type fieldSet struct {
	small [2]uint64
	more  []uint64 // when there are more than 128 fields
}

func (s *fieldSet) words(n int) []uint64 {
	if w := (n + 63) / 64; w > len(s.small) {
		s.more = make([]uint64, w)
		return s.more
	}
	return s.small[:]
}

// add adds i and reports whether it was new.
func add(set []uint64, i int) bool {
	first := set[i/64]&(1<<(i%64)) == 0
	set[i/64] |= 1 << (i % 64)
	return first
}

func has(set []uint64, i int) bool { return set[i/64]&(1<<(i%64)) != 0 }

// decodeDirect is Decode for codecs whose fields are all set through typed pointers (see
// fill).
func (c *structCodec[T]) decodeDirect(r Record) (T, error) {
	out := c.defaults
	if err := c.fill(r, &out); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// decodeInto decodes r into *out, as decodeDirect does, without a copy of the object: it is
// built where the caller keeps it. On an error, *out holds a part of the object.
func (c *structCodec[T]) decodeInto(r Record, out *T) error {
	*out = c.defaults
	return c.fill(r, out)
}

// fill sets the fields of *out, a copy of the defaults, from r, for codecs whose fields are
// all set through typed pointers: it reaches them by their offsets, and nothing makes out
// escape to the heap.
func (c *structCodec[T]) fill(r Record, out *T) error {
	base := unsafe.Pointer(out)
	*(*string)(unsafe.Add(base, c.idOffset)) = r.ID
	var fs fieldSet
	seen := fs.words(len(c.fields))
	next := 0
	for k, rf := range r.Fields {
		if c.extended >= 0 && strings.HasPrefix(rf.Name, "@") {
			setExtended((*map[string]string)(unsafe.Add(base, c.fields[c.extended].offset)), rf)
			continue
		}
		i, ok := c.lookup(rf.Name, next)
		if !ok {
			if err := c.unknown(rf.Name); err != nil {
				return err
			}
			continue
		}
		next = i + 1
		f := &c.fields[i]
		p := unsafe.Add(base, f.offset)
		first := add(seen, i)
		if f.kind == kindSlice {
			c.appendDirect((*[]string)(p), r.Fields[k:], first)
			continue
		}
		if err := f.decodeDirect(p, rf.Value); err != nil {
			return errors.Errorf("field %q: %v: %w", f.name, err, errors.ErrInvalid)
		}
	}
	for _, i := range c.perCall { // string lists here: their own copy of the default
		if !has(seen, i) {
			f := &c.fields[i]
			sp := (*[]string)(unsafe.Add(base, f.offset))
			*sp = nil
			appendStrings(sp, f.def)
		}
	}
	return nil
}

// appendDirect appends the values of fields[0], a field of the string list *sp, making room
// on the list's first value for every value fields holds for it, so that it grows once.
func (c *structCodec[T]) appendDirect(sp *[]string, fields Fields, first bool) {
	if first {
		*sp = make([]string, 0, c.countValues(fields, fields[0].Name))
	}
	appendStrings(sp, fields[0].Value)
	if len(*sp) == 0 {
		*sp = nil // blank values: nil, not the room made for them
	}
}

func setExtended(m *map[string]string, rf Field) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[rf.Name[1:]] = rf.Value
}

// unknown returns the error of a field name the struct has no place for, or nil when it
// is skipped.
func (c *structCodec[T]) unknown(name string) error {
	if strings.EqualFold(name, "id") || strings.EqualFold(name, "type") || c.ignoreUnknown {
		// Some sources repeat the id among the fields; config files carry type=, which
		// Asterisk registers as a no-op field of every pjsip object type.
		return nil
	}
	return errors.Errorf("unknown field %q: %w", name, errors.ErrInvalid)
}

// decodeDirect sets the scalar at p, f's field, from s, through a pointer of its kind.
func (f *codecField) decodeDirect(p unsafe.Pointer, s string) error {
	switch f.conv {
	case convString:
		*(*string)(p) = s // a string kind, named or not
	case convBool:
		b, err := astvalue.Bool(s)
		if err != nil {
			return err
		}
		*(*bool)(p) = b
	case convInt, convDuration:
		var n int64
		if f.conv == convDuration {
			d, err := astvalue.Duration(s)
			if err != nil {
				return err
			}
			n = int64(d)
		} else {
			v, err := strconv.ParseInt(strings.TrimSpace(s), 10, f.bits)
			if err != nil {
				return numError(err)
			}
			n = v
		}
		switch f.bits {
		case 8:
			*(*int8)(p) = int8(n)
		case 16:
			*(*int16)(p) = int16(n)
		case 32:
			*(*int32)(p) = int32(n)
		default:
			*(*int64)(p) = n
		}
	case convUint:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, f.bits)
		if err != nil {
			return numError(err)
		}
		switch f.bits {
		case 8:
			*(*uint8)(p) = uint8(n)
		case 16:
			*(*uint16)(p) = uint16(n)
		case 32:
			*(*uint32)(p) = uint32(n)
		default:
			*(*uint64)(p) = n
		}
	case convFloat:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), f.bits)
		if err != nil {
			return numError(err)
		}
		if f.bits == 32 {
			*(*float32)(p) = float32(n)
		} else {
			*(*float64)(p) = n
		}
	}
	return nil
}

// decodeReflect is Decode for codecs with fields that need reflect (text types, lists of
// other than strings): the object escapes to the heap.
func (c *structCodec[T]) decodeReflect(r Record) (T, error) {
	out := c.defaults
	base := unsafe.Pointer(&out)
	*(*string)(unsafe.Add(base, c.idOffset)) = r.ID
	var fs fieldSet
	seen := fs.words(len(c.fields))
	next := 0
	for k, rf := range r.Fields {
		if c.extended >= 0 && strings.HasPrefix(rf.Name, "@") {
			setExtended((*map[string]string)(unsafe.Add(base, c.fields[c.extended].offset)), rf)
			continue
		}
		i, ok := c.lookup(rf.Name, next)
		if !ok {
			if err := c.unknown(rf.Name); err != nil {
				var zero T
				return zero, err
			}
			continue
		}
		next = i + 1
		f := &c.fields[i]
		p := unsafe.Add(base, f.offset)
		first := add(seen, i)
		switch {
		case f.kind == kindSlice && f.conv == convString:
			c.appendDirect((*[]string)(p), r.Fields[k:], first)
		case f.kind == kindSlice:
			fv := reflect.NewAt(f.typ, p).Elem()
			if first {
				fv.SetZero()
				fv.Grow(c.countValues(r.Fields[k:], rf.Name))
			}
			if err := f.appendValues(fv, rf.Value); err != nil {
				var zero T
				return zero, errors.Errorf("%w", err)
			}
			if fv.Len() == 0 {
				fv.SetZero()
			}
		case f.conv == convText:
			if err := f.decodeValue(reflect.NewAt(f.typ, p).Elem(), rf.Value); err != nil {
				var zero T
				return zero, errors.Errorf("field %q: %v: %w", f.name, err, errors.ErrInvalid)
			}
		default:
			if err := f.decodeDirect(p, rf.Value); err != nil {
				var zero T
				return zero, errors.Errorf("field %q: %v: %w", f.name, err, errors.ErrInvalid)
			}
		}
	}
	for _, i := range c.perCall {
		if !has(seen, i) {
			f := &c.fields[i]
			fv := reflect.NewAt(f.typ, unsafe.Add(base, f.offset)).Elem()
			fv.SetZero()
			if err := f.setDefault(fv); err != nil {
				var zero T
				return zero, errors.Errorf("%w", err)
			}
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
		fv := f.field(v)
		switch f.kind {
		case kindExtended:
			m, _ := fv.Interface().(map[string]string)
			for _, k := range slices.Sorted(maps.Keys(m)) {
				r.Fields = append(r.Fields, Field{Name: "@" + k, Value: m[k]})
			}
		case kindSlice:
			if fv.Len() == 0 && f.hasDef && f.def != "" {
				// An empty value, so that decoding does not bring the default back.
				r.Fields = append(r.Fields, Field{Name: f.name})
			}
			for j := range fv.Len() {
				s, err := f.encodeValue(fv.Index(j))
				if err != nil {
					return Record{}, errors.Errorf("field %q: %v: %w", f.name, err, errors.ErrInvalid)
				}
				r.Fields = append(r.Fields, Field{Name: f.name, Value: s})
			}
		default:
			s, err := f.encodeValue(fv)
			if err != nil {
				return Record{}, errors.Errorf("field %q: %v: %w", f.name, err, errors.ErrInvalid)
			}
			r.Fields = append(r.Fields, Field{Name: f.name, Value: s})
		}
	}
	return r, nil
}
