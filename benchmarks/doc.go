// Package benchmarks measures gosorcery's cache against peer Go caches on one workload,
// side by side in one run. It is a separate module so that the library's own go.mod
// stays lean: none of the peers is a dependency of gosorcery.
//
//	cd benchmarks && go test -run '^$' -bench . -benchmem -cpu 1,2 -count 6 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest new.txt
//
// See docs/benchmarks.md for the results and the machine they were taken on.
package benchmarks
