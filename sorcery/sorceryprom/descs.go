package sorceryprom

import "github.com/prometheus/client_golang/prometheus"

// descs are the descriptors of every metric. docs/metrics.md lists them for users.
type descs struct {
	degraded       *prometheus.Desc
	wizardCalls    *prometheus.Desc
	wizardDuration *prometheus.Desc

	cacheRequests     *prometheus.Desc
	cacheLoads        *prometheus.Desc
	cacheFullLoads    *prometheus.Desc
	cacheRefreshes    *prometheus.Desc
	cacheExpired      *prometheus.Desc
	cacheEvicted      *prometheus.Desc
	cacheObjects      *prometheus.Desc
	cacheNegative     *prometheus.Desc
	cacheExtended     *prometheus.Desc
	cacheInFlight     *prometheus.Desc
	cacheOldest       *prometheus.Desc
	cacheSinceSuccess *prometheus.Desc
	cacheComplete     *prometheus.Desc

	snapshotWrites   *prometheus.Desc
	snapshotErrors   *prometheus.Desc
	snapshotRestored *prometheus.Desc
	snapshotAge      *prometheus.Desc
}

func newDescs(cl prometheus.Labels) descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("sorcery_"+name, help, labels, cl)
	}
	cache := func(name, help string, labels ...string) *prometheus.Desc {
		return d("cache_"+name, help, append([]string{"type", "cache"}, labels...)...)
	}
	return descs{
		degraded: d("type_degraded",
			"1 when the type's last walk of its wizards met a failure: a cache may be covering for an outage.",
			"type"),
		wizardCalls: d("wizard_calls_total",
			"Calls to a wizard by operation and outcome (found, not_found, ok, error).",
			"type", "wizard", "operation", "outcome"),
		wizardDuration: d("wizard_call_duration_seconds",
			"Time a wizard took to answer, by operation.",
			"type", "wizard", "operation"),

		cacheRequests: cache("requests_total",
			"Cache reads by result: hit, stale_hit (served, refresh started), served_extended (served past a failed refresh), negative_hit (remembered absence), miss (loaded).",
			"result"),
		cacheLoads: cache("loads_total",
			"Per-object loads through the wizards, foreground and background, by outcome: found, not_found, error, degraded (found by a fallback while a preferred wizard failed).",
			"outcome"),
		cacheFullLoads: cache("full_loads_total",
			"Whole-set loads of a full-backend cache or of populate, by outcome: ok, error.",
			"outcome"),
		cacheRefreshes: cache("refreshes_total",
			"Background refreshes by outcome: updated (replaced), removed (the source no longer has it), error_extended (the source failed; the object was kept and its life extended).",
			"outcome"),
		cacheExpired: cache("expired_total",
			"Objects removed at their maximum lifetime, their stale-if-error cap, or by expire."),
		cacheEvicted: cache("evicted_total",
			"Objects evicted to keep the cache within maximum_objects."),
		cacheObjects: cache("objects",
			"Objects in the cache."),
		cacheNegative: cache("negative_objects",
			"Remembered absences in the cache."),
		cacheExtended: cache("extended_objects",
			"Objects served past a failed refresh: non-zero while the cache covers for a failing source."),
		cacheInFlight: cache("refreshes_in_flight",
			"Background refreshes queued or running."),
		cacheOldest: cache("oldest_age_seconds",
			"Age of the oldest object in the cache since its last successful load."),
		cacheSinceSuccess: cache("last_success_age_seconds",
			"Time since the source last answered a load or refresh of this cache without error."),
		cacheComplete: cache("complete",
			"1 when a full-backend cache holds a whole set."),

		snapshotWrites: cache("snapshot_writes_total",
			"Snapshot files written."),
		snapshotErrors: cache("snapshot_errors_total",
			"Snapshot files that could not be read or written, or that left objects out."),
		snapshotRestored: cache("snapshot_restored_objects",
			"Objects restored from the snapshot file when the cache was made."),
		snapshotAge: cache("snapshot_age_seconds",
			"Time since the last snapshot file was written (absent before the first)."),
	}
}

func (d descs) all() []*prometheus.Desc {
	return []*prometheus.Desc{
		d.degraded, d.wizardCalls, d.wizardDuration,
		d.cacheRequests, d.cacheLoads, d.cacheFullLoads, d.cacheRefreshes, d.cacheExpired, d.cacheEvicted,
		d.cacheObjects, d.cacheNegative, d.cacheExtended, d.cacheInFlight, d.cacheOldest,
		d.cacheSinceSuccess, d.cacheComplete,
		d.snapshotWrites, d.snapshotErrors, d.snapshotRestored, d.snapshotAge,
	}
}
