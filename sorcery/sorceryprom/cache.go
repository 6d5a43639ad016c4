package sorceryprom

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gosorcery/gosorcery/sorcery"
)

func (c *Collector) collectCache(ch chan<- prometheus.Metric, typeName string, cs sorcery.CacheStats) {
	d := &c.descs
	counter := func(desc *prometheus.Desc, n uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(n), append([]string{typeName, cs.Name}, labels...)...)
	}
	gauge := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, typeName, cs.Name)
	}
	counter(d.cacheRequests, cs.Hits, "hit")
	counter(d.cacheRequests, cs.StaleHits, "stale_hit")
	counter(d.cacheRequests, cs.ServedExtended, "served_extended")
	counter(d.cacheRequests, cs.NegativeHits, "negative_hit")
	counter(d.cacheRequests, cs.Misses, "miss")
	counter(d.cacheLoads, cs.Loads.Found, "found")
	counter(d.cacheLoads, cs.Loads.NotFound, "not_found")
	counter(d.cacheLoads, cs.Loads.Errors, "error")
	counter(d.cacheLoads, cs.Loads.Degraded, "degraded")
	counter(d.cacheFullLoads, cs.FullLoads.Found, "ok")
	counter(d.cacheFullLoads, cs.FullLoads.Errors, "error")
	counter(d.cacheRefreshes, cs.RefreshUpdated, "updated")
	counter(d.cacheRefreshes, cs.RefreshRemoved, "removed")
	counter(d.cacheRefreshes, cs.RefreshErrors, "error_extended")
	counter(d.cacheExpired, cs.Expired)
	counter(d.cacheEvicted, cs.Evicted)
	gauge(d.cacheObjects, float64(cs.Objects))
	gauge(d.cacheNegative, float64(cs.NegativeObjects))
	gauge(d.cacheExtended, float64(cs.Extended))
	gauge(d.cacheInFlight, float64(cs.RefreshesInFlight))
	gauge(d.cacheOldest, cs.OldestAge.Seconds())
	gauge(d.cacheComplete, boolValue(cs.Complete))
	if !cs.LastSuccess.IsZero() {
		gauge(d.cacheSinceSuccess, time.Since(cs.LastSuccess).Seconds())
	}
	counter(d.snapshotWrites, cs.SnapshotWrites)
	counter(d.snapshotErrors, cs.SnapshotErrors)
	gauge(d.snapshotRestored, float64(cs.SnapshotRestored))
	if !cs.LastSnapshot.IsZero() {
		gauge(d.snapshotAge, time.Since(cs.LastSnapshot).Seconds())
	}
}
