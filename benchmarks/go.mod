module github.com/gosorcery/gosorcery/benchmarks

go 1.25.0

replace github.com/gosorcery/gosorcery => ../

require (
	github.com/gosorcery/gosorcery v0.0.0-00010101000000-000000000000
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/jellydator/ttlcache/v3 v3.4.1
	github.com/maypok86/otter/v2 v2.4.0
	github.com/viccon/sturdyc v1.1.5
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
