package snapshot

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// DefaultInterval is how often the snapshot is written when Options.Interval is 0.
const DefaultInterval = time.Minute

// Codec encodes the objects of a cache into the snapshot file and decodes them back.
// It must be safe for concurrent use.
type Codec[T any] interface {
	// Marshal encodes one object. An object that fails to encode is left out of the file,
	// which is still written, and the failure is reported.
	Marshal(v T) ([]byte, error)
	// Unmarshal decodes what Marshal encoded. An object that fails to decode is left out
	// of the cache, and the failure is reported.
	Unmarshal(b []byte) (T, error)
}

// JSON is the default [Codec]: encoding/json.
type JSON[T any] struct{}

// Marshal encodes v with json.Marshal.
func (JSON[T]) Marshal(v T) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes b with json.Unmarshal into a T.
func (JSON[T]) Unmarshal(b []byte) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

var _ Codec[int] = JSON[int]{}

// Options configures a [Snapshot]. The zero value (and a nil *Options) writes every
// DefaultInterval, with encoding/json.
type Options[T any] struct {
	// Interval is how often the snapshot is written, when the cache changed since the last
	// write. 0 means DefaultInterval.
	Interval time.Duration

	// Codec encodes and decodes the objects. Nil means JSON[T].
	Codec Codec[T]
}

// Snapshot keeps the last-known-good objects of a cache in a file: see the package
// documentation. Make one with [New]; it is safe for concurrent use.
type Snapshot[T any] struct {
	c        *cache.Cache[T]
	path     string
	interval time.Duration
	codec    Codec[T]
	name     string        // the cache's, for errors and events
	events   cache.Options // the cache's: its OnEvent and the kinds it takes

	// sem is held (one token) by whoever reads or writes the file — Restore, Write, the
	// writer goroutine, Close — so that they take turns; a waiter honours its context. It
	// guards version, closed and beforeRename.
	sem     chan struct{}
	version uint64 // the cache's Version when the file was last written or read
	forced  bool   // the file must be replaced at the next write, changed or not
	closed  bool   // Close wrote the last snapshot: no more reads or writes

	// beforeRename, when set by a test, is called with the temporary file's name once it is
	// written and synced, before it replaces the snapshot: a crash point.
	beforeRename func(tmp string)

	closing atomic.Bool
	stop    chan struct{} // closed by Close: ends the writer goroutine
	done    chan struct{} // closed by the writer goroutine as it returns

	writes   atomic.Uint64
	failures atomic.Uint64
	restored atomic.Int64
	last     atomic.Int64 // Unix nanoseconds of the last write; 0 = none
}

// Stats are a snapshot's counters.
type Stats struct {
	Writes   uint64    // snapshot files written
	Errors   uint64    // snapshot files that could not be read or written, or that left objects out
	Restored int       // objects restored by the last Restore
	Last     time.Time // when the last snapshot file was written; zero if none
}

// New returns the snapshot of c in the file at path and starts writing it every
// opts.Interval, when c changed since the last write, until Close. It does not read the
// file: call [Snapshot.Restore] for that, before c serves or soon after.
//
// The file's directory must exist; the file need not (a first start), but if it does it
// must be a regular file: anything else (a directory, a named pipe, a socket) is refused at
// once, without opening it. Each cache needs a file of its own. A nil opts means the zero
// [Options]. Errors match [errors.ErrInvalid] and name the path.
func New[T any](c *cache.Cache[T], path string, opts *Options[T]) (*Snapshot[T], error) {
	var o Options[T]
	if opts != nil {
		o = *opts
	}
	if c == nil {
		return nil, errors.Errorf("snapshot: nil cache: %w", errors.ErrInvalid)
	}
	co := c.Options()
	switch {
	case path == "":
		return nil, errors.Errorf("cache %q: snapshot: no file: %w", co.Name, errors.ErrInvalid)
	case o.Interval < 0:
		return nil, errors.Errorf("cache %q: snapshot: negative interval: %w", co.Name, errors.ErrInvalid)
	}
	if err := checkPath(path); err != nil {
		return nil, errors.Errorf("cache %q: %w", co.Name, err)
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Codec == nil {
		o.Codec = JSON[T]{}
	}
	s := &Snapshot[T]{
		c:        c,
		path:     path,
		interval: o.Interval,
		codec:    o.Codec,
		name:     co.Name,
		events:   co,
		sem:      make(chan struct{}, 1),
		version:  c.Version(),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go s.run()
	return s, nil
}

// checkPath refuses a snapshot path whose directory is missing or that names something
// other than a regular file. It does not open it: a FIFO is refused without blocking.
func checkPath(path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return errors.Errorf("snapshot file %s: no directory %s: %w", path, dir, errors.ErrInvalid)
	}
	switch fi, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return errors.Errorf("snapshot file %s: %v: %w", path, err, errors.ErrInvalid)
	case !fi.Mode().IsRegular():
		return errors.Errorf("snapshot file %s is not a regular file (%s): %w", path, fileKind(fi.Mode()), errors.ErrInvalid)
	}
	return nil
}

// lock takes the file, or gives up when ctx ends.
func (s *Snapshot[T]) lock(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Snapshot[T]) unlock() { <-s.sem }

// Restore reads the file and restores its objects into the cache, stale: served at once
// and refreshed on their first read, expiring as after a failed refresh (see
// [cache.Cache.Restore]). An object the cache holds already is left as it is: the cache's
// answer is newer. A full-backend set written complete is restored complete (see
// [cache.Cache.RestoreSet]). It returns the number of objects restored.
//
// A missing file is a first start: 0, nil. A file that cannot be read or decoded, and
// objects that cannot be decoded, are left out: the cache goes on without them, and the
// file is replaced at the next write. Every restore is reported through the cache's
// Options.OnEvent — [cache.EventSnapshotRestored] when objects were restored,
// [cache.EventSnapshotError] for what was left out — and the failure is returned too, so
// a caller that has the events need not report it again. The file is opened without
// blocking and read only if it is a regular file. After Close it returns
// [errors.ErrClosed].
func (s *Snapshot[T]) Restore(ctx context.Context) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	n, age, err := s.restore(ctx)
	s.unlock()
	switch {
	case errors.Is(err, errors.ErrClosed), ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return n, err
	case err != nil:
		s.failed(err)
	}
	if n > 0 {
		s.emit(cache.Event{Kind: cache.EventSnapshotRestored, Objects: n, Age: age})
	}
	return n, err
}

// restore is Restore with the file held. age is the age of the file.
func (s *Snapshot[T]) restore(ctx context.Context) (n int, age time.Duration, err error) {
	if s.closed {
		return 0, 0, errors.ErrClosed
	}
	removeTemps(s.path)
	b, err := readFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, 0, nil
	case err != nil:
		s.forced = true
		return 0, 0, errors.Errorf("cache %q: snapshot not restored: %w", s.name, err)
	}
	meta, list, err := decodeSnapshot(b)
	if err != nil {
		s.forced = true
		return 0, 0, errors.Errorf("cache %q: snapshot %s not restored: %v: %w", s.name, s.path, err, errors.ErrInvalid)
	}
	objs := make([]restored[T], 0, len(list))
	var bad int
	var firstErr error
	for _, it := range list {
		v, err := s.codec.Unmarshal(it.value)
		if err != nil {
			bad++
			if firstErr == nil {
				firstErr = errors.Errorf("object %q: %w", it.id, err)
			}
			continue
		}
		objs = append(objs, restored[T]{id: it.id, v: v, loaded: time.Unix(0, it.loaded)})
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}

	if s.c.Options().FullBackend && meta.complete && bad == 0 {
		n = s.c.RestoreSet(time.Unix(0, meta.setLoaded), func(yield func(string, T, time.Time) bool) {
			for _, o := range objs {
				if !yield(o.id, o.v, o.loaded) {
					return
				}
			}
		})
	} else {
		order := make([]int32, len(objs))
		for i := range order {
			order[i] = int32(i)
		}
		if s.c.Options().MaxObjects > 0 {
			// Over MaxObjects, the least recently loaded go first: they are restored first.
			// The indices are sorted, not the objects, which may be large.
			slices.SortStableFunc(order, func(a, b int32) int { return objs[a].loaded.Compare(objs[b].loaded) })
		}
		for _, i := range order {
			if o := &objs[i]; s.c.Restore(o.id, o.v, o.loaded) {
				n++
			}
		}
	}
	s.restored.Store(int64(n))
	s.version = s.c.Version()
	age = max(time.Since(time.Unix(0, meta.written)), 0)
	if bad > 0 {
		s.forced = true
		return n, age, errors.Errorf("cache %q: snapshot %s: %d of %d objects not restored: %w", s.name, s.path, bad, len(list), firstErr)
	}
	return n, age, nil
}

// restored is one object decoded from the file.
type restored[T any] struct {
	id     string
	v      T
	loaded time.Time
}

// Write writes the snapshot file now, whether or not the cache changed since the last
// write. It waits for a read or write in progress, or until ctx ends. Objects that could
// not be encoded are left out of the file, which is still written, and named in the error.
// Its failures are counted (Stats.Errors) and returned, not reported as events. After
// Close it returns [errors.ErrClosed].
func (s *Snapshot[T]) Write(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if s.closed {
		return errors.ErrClosed
	}
	err := s.write(ctx, true)
	if err != nil && !errors.Is(err, errors.ErrClosed) && ctx.Err() == nil {
		s.failures.Add(1)
	}
	return err
}

// write writes the file, unless nothing changed since the last write and force is false.
// The caller holds the file.
func (s *Snapshot[T]) write(ctx context.Context, force bool) error {
	v := s.c.Version() // read first: a change made while the file is written is written next time
	if !force && !s.forced && v == s.version {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	written, bad, err := s.writeFile()
	if err != nil {
		if errors.Is(err, errors.ErrClosed) {
			return errors.Errorf("cache %q: snapshot %s not written: the cache was closed before its snapshot: %w", s.name, s.path, err)
		}
		return errors.Errorf("cache %q: snapshot %s not written: %w", s.name, s.path, err)
	}
	// Objects that did not encode are not tried again before the cache changes: they
	// would most likely fail again.
	s.version, s.forced = v, false
	s.writes.Add(1)
	s.last.Store(written)
	if bad != nil {
		return errors.Errorf("cache %q: snapshot %s written without %w", s.name, s.path, bad)
	}
	return nil
}

// run is the writer goroutine: it writes the snapshot every interval, when the cache
// changed, until Close.
func (s *Snapshot[T]) run() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.stop:
			return
		}
		select {
		case s.sem <- struct{}{}:
		case <-s.stop:
			return
		}
		err := s.write(context.Background(), false)
		s.unlock()
		if err != nil && !errors.Is(err, errors.ErrClosed) {
			s.failed(err)
		}
	}
}

// failed counts and reports a failure that no caller sees, or that Restore returns too.
func (s *Snapshot[T]) failed(err error) {
	s.failures.Add(1)
	s.emit(cache.Event{Kind: cache.EventSnapshotError, Err: err})
}

// emit delivers ev to the cache's Options.OnEvent, if it takes ev's kind (EventKinds), with
// no lock held.
func (s *Snapshot[T]) emit(ev cache.Event) {
	if s.events.Takes(ev.Kind) {
		ev.Cache = s.name
		s.events.OnEvent(ev)
	}
}

// Stats returns the snapshot's counters.
func (s *Snapshot[T]) Stats() Stats {
	st := Stats{Writes: s.writes.Load(), Errors: s.failures.Load(), Restored: int(s.restored.Load())}
	if last := s.last.Load(); last != 0 {
		st.Last = time.Unix(0, last)
	}
	return st
}

// Close stops the periodic writes, waits for a write in progress, and writes the last
// snapshot when the cache changed since the last one. Close the snapshot before its cache:
// a cache closed first has been emptied, and rather than write that over the file, Close
// leaves the file as it was and returns an error matching [errors.ErrClosed]. The first
// Close returns nil or the last write's error; later ones return [errors.ErrClosed].
func (s *Snapshot[T]) Close() error {
	if !s.closing.CompareAndSwap(false, true) {
		return errors.ErrClosed
	}
	close(s.stop)
	<-s.done
	s.sem <- struct{}{}
	defer s.unlock()
	err := s.write(context.Background(), false)
	s.closed = true
	if err != nil {
		s.failures.Add(1)
	}
	return err
}
