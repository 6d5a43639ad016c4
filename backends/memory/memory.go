package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

var (
	_ sorcery.Wizard      = (*Wizard)(nil)
	_ sorcery.Searcher    = (*Wizard)(nil)
	_ sorcery.Writer      = (*Wizard)(nil)
	_ sorcery.BatchWriter = (*Wizard)(nil)
	_ sorcery.Reloader    = (*Wizard)(nil)

	_ sorcery.ImmediateRetriever = (*Wizard)(nil)
)

// Wizard is an in-memory store of records with fault injection. It is safe for concurrent use.
type Wizard struct {
	mu      sync.RWMutex // guards records
	records map[string]sorcery.Record

	fault  atomic.Pointer[error] // the error every call fails with; nil for none
	delay  atomic.Int64          // time.Duration every call waits before answering
	closed atomic.Bool

	retrieves, searches, creates, updates, deletes, reloads atomic.Int64
}

// New returns an empty wizard.
func New() *Wizard {
	return &Wizard{records: make(map[string]sorcery.Record)}
}

// Factory returns the factory of the "memory" wizard for sorcery.Options.Wizards. Every
// mapping gets its own empty wizard; the data string is ignored.
func Factory() sorcery.WizardFactory {
	return func(typeName, data string) (sorcery.Wizard, error) {
		return New(), nil
	}
}

// Calls counts the calls a wizard has answered or refused, per operation.
type Calls struct {
	Retrieve, Search, Create, Update, Delete, Reload int64
}

// Total returns the sum of the calls of every operation.
func (c Calls) Total() int64 {
	return c.Retrieve + c.Search + c.Create + c.Update + c.Delete + c.Reload
}

// Calls returns the number of calls made so far, per operation. Every call counts, including
// those that failed.
func (w *Wizard) Calls() Calls {
	return Calls{
		Retrieve: w.retrieves.Load(),
		Search:   w.searches.Load(),
		Create:   w.creates.Load(),
		Update:   w.updates.Load(),
		Delete:   w.deletes.Load(),
		Reload:   w.reloads.Load(),
	}
}

// ResetCalls sets every call counter back to zero.
func (w *Wizard) ResetCalls() {
	for _, c := range []*atomic.Int64{&w.retrieves, &w.searches, &w.creates, &w.updates, &w.deletes, &w.reloads} {
		c.Store(0)
	}
}

// SetError makes every later call fail with err, as a source that is down would; nil makes the
// wizard answer normally again. The error is returned as given, so pass one that wraps
// errors.ErrUnavailable to simulate an outage.
func (w *Wizard) SetError(err error) {
	if err == nil {
		w.fault.Store(nil)
		return
	}
	w.fault.Store(&err)
}

// SetDelay makes every later call wait d before it answers, or until the caller's ctx ends,
// whichever comes first. Zero removes the delay.
func (w *Wizard) SetDelay(d time.Duration) {
	w.delay.Store(int64(d))
}

// Put stores r, replacing any record with its id, whatever fault is set. It is how tests seed
// the wizard and change the "source" behind a cache's back.
func (w *Wizard) Put(records ...sorcery.Record) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range records {
		w.records[r.ID] = r.Clone()
	}
}

// Remove deletes the records with the given ids, whatever fault is set.
func (w *Wizard) Remove(ids ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		delete(w.records, id)
	}
}

// Len returns the number of records held.
func (w *Wizard) Len() int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return len(w.records)
}

// begin counts the call and applies the closed state, the delay, the injected fault and ctx,
// in that order. A nil counter counts nothing.
func (w *Wizard) begin(ctx context.Context, counter *atomic.Int64) error {
	return w.start(ctx, counter, true)
}

// start is begin, with the delay applied only when wait is set.
func (w *Wizard) start(ctx context.Context, counter *atomic.Int64, wait bool) error {
	if counter != nil {
		counter.Add(1)
	}
	if w.closed.Load() {
		return errors.ErrClosed
	}
	if d := time.Duration(w.delay.Load()); wait && d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		}
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if p := w.fault.Load(); p != nil {
		return *p
	}
	return nil
}

// Retrieve returns the record with the given id.
func (w *Wizard) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	if err := w.begin(ctx, &w.retrieves); err != nil {
		return sorcery.Record{}, false, err
	}
	w.mu.RLock()
	r, ok := w.records[id]
	w.mu.RUnlock()
	return answer(r, ok)
}

// answer is what Retrieve answers for the record r that the wizard holds, if ok.
func answer(r sorcery.Record, ok bool) (sorcery.Record, bool, error) {
	if !ok {
		return sorcery.Record{}, false, nil
	}
	return r.Clone(), true, nil
}

// AnswersFor reports whether w is this wizard itself, for [sorcery.ImmediateRetriever]: a
// type that embeds the wizard and changes its Retrieve is then asked through that Retrieve.
func (w *Wizard) AnswersFor(as sorcery.Wizard) bool { return as == sorcery.Wizard(w) }

// RetrieveNow is Retrieve when it can answer at once: now is false, and nothing is done or
// counted, while a delay is set or a write holds the records.
func (w *Wizard) RetrieveNow(ctx context.Context, id string) (rec sorcery.Record, found bool, err error, now bool) {
	if w.delay.Load() > 0 || !w.mu.TryRLock() {
		return sorcery.Record{}, false, nil, false
	}
	r, ok := w.records[id]
	w.mu.RUnlock()
	if err := w.start(ctx, &w.retrieves, false); err != nil {
		return sorcery.Record{}, false, err, true
	}
	rec, found, err = answer(r, ok)
	return rec, found, err, true
}

// Search returns the records that satisfy q, sorted by id.
func (w *Wizard) Search(ctx context.Context, q sorcery.Query) ([]sorcery.Record, error) {
	if err := w.begin(ctx, &w.searches); err != nil {
		return nil, err
	}
	m, err := q.Compile()
	if err != nil {
		return nil, err
	}
	var out []sorcery.Record
	w.mu.RLock()
	for _, r := range w.records {
		if m.Match(r) {
			out = append(out, r.Clone())
		}
	}
	w.mu.RUnlock()
	slices.SortFunc(out, func(a, b sorcery.Record) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Create stores r; errors.ErrExists when its id is taken.
func (w *Wizard) Create(ctx context.Context, r sorcery.Record) error {
	if err := w.begin(ctx, &w.creates); err != nil {
		return err
	}
	if r.ID == "" {
		return errors.Errorf("memory: create: empty id: %w", errors.ErrInvalid)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.records[r.ID]; ok {
		return errors.Errorf("memory: create %q: %w", r.ID, errors.ErrExists)
	}
	w.records[r.ID] = r.Clone()
	return nil
}

// Update replaces the record with r's id by r; errors.ErrNotFound when there is none.
func (w *Wizard) Update(ctx context.Context, r sorcery.Record) error {
	if err := w.begin(ctx, &w.updates); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.records[r.ID]; !ok {
		return errors.Errorf("memory: update %q: %w", r.ID, errors.ErrNotFound)
	}
	w.records[r.ID] = r.Clone()
	return nil
}

// Delete removes the record with the given id; errors.ErrNotFound when there is none.
func (w *Wizard) Delete(ctx context.Context, id string) error {
	if err := w.begin(ctx, &w.deletes); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.records[id]; !ok {
		return errors.Errorf("memory: delete %q: %w", id, errors.ErrNotFound)
	}
	delete(w.records, id)
	return nil
}

// WriteBatch applies writes in order under one lock, all or nothing: when one fails, none is
// applied. Each write counts as a call of its operation.
func (w *Wizard) WriteBatch(ctx context.Context, writes []sorcery.Write) error {
	for _, c := range writes {
		switch c.Op {
		case sorcery.OperationCreate:
			w.creates.Add(1)
		case sorcery.OperationUpdate:
			w.updates.Add(1)
		case sorcery.OperationDelete:
			w.deletes.Add(1)
		}
	}
	if err := w.begin(ctx, nil); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	err := sorcery.CheckBatch(writes, func(id string) bool {
		_, ok := w.records[id]
		return ok
	})
	if err != nil {
		return errors.Errorf("memory: batch of %d writes: nothing written: %w", len(writes), err)
	}
	for _, c := range writes {
		if c.Op == sorcery.OperationDelete {
			delete(w.records, c.Record.ID)
			continue
		}
		w.records[c.Record.ID] = c.Record.Clone()
	}
	return nil
}

// Reload does nothing but count the call and apply the injected fault: memory has nothing to
// re-read.
func (w *Wizard) Reload(ctx context.Context) error {
	return w.begin(ctx, &w.reloads)
}

// Close makes every later call fail with errors.ErrClosed. The first Close returns nil, later
// ones errors.ErrClosed. The records are kept, so a test can still inspect them with [Wizard.Len].
func (w *Wizard) Close() error {
	if w.closed.Swap(true) {
		return errors.ErrClosed
	}
	return nil
}
