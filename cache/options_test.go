package cache_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

func TestParseOptionsAcceptsAsteriskOptions(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cache.Options
	}{
		// Asterisk's open_with_valid_options.
		{"", cache.Options{}},
		{"maximum_objects=10", cache.Options{MaxObjects: 10}},
		{"object_lifetime_maximum=60", cache.Options{LifetimeMaximum: 60 * time.Second}},
		{"object_lifetime_stale=90", cache.Options{LifetimeStale: 90 * time.Second}},
		// The whole set, as in sorcery.conf.
		{
			"name=x,maximum_objects=10,object_lifetime_maximum=60,object_lifetime_stale=30,expire_on_reload=yes,full_backend_cache=no",
			cache.Options{Name: "x", MaxObjects: 10, LifetimeMaximum: time.Minute, LifetimeStale: 30 * time.Second, ExpireOnReload: true},
		},
		{"maximum_objects=0", cache.Options{}},
		{"full_backend_cache=yes", cache.Options{FullBackend: true}},
		{"MAXIMUM_OBJECTS=3", cache.Options{MaxObjects: 3}},
		{" name = spaced , maximum_objects = 4 ", cache.Options{Name: "spaced", MaxObjects: 4}},
		// gosorcery's own options: seconds, or Go durations.
		{
			"stale_if_error=3600,error_recheck=30,negative_lifetime=10,refresh_timeout=5,refresh_workers=2",
			cache.Options{StaleIfError: time.Hour, ErrorRecheck: 30 * time.Second, NegativeLifetime: 10 * time.Second, RefreshTimeout: 5 * time.Second, RefreshWorkers: 2},
		},
		{"refresh_timeout=1500ms,error_recheck=1m30s", cache.Options{RefreshTimeout: 1500 * time.Millisecond, ErrorRecheck: 90 * time.Second}},
		{"snapshot_file=/var/lib/sip/endpoint.snap", cache.Options{Snapshot: &cache.SnapshotOptions{Path: "/var/lib/sip/endpoint.snap"}}},
		{
			"snapshot_interval=30,snapshot_file=endpoint.snap",
			cache.Options{Snapshot: &cache.SnapshotOptions{Path: "endpoint.snap", Interval: 30 * time.Second}},
		},
		{"snapshot_file=a.snap,snapshot_interval=2m", cache.Options{Snapshot: &cache.SnapshotOptions{Path: "a.snap", Interval: 2 * time.Minute}}},
	} {
		got, err := cache.ParseOptions(tc.in)
		require.NoError(t, err, "ParseOptions(%q)", tc.in)
		assert.Equal(t, tc.want, *got, "ParseOptions(%q)", tc.in)
	}
}

func TestParseOptionsTakesAsteriskTruthValues(t *testing.T) {
	for _, v := range []string{"yes", "YES", "true", "on", "y", "t", "1"} {
		o, err := cache.ParseOptions("expire_on_reload=" + v)
		require.NoError(t, err, v)
		assert.True(t, o.ExpireOnReload, "expire_on_reload=%s", v)
	}
	for _, v := range []string{"no", "No", "false", "off", "n", "f", "0"} {
		o, err := cache.ParseOptions("expire_on_reload=yes,expire_on_reload=" + v)
		require.NoError(t, err, v)
		assert.False(t, o.ExpireOnReload, "expire_on_reload=%s", v)
	}
}

func TestParseOptionsRejectsInvalidOptionsNamingThem(t *testing.T) {
	for _, tc := range []struct{ in, option string }{
		// Asterisk's open_with_invalid_options.
		{"name=", `"name"`},
		{"maximum_objects=-1", `"maximum_objects"`},
		{"maximum_objects=toast", `"maximum_objects"`},
		{"object_lifetime_maximum=-1", `"object_lifetime_maximum"`},
		{"object_lifetime_maximum=toast", `"object_lifetime_maximum"`},
		{"object_lifetime_stale=-1", `"object_lifetime_stale"`},
		{"object_lifetime_stale=toast", `"object_lifetime_stale"`},
		{"tacos", `"tacos"`},
		// More of the same kind.
		{"maximum_objects=", `"maximum_objects"`},
		{"maximum_objects=1.5", `"maximum_objects"`},
		{"maximum_objects=99999999999", `"maximum_objects"`},
		{"object_lifetime_stale=1m", `"object_lifetime_stale"`},
		{"object_lifetime_maximum=99999999999999999999", `"object_lifetime_maximum"`},
		{"expire_on_reload=maybe", `"expire_on_reload"`},
		{"full_backend_cache=", `"full_backend_cache"`},
		{"stale_if_error=-5s", `"stale_if_error"`},
		{"error_recheck=soon", `"error_recheck"`},
		{"negative_lifetime=-1", `"negative_lifetime"`},
		{"refresh_workers=-2", `"refresh_workers"`},
		{"refresh_timeout=", `"refresh_timeout"`},
		{"maximum_objects=10,bogus=1", `"bogus"`},
		{"name=a,,maximum_objects=1", `empty option`},
		{"maximum_objects=1,", `empty option`},
		{"snapshot_file=", `"snapshot_file"`},
		{"snapshot_interval=60", `"snapshot_interval"`},
		{"snapshot_file=a.snap,snapshot_interval=-1s", `"snapshot_interval"`},
	} {
		_, err := cache.ParseOptions(tc.in)
		require.Error(t, err, "ParseOptions(%q)", tc.in)
		assert.ErrorIs(t, err, errors.ErrInvalid, "ParseOptions(%q)", tc.in)
		assert.True(t, strings.HasPrefix(err.Error(), "sorcery: cache option"), "ParseOptions(%q): %q", tc.in, err)
		assert.Contains(t, err.Error(), tc.option, "ParseOptions(%q)", tc.in)
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	load := func(ctx context.Context, id string) (int, bool, error) { return 0, false, nil }
	loadAll := func(ctx context.Context) ([]cache.Entry[int], error) { return nil, nil }
	for _, tc := range []struct {
		name string
		opts *cache.Options
		full bool
	}{
		{"negative maximum", &cache.Options{MaxObjects: -1}, false},
		{"negative lifetime", &cache.Options{LifetimeStale: -time.Second}, false},
		{"negative workers", &cache.Options{RefreshWorkers: -1}, false},
		{"negative timeout", &cache.Options{RefreshTimeout: -1}, false},
		{"full backend without a whole-set loader", &cache.Options{FullBackend: true}, false},
		{"full backend with a maximum", &cache.Options{FullBackend: true, MaxObjects: 5}, true},
	} {
		var err error
		if tc.full {
			_, err = cache.NewFull(load, loadAll, tc.opts)
		} else {
			_, err = cache.New(load, tc.opts)
		}
		assert.ErrorIs(t, err, errors.ErrInvalid, tc.name)
	}
	_, err := cache.New[int](nil, nil)
	assert.ErrorIs(t, err, errors.ErrInvalid, "nil LoadFunc")
}

func TestNewAppliesDocumentedDefaults(t *testing.T) {
	c, err := cache.New(func(ctx context.Context, id string) (int, bool, error) { return 0, false, nil }, nil)
	require.NoError(t, err)
	defer c.Close()
	o := c.Options()
	assert.Equal(t, cache.DefaultRefreshTimeout, o.RefreshTimeout)
	assert.Equal(t, cache.DefaultRefreshWorkers, o.RefreshWorkers)
}
