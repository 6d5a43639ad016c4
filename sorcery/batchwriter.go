package sorcery

import (
	"context"
	"strconv"

	"github.com/gosorcery/gosorcery/errors"
)

// BatchWriter is a [Writer] that can apply many writes as one, all or nothing: a database
// in one transaction, a memory store under one lock.
//
// WriteBatch applies writes in order. When it returns nil, every write took effect; when
// it returns an error, none did. A write fails as the single write would (errors.ErrExists
// for a create of a taken id, errors.ErrNotFound for an update or a delete of a missing one,
// errors.ErrInvalid for a record the wizard cannot store); the error then wraps a
// [*WriteError] per write at fault. Writes are checked against each other as well: a
// create after a create of the same id is errors.ErrExists. An empty batch does nothing and
// succeeds.
//
// A wizard that cannot apply a batch atomically must not implement BatchWriter. Without it,
// [Type.WriteBatch] sends the writes to the wizard one at a time, in order, through
// [Writer], and stops at the first that fails: the writes before it stay written, and the
// error is a [*WriteError] naming the one that failed.
type BatchWriter interface {
	Writer
	WriteBatch(ctx context.Context, writes []Write) error
}

// Write is one write of a batch, as a [BatchWriter] receives it.
type Write struct {
	Op     Operation // OperationCreate, OperationUpdate or OperationDelete
	Record Record    // the record to create or update; for a delete, only Record.ID counts
}

// WriteError is the failure of one write of a batch: which write, and why. Err is
// matched with errors.Is (errors.ErrExists, errors.ErrNotFound, errors.ErrInvalid …).
type WriteError struct {
	Index int // the write's position in the batch, from 0
	Op    Operation
	ID    string
	Err   error
}

// Error returns "sorcery: write N (op "id"): why".
func (e *WriteError) Error() string { return "sorcery: " + e.Detail() }

// Detail is Error without the library's name (see errors.Detailer).
func (e *WriteError) Detail() string {
	return "write " + strconv.Itoa(e.Index) + " (" + e.Op.String() + " " + strconv.Quote(e.ID) + "): " + errors.Detail(e.Err)
}

// Unwrap returns the reason.
func (e *WriteError) Unwrap() error { return e.Err }

// CheckBatch checks the writes of a batch before anything is written: every Op is a write, every
// id is set, and no id is created twice or updated or deleted after a delete, with no create
// in between. It returns a [*WriteError] per write at fault, joined, or nil. exists reports
// whether the source holds an id before the batch; nil means the source is not asked, and only
// the writes are checked against each other. Wizards use it to validate a batch before they
// write anything.
func CheckBatch(writes []Write, exists func(id string) bool) error {
	var errs []error
	state := make(map[string]bool, len(writes)) // id → present after the writes so far
	for i, c := range writes {
		id := c.Record.ID
		fail := func(err error) { errs = append(errs, &WriteError{Index: i, Op: c.Op, ID: id, Err: err}) }
		if id == "" {
			fail(errors.Errorf("empty id: %w", errors.ErrInvalid))
			continue
		}
		present, known := state[id]
		if !known && exists != nil {
			present, known = exists(id), true
		}
		switch c.Op {
		case OperationCreate:
			if known && present {
				fail(errors.ErrExists)
				continue
			}
			state[id] = true
		case OperationUpdate, OperationDelete:
			if known && !present {
				fail(errors.ErrNotFound)
				continue
			}
			state[id] = c.Op == OperationUpdate
		default:
			fail(errors.Errorf("operation %s is not a write: %w", c.Op, errors.ErrInvalid))
		}
	}
	return errors.Join(errs...)
}
