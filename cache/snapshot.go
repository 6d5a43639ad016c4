package cache

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// DefaultSnapshotInterval is how often the snapshot is written when
// SnapshotOptions.Interval is 0.
const DefaultSnapshotInterval = time.Minute

// SnapshotOptions makes a cache keep its last-known-good objects in a file, so that a
// process that restarts while its source is down still serves what it served before.
//
// The cache writes the file every Interval (when something changed since the last write)
// and on Close, and reads it when it is made: the objects in it are restored stale, served
// at once and refreshed on their first read, as any stale entry (see docs/snapshot.md). A
// file that cannot be read — missing aside — or decoded is reported (an
// [EventSnapshotError], Stats.SnapshotErrors) and ignored: the cache starts empty.
//
// The file is replaced atomically (a temporary file in the same directory, written,
// synced, renamed over the old one, and the directory synced), so a crash leaves either
// the old file or the new one, never a torn one. It is created with mode 0600: cached
// objects carry secrets (auth passwords). Negative entries are not written.
type SnapshotOptions struct {
	// Path is the snapshot file. Its directory must exist; the file need not (a first
	// start), but if it does it must be a regular file: anything else (a directory, a named
	// pipe) is refused by the constructor. Each cache needs a file of its own. Required.
	Path string

	// Interval is how often the snapshot is written, when the cache changed since the last
	// write. 0 means DefaultSnapshotInterval.
	Interval time.Duration

	// Marshal encodes one cached object, passed as its T. Nil means encoding/json. A value
	// that fails to encode is left out of the file and reported.
	Marshal func(v any) ([]byte, error)

	// Unmarshal decodes what Marshal encoded; the value it returns must be a T. Nil means
	// encoding/json into a T. Set both Marshal and Unmarshal, or neither. A value that fails
	// to decode is left out of the cache and reported.
	Unmarshal func(b []byte) (any, error)

	// OnEvent, when not nil, receives the snapshot's events, EventSnapshotRestored and
	// EventSnapshotError, on the goroutine that caused them (the constructor's, for a
	// restore), never with a lock of the cache held. Options.OnEvent receives them too; this
	// one lets an owner log them without taking every event of the cache, hits included.
	OnEvent func(Event)
}

func (o *SnapshotOptions) validate(name string) error {
	switch {
	case o.Path == "":
		return invalidf("cache %q: snapshot: no file", name)
	case o.Interval < 0:
		return invalidf("cache %q: snapshot: negative interval", name)
	case (o.Marshal == nil) != (o.Unmarshal == nil):
		return invalidf("cache %q: snapshot: set both Marshal and Unmarshal, or neither", name)
	}
	dir := filepath.Dir(o.Path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return invalidf("cache %q: snapshot file %s: no directory %s", name, o.Path, dir)
	}
	// Stat does not open: a FIFO or a device at the path is refused without blocking.
	switch fi, err := os.Stat(o.Path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return invalidf("cache %q: snapshot file %s: %v", name, o.Path, err)
	case !fi.Mode().IsRegular():
		return invalidf("cache %q: snapshot file %s is not a regular file (%s)", name, o.Path, fileKind(fi.Mode()))
	}
	return nil
}

// fileKind names the type of a file that is not a regular one, for an error.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return m.Type().String()
	}
}

// readSnapshotFile reads the whole snapshot file. It opens it without blocking (a FIFO put
// there since the cache was made would block an ordinary open until a writer came) and
// reads it only if it is a regular file.
func readSnapshotFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fileKind(fi.Mode()))
	}
	return io.ReadAll(f)
}

// snapshotter is a cache's snapshot state.
type snapshotter struct {
	path      string
	interval  time.Duration
	marshal   func(any) ([]byte, error)
	unmarshal func([]byte) (any, error)
	onEvent   func(Event)
	stop      chan struct{} // closed by Close: ends the writer goroutine

	mu      sync.Mutex // serialises writes (the writer goroutine, Snapshot, Close); guards lastGen and closed
	lastGen uint64     // the shards' generations when the file was last written or read
	closed  bool       // Close wrote the last snapshot: no more writes

	writes   atomic.Uint64
	failures atomic.Uint64
	restored atomic.Int64
	last     atomic.Int64 // Unix nanoseconds of the last write; 0 = none

	// beforeRename, when set by a test, is called with the temporary file's name once it is
	// written and synced, before it replaces the snapshot: a crash point.
	beforeRename func(tmp string)
}

// newSnapshotter applies the defaults to o, which was validated.
func newSnapshotter[T any](o *SnapshotOptions) *snapshotter {
	sn := &snapshotter{
		path:      o.Path,
		interval:  o.Interval,
		marshal:   o.Marshal,
		unmarshal: o.Unmarshal,
		onEvent:   o.OnEvent,
		stop:      make(chan struct{}),
	}
	if sn.interval == 0 {
		sn.interval = DefaultSnapshotInterval
	}
	if sn.marshal == nil {
		sn.marshal = json.Marshal
		sn.unmarshal = func(b []byte) (any, error) {
			var v T
			err := json.Unmarshal(b, &v)
			return v, err
		}
	}
	return sn
}

// gen returns the sum of the shards' generations: it changes whenever an entry is added,
// replaced or removed.
func (c *Cache[T]) gen() uint64 {
	var g uint64
	shards := c.shards
	if c.full != nil {
		g = c.full.published.Load() << 40
		shards = c.full.cur.Load().shards
	}
	for i := range shards {
		g += shards[i].gen.Load()
	}
	return g
}

// wallClock converts a reading of the cache's clock to Unix nanoseconds.
func (c *Cache[T]) wallClock(t int64) int64 { return c.base.Add(time.Duration(t)).UnixNano() }

// maxRestoredAge bounds the age of a time read from a snapshot, so that ages computed from
// it cannot overflow: about 36 years.
const maxRestoredAge = 1 << 60

// cacheClock converts Unix nanoseconds read from a snapshot to a reading of the cache's
// clock, no later than now (a clock that went back) and no earlier than maxRestoredAge
// before it.
func (c *Cache[T]) cacheClock(unixNano, now int64) int64 {
	t := int64(time.Unix(0, unixNano).Sub(c.base))
	return min(max(t, now-maxRestoredAge), now)
}

// restoreSnapshot fills the cache from its snapshot file, if there is one, as it is made:
// before its goroutines start. What cannot be read is reported and left out.
func (c *Cache[T]) restoreSnapshot() {
	sn := c.snap
	removeTemps(sn.path)
	b, err := readSnapshotFile(sn.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return
	case err != nil:
		c.snapshotFailed(errors.Errorf("cache %q: snapshot not restored: %w", c.name, err))
		sn.lastGen = ^uint64(0) // replace the file at the next write
		return
	}
	meta, list, err := decodeSnapshot(b)
	if err != nil {
		c.snapshotFailed(errors.Errorf("cache %q: snapshot %s not restored: %v: %w", c.name, sn.path, err, errors.ErrInvalid))
		sn.lastGen = ^uint64(0)
		return
	}

	now := c.now()
	entries := make([]*entry[T], 0, len(list))
	var bad int
	var firstErr error
	for _, it := range list {
		v, err := sn.unmarshal(it.value)
		if err == nil {
			if tv, ok := v.(T); ok {
				h := maphash.String(c.seed, it.id)
				e := newEntry(h, it.id, tv, 0)
				e.Value.loadedAt = c.cacheClock(it.loaded, now)
				entries = append(entries, e)
				continue
			}
			err = fmt.Errorf("decoded a %T", v)
		}
		bad++
		if firstErr == nil {
			firstErr = errors.Errorf("object %q: %w", it.id, err)
		}
	}
	if bad > 0 {
		c.snapshotFailed(errors.Errorf("cache %q: snapshot %s: %d of %d objects not restored: %w", c.name, sn.path, bad, len(list), firstErr))
	}

	var n int
	if c.full != nil {
		n = c.restoreSet(entries, meta, bad == 0, now)
	} else {
		n = c.restoreEntries(entries, now)
	}
	sn.restored.Store(int64(n))
	sn.lastGen = c.gen()
	if bad > 0 {
		sn.lastGen = ^uint64(0)
	}
	if n > 0 {
		c.emitSnapshot(Event{Kind: EventSnapshotRestored, Objects: n, Age: time.Duration(now - c.cacheClock(meta.written, now))})
	}
}

// restoreEntries installs restored entries stale: served at once, refreshed on their
// first read, and expiring as if a refresh had just failed: LifetimeMaximum from now, capped
// by StaleIfError after their last successful load. It returns how many it kept.
func (c *Cache[T]) restoreEntries(entries []*entry[T], now int64) int {
	if c.policy != nil {
		// Over MaxObjects, the least recently loaded go first.
		slices.SortFunc(entries, func(a, b *entry[T]) int { return cmp.Compare(a.Value.loadedAt, b.Value.loadedAt) })
	}
	n := 0
	for _, e := range entries {
		_, expireAt := c.extension(e.Value.loadedAt, now)
		if expireAt <= now {
			continue // past its StaleIfError cap: it would not be served
		}
		e.Value.staleAt, e.Value.expireAt = now, expireAt
		e.StoreFlags(flagStale)
		s := c.shardFor(e.Hash())
		c.lock(s)
		if _, dup := s.lookup(e.Hash(), e.Key()); dup == nil { // a file holds each id once; the first wins
			c.put(s, e)
			n++
		}
		n -= len(c.release(s))
	}
	return n
}

// restoreSet installs restored entries in full-backend mode: as a complete set, stale, if
// the snapshot was written from a complete set and every object decoded; otherwise as
// objects pushed into an incomplete set, which the first whole load replaces.
func (c *Cache[T]) restoreSet(entries []*entry[T], meta snapMeta, whole bool, now int64) int {
	f := c.full
	complete := meta.complete && whole
	var g *fullGen[T]
	if complete {
		g = c.newGen(true, c.cacheClock(meta.setLoaded, now))
		_, g.expireAt = c.extension(g.loadedAt, now)
		if g.expireAt <= now {
			return 0 // past its StaleIfError cap
		}
		g.staleAt = now
		g.stale.Store(true)
	} else {
		g = c.newGen(false, 0)
	}
	n := 0
	for _, e := range entries {
		s := g.shard(c, e.Hash())
		if _, dup := s.lookup(e.Hash(), e.Key()); dup == nil {
			s.insert(e)
			n++
		}
	}
	f.mu.Lock()
	c.publish(g)
	f.due.Store(g.nextDue())
	f.mu.Unlock()
	return n
}

// removeTemps removes the temporary files a crash left next to path: they may hold secrets.
func removeTemps(path string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), base+tempInfix) && de.Type().IsRegular() {
			os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}

// tempInfix follows the snapshot's name in the names of its temporary files.
const tempInfix = ".tmp-"

// runSnapshots is the writer goroutine: it writes the snapshot every interval, when the
// cache changed, until Close.
func (c *Cache[T]) runSnapshots() {
	defer c.wg.Done()
	t := time.NewTicker(c.snap.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := c.writeSnapshot(false); err != nil {
				c.snapshotFailed(err)
			}
		case <-c.snap.stop:
			return
		}
	}
}

// snapshotFailed counts and reports a snapshot failure that no caller sees.
func (c *Cache[T]) snapshotFailed(err error) {
	c.snap.failures.Add(1)
	c.emitSnapshot(Event{Kind: EventSnapshotError, Err: err})
}

// emitSnapshot delivers a snapshot event to both Options.OnEvent and SnapshotOptions.OnEvent.
func (c *Cache[T]) emitSnapshot(ev Event) {
	ev.Cache = c.name
	if c.onEvent != nil {
		c.onEvent(ev)
	}
	if c.snap.onEvent != nil {
		c.snap.onEvent(ev)
	}
}

// Snapshot writes the cache's snapshot file now, whether or not the cache changed since the
// last write. The writes are serialised: it waits for one in progress. It returns an error
// matching [errors.ErrUnsupported] when the cache has no Options.Snapshot, and
// [errors.ErrClosed] after Close (which writes the last snapshot). Objects that could not be
// encoded are left out of the file, which is still written, and named in the error.
func (c *Cache[T]) Snapshot() error {
	if c.snap == nil {
		return errors.Errorf("cache %q: no snapshot file configured: %w", c.name, errors.ErrUnsupported)
	}
	if c.closed.Load() {
		return errors.ErrClosed
	}
	err := c.writeSnapshot(true)
	if err != nil && !errors.Is(err, errors.ErrClosed) {
		c.snap.failures.Add(1)
	}
	return err
}

// writeSnapshot writes the snapshot file, unless nothing changed since the last write and
// force is false.
func (c *Cache[T]) writeSnapshot(force bool) error {
	sn := c.snap
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.closed {
		return errors.ErrClosed
	}
	return c.writeSnapshotLocked(force)
}

// writeSnapshotLocked is writeSnapshot with sn.mu held.
func (c *Cache[T]) writeSnapshotLocked(force bool) error {
	sn := c.snap
	if !force && c.gen() == sn.lastGen {
		return nil
	}
	entries, meta, gen := c.collectSnapshot()
	bad, err := c.writeSnapshotFile(entries, &meta)
	if err != nil {
		return errors.Errorf("cache %q: snapshot %s not written: %w", c.name, sn.path, err)
	}
	// Objects that did not encode are not tried again before the cache changes: they
	// would most likely fail again.
	sn.lastGen = gen
	sn.writes.Add(1)
	sn.last.Store(meta.written)
	if bad != nil {
		return errors.Errorf("cache %q: snapshot %s written without %w", c.name, sn.path, bad)
	}
	return nil
}

// collectSnapshot gathers the entries to write, one shard at a time, holding each shard's
// lock only to walk it (and, in full-backend mode, the set's read lock, so that the set is
// not replaced halfway). gen is the generation of what it gathered.
func (c *Cache[T]) collectSnapshot() (entries []*entry[T], meta snapMeta, gen uint64) {
	now := c.now()
	shards := c.shards
	if f := c.full; f != nil {
		f.mu.Lock() // the set's deadlines, and no write into it while it is gathered
		defer f.mu.Unlock()
		g := f.cur.Load()
		shards = g.shards
		gen = f.published.Load() << 40
		if g.complete && g.expireAt > now {
			meta.complete = true
			meta.setLoaded = c.wallClock(g.loadedAt)
		}
	}
	n := 0
	for i := range shards {
		n += int(shards[i].objects.Load())
	}
	entries = make([]*entry[T], 0, n)
	for i := range shards {
		s := &shards[i]
		s.mu.Lock()
		gen += s.gen.Load()
		for e := range s.walk {
			if negative(e) || (c.full == nil && e.Value.expireAt <= now) {
				continue
			}
			entries = append(entries, e)
		}
		s.mu.Unlock()
	}
	return entries, meta, gen
}

// writeSnapshotFile encodes entries into a temporary file and renames it over the
// snapshot. It holds no lock of the cache. bad names the objects that could not be encoded
// (and were left out); err is a failure to write the file, which is then left as it was.
func (c *Cache[T]) writeSnapshotFile(entries []*entry[T], meta *snapMeta) (bad, err error) {
	sn := c.snap
	dir, base := filepath.Split(sn.path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+tempInfix+"*") // mode 0600
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	enc := newSnapEncoder(f)
	var failed int
	for _, e := range entries {
		b, merr := sn.marshal(e.Value.value)
		if merr != nil {
			if failed == 0 {
				bad = errors.Errorf("object %q: %w", e.Key(), merr)
			}
			failed++
			continue
		}
		enc.add(e.Key(), c.wallClock(e.Value.loadedAt), b)
	}
	if failed > 0 {
		meta.complete = false
		bad = errors.Errorf("%d of %d objects: %w", failed, len(entries), bad)
	}
	meta.written = time.Now().UnixNano()
	if err = enc.finish(*meta); err != nil {
		return nil, err
	}
	if err = f.Sync(); err != nil {
		return nil, err
	}
	if err = f.Close(); err != nil {
		return nil, err
	}
	if sn.beforeRename != nil {
		sn.beforeRename(tmp)
	}
	if err = os.Rename(tmp, sn.path); err != nil {
		return nil, err
	}
	if runtime.GOOS == "windows" {
		return bad, nil // a directory cannot be opened there to be synced
	}
	// The rename is durable once the directory is.
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, errors.Errorf("sync of directory %s: %w", dir, err)
	}
	return bad, nil
}

// closeSnapshot writes the last snapshot, if the cache changed since the last one, and
// stops the writes. Close calls it once every goroutine of the cache has returned.
func (c *Cache[T]) closeSnapshot() error {
	sn := c.snap
	sn.mu.Lock()
	defer sn.mu.Unlock()
	err := c.writeSnapshotLocked(false)
	sn.closed = true
	if err != nil {
		sn.failures.Add(1)
	}
	return err
}
