package sorceryprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gosorcery/gosorcery/sorcery"
)

// Options configures a collector. The zero value adds no labels.
type Options struct {
	// ConstLabels are added to every metric, for instance to tell several Sorcery instances
	// of one process apart. Nil adds none.
	ConstLabels prometheus.Labels
}

// Collector exports the stats of one sorcery.Sorcery. It is safe for concurrent scrapes.
type Collector struct {
	s     *sorcery.Sorcery
	descs descs
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector of s's stats. A nil opts means the zero [Options].
func NewCollector(s *sorcery.Sorcery, opts *Options) *Collector {
	var o Options
	if opts != nil {
		o = *opts
	}
	return &Collector{s: s, descs: newDescs(o.ConstLabels)}
}

// Describe sends the descriptors of every metric the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs.all() {
		ch <- d
	}
}

// Collect reads the stats and sends them as metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	for _, ts := range st.Types {
		ch <- prometheus.MustNewConstMetric(c.descs.degraded, prometheus.GaugeValue, boolValue(ts.Degraded), ts.Name)
		for _, ws := range ts.Wizards {
			c.collectWizard(ch, ts.Name, ws)
		}
		for _, cs := range ts.Caches {
			c.collectCache(ch, ts.Name, cs)
		}
	}
}

func (c *Collector) collectWizard(ch chan<- prometheus.Metric, typeName string, ws sorcery.WizardStats) {
	for _, op := range ws.Operations {
		opName := op.Operation.String()
		counts := []struct {
			outcome sorcery.Outcome
			n       uint64
		}{
			{sorcery.OutcomeFound, op.Found}, {sorcery.OutcomeNotFound, op.NotFound},
			{sorcery.OutcomeOK, op.OK}, {sorcery.OutcomeError, op.Errors},
		}
		for _, cnt := range counts {
			if op.Operation == sorcery.OperationRetrieve && cnt.outcome == sorcery.OutcomeOK {
				continue // a retrieval ends found, not found or in error
			}
			if op.Operation != sorcery.OperationRetrieve && (cnt.outcome == sorcery.OutcomeFound || cnt.outcome == sorcery.OutcomeNotFound) {
				continue
			}
			ch <- prometheus.MustNewConstMetric(c.descs.wizardCalls, prometheus.CounterValue, float64(cnt.n),
				typeName, ws.Name, opName, cnt.outcome.String())
		}
		bounds := sorcery.LatencyBuckets()
		buckets := make(map[float64]uint64, len(bounds))
		var cum uint64
		for i, ub := range bounds {
			cum += op.Latency.Buckets[i]
			buckets[ub.Seconds()] = cum
		}
		ch <- prometheus.MustNewConstHistogram(c.descs.wizardDuration, op.Latency.Count, op.Latency.Sum.Seconds(), buckets,
			typeName, ws.Name, opName)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
