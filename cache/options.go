package cache

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astvalue"
)

// Defaults applied by [New] and [NewFull] to zero fields of [Options].
const (
	// DefaultRefreshTimeout bounds one background refresh when Options.RefreshTimeout is 0.
	DefaultRefreshTimeout = 10 * time.Second

	// DefaultRefreshWorkers bounds the background refreshes running at once when
	// Options.RefreshWorkers is 0.
	DefaultRefreshWorkers = 8
)

// Options configures a [Cache]. The zero value (and a nil *Options) is a cache whose entries
// never go stale or expire, with no bound on the number of objects: a plain read-through
// memoizer.
//
// The first six fields are Asterisk's res_sorcery_memory_cache options; the rest are
// gosorcery's own. [ParseOptions] reads both from an Asterisk option string.
type Options struct {
	// Name names the cache in events and statistics (Asterisk: name). Empty is allowed.
	Name string

	// MaxObjects bounds the number of entries, negative entries included (Asterisk:
	// maximum_objects). When a new entry would exceed it, the least recently used entry is
	// evicted. 0 means unbounded.
	MaxObjects int

	// LifetimeMaximum is how long an entry lives after it was loaded (Asterisk:
	// object_lifetime_maximum). At that age it is removed, read or not. A failed refresh
	// pushes it back (see StaleIfError). 0 means entries never expire.
	LifetimeMaximum time.Duration

	// LifetimeStale is the age at which an entry goes stale (Asterisk: object_lifetime_stale).
	// A stale entry is still served at once, and the first read starts one background
	// refresh. 0 means entries never go stale.
	LifetimeStale time.Duration

	// ExpireOnReload asks the owner to call [Cache.ExpireAll] when the object type is
	// reloaded (Asterisk: expire_on_reload). The cache only carries the setting.
	ExpireOnReload bool

	// FullBackend makes the cache hold the whole set of objects, loaded, refreshed and
	// expired as one (Asterisk: full_backend_cache). It needs a whole-set loader: see
	// [NewFull]. It cannot be combined with MaxObjects.
	FullBackend bool

	// StaleIfError caps how long past LifetimeMaximum an entry may be kept alive by failed
	// refreshes: never past its last successful load + LifetimeMaximum + StaleIfError.
	// 0 means no cap: an entry that keeps being read is served for as long as the source
	// keeps failing. It has no effect when LifetimeMaximum is 0.
	StaleIfError time.Duration

	// ErrorRecheck is how long after a failed refresh the entry goes stale again, so the
	// earliest the source is asked again for it. 0 means LifetimeStale.
	ErrorRecheck time.Duration

	// NegativeLifetime is how long a "not found" answer is remembered, so repeated lookups
	// of an unknown id cost the source one call per id per NegativeLifetime. 0 means
	// "not found" is not remembered. Ignored in full-backend mode, where absence is known.
	NegativeLifetime time.Duration

	// RefreshTimeout bounds one background refresh (one id, or the whole set in full-backend
	// mode). 0 means DefaultRefreshTimeout.
	RefreshTimeout time.Duration

	// RefreshWorkers bounds the background refreshes running at once; more wait their turn
	// in a queue. 0 means DefaultRefreshWorkers.
	RefreshWorkers int

	// Snapshot, when not nil, asks the owner to keep the cache's last-known-good objects in
	// a file with package cache/snapshot, as sorcery's AddCache does (snapshot_file,
	// snapshot_interval). The cache only carries the setting, as for ExpireOnReload: a
	// snapshot needs a codec of T, which Options, not generic, cannot hold. Nil means no
	// file.
	Snapshot *SnapshotOptions

	// OnEvent, when not nil, is called for every cache event (hits included) on the
	// goroutine that caused it, never with a lock of the cache held, so it may call the
	// cache. It must be fast and safe for concurrent use. nil means no events (and no
	// clock reading on hits). It is the one sink of the cache's events: a snapshot of the
	// cache (package cache/snapshot) reports its own, EventSnapshotRestored and
	// EventSnapshotError, through it too.
	OnEvent func(Event)

	// EventKinds are the kinds of event OnEvent is called for; empty means every kind. A
	// cache whose OnEvent takes none of the kinds of a read (EventHit, EventStaleHit,
	// EventServedExtended, EventNegativeHit, EventMiss) serves hits as fast as one without
	// OnEvent: no event is made and the clock is not read. So an owner that only logs
	// refresh failures or snapshot trouble does not slow every hit down.
	EventKinds []EventKind
}

// ParseOptions parses an Asterisk memory_cache option string, as written after
// "memory_cache," in sorcery.conf: comma-separated name=value pairs, names without regard
// to case.
//
// Asterisk's options: name, maximum_objects, object_lifetime_maximum and
// object_lifetime_stale (whole seconds: digits only, where Asterisk's sscanf would read
// "1.5" as 1), expire_on_reload and full_backend_cache (Asterisk truth values: yes/no,
// true/false, on/off, y/n, t/f, 1/0).
//
// gosorcery's own: stale_if_error, error_recheck, negative_lifetime and refresh_timeout
// (seconds, fractions allowed, or a Go duration such as "1m30s" or "500ms"), and
// refresh_workers (a whole number). They set the [Options] fields of the same meaning.
// snapshot_file (a path, which cannot contain a comma; relative to the working directory)
// and snapshot_interval (a duration as above; it needs snapshot_file) set
// Options.Snapshot's Path and Interval, for the cache's owner to act on. Values are read by the same rules as the codec's and
// the config wizard's (docs/asterisk.md, "Values").
//
// An empty string gives the zero Options. An empty name=, a negative or non-numeric
// number, a boolean that is not a truth value, an unknown option or a word without "="
// is an error matching [errors.ErrInvalid] whose message names the option. Unlike
// Asterisk, which takes any unrecognised boolean as false, a bad boolean is rejected.
func ParseOptions(s string) (*Options, error) {
	o := &Options{}
	if strings.TrimSpace(s) == "" {
		return o, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		name, value, hasValue := strings.Cut(item, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if name == "" {
			return nil, invalidf("cache options %q: empty option", s)
		}
		if !hasValue {
			return nil, invalidf("cache option %q: not a name=value pair", name)
		}
		var err error
		switch name {
		case "name":
			if value == "" {
				return nil, invalidf("cache option %q: a name is required", name)
			}
			o.Name = value
		case "maximum_objects":
			o.MaxObjects, err = parseCount(name, value)
		case "object_lifetime_maximum":
			o.LifetimeMaximum, err = parseSeconds(name, value)
		case "object_lifetime_stale":
			o.LifetimeStale, err = parseSeconds(name, value)
		case "expire_on_reload":
			o.ExpireOnReload, err = parseTruth(name, value)
		case "full_backend_cache":
			o.FullBackend, err = parseTruth(name, value)
		case "stale_if_error":
			o.StaleIfError, err = parseDuration(name, value)
		case "error_recheck":
			o.ErrorRecheck, err = parseDuration(name, value)
		case "negative_lifetime":
			o.NegativeLifetime, err = parseDuration(name, value)
		case "refresh_timeout":
			o.RefreshTimeout, err = parseDuration(name, value)
		case "refresh_workers":
			o.RefreshWorkers, err = parseCount(name, value)
		case "snapshot_file":
			if value == "" {
				return nil, invalidf("cache option %q: a path is required", name)
			}
			snapshot(o).Path = value
		case "snapshot_interval":
			snapshot(o).Interval, err = parseDuration(name, value)
		default:
			return nil, invalidf("cache option %q: unknown option", name)
		}
		if err != nil {
			return nil, err
		}
	}
	if o.Snapshot != nil && o.Snapshot.Path == "" {
		return nil, invalidf("cache option %q: needs snapshot_file", "snapshot_interval")
	}
	return o, nil
}

// snapshot returns o.Snapshot, made if it was nil.
func snapshot(o *Options) *SnapshotOptions {
	if o.Snapshot == nil {
		o.Snapshot = &SnapshotOptions{}
	}
	return o.Snapshot
}

// The values are read by internal/astvalue, the rules every Asterisk value in the library
// follows; the helpers add the option's name.

func parseCount(name, value string) (int, error) {
	n, err := astvalue.Count(value)
	return n, optionError(name, err)
}

func parseSeconds(name, value string) (time.Duration, error) {
	d, err := astvalue.Seconds(value)
	return d, optionError(name, err)
}

func parseDuration(name, value string) (time.Duration, error) {
	d, err := astvalue.Duration(value)
	if err == nil && d < 0 {
		return 0, invalidf("cache option %q: negative duration", name)
	}
	return d, optionError(name, err)
}

func parseTruth(name, value string) (bool, error) {
	b, err := astvalue.Bool(value)
	return b, optionError(name, err)
}

func optionError(name string, err error) error {
	if err == nil {
		return nil
	}
	return invalidf("cache option %q: %v", name, err)
}

// validate checks what ParseOptions cannot: Options built in Go.
func (o *Options) validate() error {
	switch {
	case o.MaxObjects < 0:
		return invalidf("cache %q: MaxObjects %d is negative", o.Name, o.MaxObjects)
	case o.RefreshWorkers < 0:
		return invalidf("cache %q: RefreshWorkers %d is negative", o.Name, o.RefreshWorkers)
	case o.LifetimeMaximum < 0, o.LifetimeStale < 0, o.StaleIfError < 0, o.ErrorRecheck < 0,
		o.NegativeLifetime < 0, o.RefreshTimeout < 0:
		return invalidf("cache %q: negative duration", o.Name)
	case o.FullBackend && o.MaxObjects > 0:
		return invalidf("cache %q: full_backend_cache cannot be combined with maximum_objects", o.Name)
	case o.Snapshot != nil && o.Snapshot.Path == "":
		return invalidf("cache %q: snapshot: no file", o.Name)
	case o.Snapshot != nil && o.Snapshot.Interval < 0:
		return invalidf("cache %q: snapshot: negative interval", o.Name)
	}
	for _, k := range o.EventKinds {
		if k < EventHit || int(k) >= len(eventNames) {
			return invalidf("cache %q: EventKinds: unknown kind %d", o.Name, k)
		}
	}
	return nil
}

// Takes reports whether OnEvent is set and is called for events of kind k (EventKinds).
// A companion that reports through a cache's OnEvent, as package cache/snapshot does,
// asks it of the cache's Options before it calls OnEvent.
func (o *Options) Takes(k EventKind) bool {
	return o.OnEvent != nil && (len(o.EventKinds) == 0 || slices.Contains(o.EventKinds, k))
}

// eventMask returns the set of kinds, as bits, that OnEvent takes.
func (o *Options) eventMask() uint32 {
	if o.OnEvent == nil {
		return 0
	}
	if len(o.EventKinds) == 0 {
		return ^uint32(0)
	}
	var m uint32
	for _, k := range o.EventKinds {
		m |= 1 << k
	}
	return m
}

// readEvents are the kinds of event a Get emits, one per Get.
const readEvents = 1<<EventHit | 1<<EventStaleHit | 1<<EventServedExtended | 1<<EventNegativeHit | 1<<EventMiss

// SnapshotOptions is where and how often the owner of a cache keeps its snapshot (see
// Options.Snapshot): the settings of sorcery.conf's snapshot_file and snapshot_interval.
// The cache checks that Path is set and Interval not negative; package cache/snapshot does
// the rest (docs/snapshot.md).
type SnapshotOptions struct {
	// Path is the snapshot file. Required.
	Path string

	// Interval is how often the snapshot is written, when the cache changed since the last
	// write. 0 means the default of package cache/snapshot (a minute).
	Interval time.Duration
}

// invalidError is a configuration error: its message says what is wrong, and it matches
// errors.ErrInvalid without repeating that sentinel's text.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return "sorcery: " + e.msg }

// Detail is Error without the library's name (see errors.Detailer).
func (e *invalidError) Detail() string { return e.msg }

func (e *invalidError) Unwrap() error { return errors.ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}
