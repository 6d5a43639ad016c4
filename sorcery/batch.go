package sorcery

import (
	"context"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// Batch is a list of writes to the objects of one type, applied together by
// [Type.WriteBatch]. The zero Batch is empty and ready to use. A Batch is not safe for
// concurrent use; it may be reused after [Batch.Reset].
type Batch[T any] struct {
	items []batchItem[T]
}

type batchItem[T any] struct {
	op  Operation
	obj T
	id  string // for a delete
}

// Create adds the creation of obj.
func (b *Batch[T]) Create(obj T) {
	b.items = append(b.items, batchItem[T]{op: OperationCreate, obj: obj})
}

// Update adds the replacement of the object with obj's id by obj.
func (b *Batch[T]) Update(obj T) {
	b.items = append(b.items, batchItem[T]{op: OperationUpdate, obj: obj})
}

// Delete adds the removal of the object with the given id.
func (b *Batch[T]) Delete(id string) {
	b.items = append(b.items, batchItem[T]{op: OperationDelete, id: id})
}

// Len returns the number of writes in the batch.
func (b *Batch[T]) Len() int { return len(b.items) }

// Reset empties the batch, keeping its memory.
func (b *Batch[T]) Reset() {
	clear(b.items)
	b.items = b.items[:0]
}

// WriteBatch applies the writes of b, in order, to every writable wizard of the chain, as
// [Type.Create], [Type.Update] and [Type.Delete] would one by one, but as one:
//
//   - Every object is encoded first; when one cannot be, or an id is empty, nothing is
//     written and the error wraps a [*WriteError] per write at fault.
//   - A wizard that is a [BatchWriter] takes the whole batch at once, all or nothing (a
//     database in one transaction). Any other writable wizard takes the writes one at a time
//     and stops at the first that fails, keeping those before it.
//   - The batch succeeds when at least one wizard took all of it. The caches are then updated
//     and the observers told, once, after the wizards are done: observers receive the writes
//     in order, without any other write of the type between them.
//   - When no wizard took all of it, the joined errors are returned, each wizard's wrapped in
//     an *errors.WizardError, and nothing is cached; the objects a wizard did write one at a
//     time are marked stale in the caches, so that the next read asks the source.
//
// A chain without a writable wizard fails with errors.ErrReadOnly. An empty batch does
// nothing.
func (t *Type[T]) WriteBatch(ctx context.Context, b *Batch[T]) error {
	if t.closed.Load() {
		return errors.ErrClosed
	}
	if b == nil || len(b.items) == 0 {
		return nil
	}
	writes, err := t.encodeBatch(b)
	if err != nil {
		return err
	}
	// What observers get for a delete: the object as last cached, or one carrying the id.
	deleted := make(map[int]T)
	for i, it := range b.items {
		if it.op == OperationDelete {
			obj, cached := t.peek(it.id)
			if !cached {
				obj, _ = t.codec.Decode(Record{ID: it.id})
			}
			deleted[i] = obj
		}
	}

	var (
		errs            []error
		wrote, writable int
		partial         = -1 // the most writes a one-at-a-time wizard wrote before failing
	)
	for _, l := range t.layers() {
		if l.writer == nil {
			continue
		}
		writable++
		start := time.Now()
		var n int
		if bw, ok := Capability[BatchWriter](l.wizard); ok {
			err = bw.WriteBatch(ctx, writes)
		} else {
			n, err = writeEach(ctx, l.writer, writes)
		}
		t.observeBatch(l, writes, start, err)
		switch {
		case err == nil:
			wrote++
		case errors.Is(err, errors.ErrReadOnly):
			writable--
		default:
			partial = max(partial, n)
			errs = append(errs, &errors.WizardError{Type: t.name, Wizard: l.name, Op: "batch", Err: err})
		}
	}
	switch {
	case writable == 0:
		return errors.Errorf("%s: batch of %d writes: no writable wizard: %w", t.name, len(writes), errors.ErrReadOnly)
	case wrote == 0:
		for _, c := range writes[:max(partial, 0)] {
			t.markStaleID(c.Record.ID)
		}
		return errors.Join(errs...)
	case len(errs) > 0:
		t.warnf("batch reached only some wizards", "writes", len(writes), "err", errors.Join(errs...))
	}

	for i, it := range b.items {
		if it.op == OperationDelete {
			for _, l := range t.layers() {
				if l.cache != nil {
					l.cache.Delete(it.id)
				}
			}
			continue
		}
		t.push(writes[i].Record.ID, it.obj)
	}
	items := append([]batchItem[T](nil), b.items...) // b may be reused once we return
	t.obs.notify(func(o *Observer[T]) {
		for i, it := range items {
			switch {
			case it.op == OperationCreate && o.Created != nil:
				o.Created(it.obj)
			case it.op == OperationUpdate && o.Updated != nil:
				o.Updated(it.obj)
			case it.op == OperationDelete && o.Deleted != nil:
				o.Deleted(deleted[i])
			}
		}
	})
	return nil
}

// encodeBatch returns the writes of b, or, when some object cannot be encoded or an id is
// empty, a *WriteError for each, joined.
func (t *Type[T]) encodeBatch(b *Batch[T]) ([]Write, error) {
	writes := make([]Write, len(b.items))
	var errs []error
	for i, it := range b.items {
		c := Write{Op: it.op, Record: Record{ID: it.id}}
		if it.op != OperationDelete {
			rec, err := t.codec.Encode(it.obj)
			switch {
			case err != nil:
				errs = append(errs, &WriteError{Index: i, Op: it.op, ID: rec.ID, Err: err})
				continue
			case rec.ID == "":
				errs = append(errs, &WriteError{Index: i, Op: it.op, Err: errors.Errorf("empty id: %w", errors.ErrInvalid)})
				continue
			}
			c.Record = rec
		} else if it.id == "" {
			errs = append(errs, &WriteError{Index: i, Op: it.op, Err: errors.Errorf("empty id: %w", errors.ErrInvalid)})
			continue
		}
		writes[i] = c
	}
	if len(errs) > 0 {
		return nil, errors.Errorf("%s: batch of %d writes: nothing written: %w", t.name, len(b.items), errors.Join(errs...))
	}
	return writes, nil
}

// writeEach writes writes to w one at a time, in order, and stops at the first that fails.
// It returns how many were written.
func writeEach(ctx context.Context, w Writer, writes []Write) (int, error) {
	for i, c := range writes {
		var err error
		switch c.Op {
		case OperationCreate:
			err = w.Create(ctx, c.Record)
		case OperationUpdate:
			err = w.Update(ctx, c.Record)
		case OperationDelete:
			err = w.Delete(ctx, c.Record.ID)
		default:
			err = errors.Errorf("operation %s is not a write: %w", c.Op, errors.ErrInvalid)
		}
		if err != nil {
			if errors.Is(err, errors.ErrReadOnly) {
				return i, err
			}
			return i, &WriteError{Index: i, Op: c.Op, ID: c.Record.ID, Err: err}
		}
	}
	return len(writes), nil
}

// observeBatch counts a batch written to l as one call per write, each taking its share of
// the batch's time, and tells the hooks once per write.
func (t *Type[T]) observeBatch(l *layer[T], writes []Write, start time.Time, err error) {
	total := time.Since(start)
	at := start.Add(total)
	d := total / time.Duration(len(writes))
	out := OutcomeOK
	if err != nil {
		out = OutcomeError
	}
	h := t.s.opts.Hooks.WizardCall
	for _, c := range writes {
		l.counters.record(c.Op, out, at, d, err, 1)
		if h != nil {
			h(WizardCallEvent{Type: t.name, Wizard: l.name, Operation: c.Op, Outcome: out, ID: c.Record.ID, Duration: d, Err: err})
		}
	}
}

// markStaleID marks id stale in every cache that holds it, so that the next read asks the
// wizards while the cached object is still served.
func (t *Type[T]) markStaleID(id string) {
	for _, l := range t.layers() {
		if l.cache == nil {
			continue
		}
		if _, ok := l.cache.Peek(id); ok {
			l.cache.MarkStale(id, false)
		}
	}
}
