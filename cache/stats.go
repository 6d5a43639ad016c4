package cache

import (
	"strconv"
	"sync/atomic"
	"time"
)

// EventKind says what happened in an [Event].
type EventKind uint8

// The kinds of [Event]. Every Get is exactly one of EventHit, EventStaleHit,
// EventServedExtended, EventNegativeHit or EventMiss.
const (
	// EventHit means a Get served a fresh entry.
	EventHit EventKind = iota + 1
	// EventStaleHit means a Get served a stale entry, and started its refresh if none
	// was running.
	EventStaleHit
	// EventServedExtended means a Get served an entry that lives on an extension, past a
	// failed refresh: the cache is covering for an outage of its source.
	EventServedExtended
	// EventNegativeHit means a Get answered "not found" from memory: from a negative entry
	// or from a complete full-backend set.
	EventNegativeHit
	// EventMiss means a Get found nothing usable and loaded, or joined a load.
	EventMiss
	// EventRefreshUpdated means a background refresh found the object and replaced the
	// entry.
	EventRefreshUpdated
	// EventRefreshRemoved means a background refresh learnt that the object no longer
	// exists and removed the entry.
	EventRefreshRemoved
	// EventRefreshError means a background refresh failed (or found the object only
	// degraded); the entry was kept and its life extended. Err is the loader's error.
	EventRefreshError
	// EventExpired means an entry reached its maximum lifetime (or its StaleIfError cap)
	// and was removed, or Expire, ExpireAll or Populate removed it.
	EventExpired
	// EventEvicted means an entry was evicted to keep the cache within MaxObjects.
	EventEvicted
	// EventSnapshotRestored means the cache was restored from its snapshot file (package
	// cache/snapshot, which reports through Options.OnEvent): Objects objects were
	// restored, stale; Age is the age of the file.
	EventSnapshotRestored
	// EventSnapshotError means the snapshot file could not be read or written, or some
	// objects could not be decoded from it or encoded into it; Err says what and where. A
	// file that cannot be read is ignored: the cache goes on without it. Failures of a
	// restore, a write on demand and the last write by the snapshot's Close are returned
	// to their caller instead.
	EventSnapshotError
)

var eventNames = [...]string{
	EventHit:              "hit",
	EventStaleHit:         "stale_hit",
	EventServedExtended:   "served_extended",
	EventNegativeHit:      "negative_hit",
	EventMiss:             "miss",
	EventRefreshUpdated:   "refresh_updated",
	EventRefreshRemoved:   "refresh_removed",
	EventRefreshError:     "refresh_error",
	EventExpired:          "expired",
	EventEvicted:          "evicted",
	EventSnapshotRestored: "snapshot_restored",
	EventSnapshotError:    "snapshot_error",
}

// String returns the kind as a snake_case label, such as "stale_hit", fit for a metric
// label.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event describes one thing that happened in a cache, for hooks and metrics. It is a
// struct so that fields can be added; code that builds or compares Events should name
// the fields.
//
// In full-backend mode, refresh and expiry events concern the whole set and carry an
// empty ID.
type Event struct {
	Kind  EventKind
	Cache string        // the cache's Options.Name
	ID    string        // the object id, empty for whole-set events
	Age   time.Duration // time since the entry's last successful load; 0 for misses
	Err   error         // the loader's error, for EventRefreshError; the failure, for EventSnapshotError
	// Objects is the number of objects restored, for EventSnapshotRestored.
	Objects int
}

// LoadStats counts loader calls by outcome.
type LoadStats struct {
	Found    uint64 // (v, true, nil)
	NotFound uint64 // (zero, false, nil)
	Errors   uint64 // an error and no object
	Degraded uint64 // (v, true, err): found by a fallback source while a preferred one failed
}

// Stats is a snapshot of a cache's counters and gauges, read with atomic loads: cheap
// enough to call at every metrics scrape, except that OldestAge walks the entries.
type Stats struct {
	Name string

	// Every Get is counted in exactly one of these five.
	Hits           uint64 // served fresh
	StaleHits      uint64 // served stale (a refresh was due)
	ServedExtended uint64 // served past a failed refresh
	NegativeHits   uint64 // answered "not found" from memory
	Misses         uint64 // loaded, or joined a load

	Loads     LoadStats // per-id loader calls, foreground and background
	FullLoads LoadStats // whole-set loader calls (Found: success, Errors: failure)

	RefreshUpdated uint64 // background refreshes that replaced an entry
	RefreshRemoved uint64 // background refreshes that removed an entry (source: not found)
	RefreshErrors  uint64 // background refreshes that failed; the entry was kept and extended
	Expired        uint64 // entries removed at their maximum lifetime, or by Expire/ExpireAll
	Evicted        uint64 // entries evicted to respect MaxObjects

	Objects           int           // cached objects
	NegativeObjects   int           // remembered "not found" answers
	Extended          int           // objects living on an extension: the cache covers for an outage
	RefreshesInFlight int           // background refreshes queued or running
	OldestAge         time.Duration // age of the oldest cached object since its last successful load
	LastSuccess       time.Time     // last load or refresh the source answered without error; zero if none
	Complete          bool          // full-backend mode: a whole set is loaded
}

// The counters of Get, striped per goroutine in Cache.hits: every Get counts in one.
const (
	hitFresh = iota
	hitStale
	hitExtended
	hitNegative
	hitMiss
)

// counters are written off the hit path.
type counters struct {
	loads, fullLoads                              loadCounters
	refreshUpdated, refreshRemoved, refreshErrors atomic.Uint64
	expired, evicted                              atomic.Uint64
	lastSuccess                                   atomic.Int64 // clock reading + 1; 0 = never
}

type loadCounters struct {
	found, notFound, errors, degraded atomic.Uint64
}

func (l *loadCounters) snapshot() LoadStats {
	return LoadStats{
		Found:    l.found.Load(),
		NotFound: l.notFound.Load(),
		Errors:   l.errors.Load(),
		Degraded: l.degraded.Load(),
	}
}
