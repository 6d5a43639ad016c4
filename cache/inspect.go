package cache

import (
	"hash/maphash"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// State is what a cached entry is living on, as [Cache.Inspect] and [Cache.List] report it.
type State uint8

// The states of an entry. An entry is in exactly one; when several would fit, the first
// in this list wins (an extended entry being refreshed is StateExtended, with
// EntryInfo.Refreshing set).
const (
	// StateNegative is a remembered "not found" (see Options.NegativeLifetime).
	StateNegative State = iota + 1
	// StateExtended is an object kept past a failed refresh, or found by a fallback source
	// while a preferred one failed: the cache is covering for an outage of its source.
	StateExtended
	// StateRefreshing is a stale object whose background refresh is queued or running.
	StateRefreshing
	// StateStale is an object past its stale point (or marked stale): the next read serves
	// it and starts its refresh.
	StateStale
	// StateFresh is an object served without asking the source.
	StateFresh
)

var stateNames = [...]string{
	StateNegative:   "negative",
	StateExtended:   "extended",
	StateRefreshing: "refreshing",
	StateStale:      "stale",
	StateFresh:      "fresh",
}

// String returns the state's name: "negative", "extended", "refreshing", "stale" or "fresh".
func (s State) String() string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// ParseState returns the State named s, as String writes it. It is an error matching
// [errors.ErrInvalid] to name no state.
func ParseState(s string) (State, error) {
	for st, name := range stateNames {
		if name != "" && name == s {
			return State(st), nil
		}
	}
	return 0, errors.Errorf("unknown cache entry state %q (want negative, extended, refreshing, stale or fresh): %w", s, errors.ErrInvalid)
}

// EntryInfo describes one cached entry: its id and its clocks, never its value.
type EntryInfo struct {
	ID    string
	State State
	// Refreshing reports that a background refresh of the entry (of the whole set, in
	// full-backend mode) is queued or running.
	Refreshing bool
	// LoadedAt is the time of the entry's last successful load; Age is the time since.
	LoadedAt time.Time
	Age      time.Duration
	// StaleAt is when the entry goes stale, or, once stale or extended, when it is due for
	// its next refresh (the next attempt of an extended entry, see Options.ErrorRecheck).
	// Zero means never.
	StaleAt time.Time
	// ExpiresAt is when the entry is removed unless a refresh renews it first. Zero means
	// never.
	ExpiresAt time.Time
	// ExtendedSince is when the entry began to live on an extension: its first failed
	// refresh, or its degraded load. Zero unless State is StateExtended.
	ExtendedSince time.Time
}

// Inspect returns the state of id's entry without loading it, counting it or changing its
// recency, and false when id is not cached. Negative entries are reported (as
// StateNegative).
func (c *Cache[T]) Inspect(id string) (EntryInfo, bool) {
	h := maphash.String(c.seed, id)
	fs, shards := c.setClocks()
	s := &shards[h>>c.shardShift]
	s.mu.Lock()
	defer s.mu.Unlock()
	_, e := s.lookup(h, id)
	if e == nil {
		return EntryInfo{}, false
	}
	return c.info(e, c.now(), fs), true
}

// ListOptions selects a page of [Cache.List].
type ListOptions struct {
	// Cursor continues the listing where the page that returned it as Next ended. Empty
	// starts from the beginning.
	Cursor string
	// Limit is the most entries a page holds; zero means DefaultListLimit. A page ends on a
	// bucket of the cache's table, so it may hold a few entries more than Limit when
	// several ids hash alike.
	Limit int
	// State, when not zero, lists only the entries in that state.
	State State
}

// DefaultListLimit is the page size of [Cache.List] when ListOptions.Limit is zero.
const DefaultListLimit = 100

// EntryPage is one page of [Cache.List].
type EntryPage struct {
	Entries []EntryInfo // sorted by id within the page
	// Next is the cursor of the next page; empty when the listing is complete.
	Next string
}

// List returns a page of the cache's entries (Asterisk's "sorcery memory cache dump"),
// without their values. A page costs time and memory in proportion to Limit, whatever the
// size of the cache: it walks a bounded number of the table's buckets, so a filtered page
// may hold fewer entries than Limit, even none, before the end; keep calling with Next
// until it is empty.
//
// The listing follows the cache's hash table in reverse-binary bucket order (the cursor of
// Redis's SCAN), which survives the table's growth between pages: an id cached for the
// whole listing is returned exactly once; one added or removed meanwhile may or may not
// be. In full-backend mode a whole load between two pages replaces the set: the listing
// goes on over the new one. It is an error matching [errors.ErrInvalid] to pass a malformed cursor (or one of
// another cache) or a negative limit.
func (c *Cache[T]) List(opts *ListOptions) (EntryPage, error) {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	if o.Limit < 0 {
		return EntryPage{}, errors.Errorf("cache %q: list: negative limit %d: %w", c.name, o.Limit, errors.ErrInvalid)
	}
	if o.Limit == 0 {
		o.Limit = DefaultListLimit
	}
	shard, v, err := c.parseCursor(o.Cursor)
	if err != nil {
		return EntryPage{}, err
	}
	// The bound on the work of one page: the buckets it may visit, and so (with chains
	// of about one entry per two buckets) the entries it looks at.
	budget := 4*o.Limit + 64
	var page EntryPage
	fs, shards := c.setClocks()
	now := c.now()
	for shard < len(shards) && len(page.Entries) < o.Limit && budget > 0 {
		s := &shards[shard]
		s.mu.Lock()
		if s.table.Len() == 0 {
			v = 0 // nothing to walk: an empty shard costs no budget
		} else {
			mask := s.table.Mask()
			for {
				budget--
				for e := range s.table.Bucket(v) {
					info := c.info(e, now, fs)
					if o.State == 0 || info.State == o.State {
						page.Entries = append(page.Entries, info)
					}
				}
				v = nextBucket(v, mask)
				if v == 0 || len(page.Entries) >= o.Limit || budget == 0 {
					break
				}
			}
		}
		s.mu.Unlock()
		if v == 0 {
			shard++
		}
	}
	if shard < len(shards) {
		page.Next = strconv.Itoa(shard) + "." + strconv.FormatUint(v, 16)
	}
	slices.SortFunc(page.Entries, func(a, b EntryInfo) int { return strings.Compare(a.ID, b.ID) })
	return page, nil
}

// nextBucket advances a reverse-binary cursor over a table of mask+1 buckets: it
// increments the cursor's bits from the top, so that the buckets already visited map, in a
// larger table, to the buckets already visited there. It returns 0 after the last bucket.
func nextBucket(v, mask uint64) uint64 {
	v |= ^mask
	v = bits.Reverse64(v)
	v++
	return bits.Reverse64(v)
}

func (c *Cache[T]) parseCursor(cursor string) (shard int, v uint64, err error) {
	if cursor == "" {
		return 0, 0, nil
	}
	bad := func() (int, uint64, error) {
		return 0, 0, errors.Errorf("cache %q: list: malformed cursor %q (pass the Next of a page of this cache): %w", c.name, cursor, errors.ErrInvalid)
	}
	a, b, ok := strings.Cut(cursor, ".")
	if !ok {
		return bad()
	}
	shard, err = strconv.Atoi(a)
	if err != nil || shard < 0 || shard >= len(c.shards) || strconv.Itoa(shard) != a {
		return bad()
	}
	v, err = strconv.ParseUint(b, 16, 64)
	if err != nil {
		return bad()
	}
	return shard, v, nil
}

// setTimes are the clocks of a full-backend cache's whole set, read once per call.
type setTimes struct {
	full                                  bool
	loadedAt, staleAt, expireAt, extSince int64
	stale, extended, refreshing           bool
}

// setClocks returns the shards that hold the entries (in full-backend mode, those of the
// current generation of the set) and the set's clocks (nothing without full-backend mode).
func (c *Cache[T]) setClocks() (setTimes, []shard[T]) {
	f := c.full
	if f == nil {
		return setTimes{}, c.shards
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.cur.Load()
	return setTimes{
		full: g.complete, loadedAt: g.loadedAt, staleAt: g.staleAt, expireAt: g.expireAt, extSince: g.extendedAt,
		stale: g.stale.Load(), extended: g.extended.Load(), refreshing: f.refreshing.Load(),
	}, g.shards
}

// info describes e at now. The caller holds e's shard's mu.
func (c *Cache[T]) info(e *entry[T], now int64, fs setTimes) EntryInfo {
	f := e.Flags()
	staleAt, expireAt, extAt := e.Value.staleAt, e.Value.expireAt, e.Value.extendedAt
	refreshing := f&flagRefreshing != 0
	if fs.full && f&flagNegative == 0 {
		staleAt, expireAt, extAt = fs.staleAt, fs.expireAt, fs.extSince
		refreshing = fs.refreshing
		if fs.extended {
			f |= flagExtended
		}
		if fs.stale {
			f |= flagStale
		}
	}
	info := EntryInfo{
		ID:         e.Key(),
		Refreshing: refreshing,
		LoadedAt:   c.clockTime(e.Value.loadedAt),
		Age:        time.Duration(now - e.Value.loadedAt),
		StaleAt:    c.clockTime(staleAt),
		ExpiresAt:  c.clockTime(expireAt),
	}
	switch {
	case f&flagNegative != 0:
		info.State = StateNegative
		info.StaleAt = time.Time{}
	case f&flagExtended != 0:
		info.State = StateExtended
		info.ExtendedSince = c.clockTime(extAt)
	case refreshing:
		info.State = StateRefreshing
	case f&flagStale != 0:
		info.State = StateStale
	default:
		info.State = StateFresh
	}
	return info
}

// clockTime converts a reading of the cache's clock to a time; never is the zero time.
func (c *Cache[T]) clockTime(t int64) time.Time {
	if t == never {
		return time.Time{}
	}
	return c.base.Add(time.Duration(t))
}
