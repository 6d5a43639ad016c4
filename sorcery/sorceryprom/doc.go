// Package sorceryprom exports the counters of a sorcery.Sorcery to Prometheus.
//
// [NewCollector] returns a prometheus.Collector that reads [sorcery.Sorcery.Stats] at scrape
// time: nothing is counted twice and nothing is added to the retrieval path. Register it on the
// registry of your choice; this package never touches the global registry:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(sorceryprom.NewCollector(s, nil))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every metric is prefixed sorcery_, counters end in _total, durations are in seconds, and
// labels are bounded: type, wizard, cache, operation, outcome, result. No metric ever carries
// an object id or a secret. docs/metrics.md lists them all.
//
// This is the only package of the module that imports the Prometheus client.
//
// The package is a Go module of its own (go get github.com/gosorcery/gosorcery/sorcery/sorceryprom),
// so that client_golang is in the module graph only of the programs that use it.
package sorceryprom
