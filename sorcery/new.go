package sorcery

// New returns a new object of the type with the given id and every other field at its
// codec's default, as Asterisk's ast_sorcery_alloc gives an object its registered defaults.
// Start a write from it rather than from a struct literal: a field left out of a literal is
// Go's zero value, and would be written as such (direct_media=no where the tag says
// default=yes).
//
// It is the codec's Decode of a record with the id and no fields. The default codec always
// succeeds at that (its defaults are checked by [NewCodec]); a custom codec that refuses such
// a record gives T's zero value.
func (t *Type[T]) New(id string) T {
	v, err := t.codec.Decode(Record{ID: id})
	if err != nil {
		var zero T
		return zero
	}
	return v
}
