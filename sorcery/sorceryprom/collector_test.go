package sorceryprom_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorceryprom"
)

type Aor struct {
	ID          string `sorcery:"id"`
	MaxContacts int    `sorcery:"max_contacts"`
}

func newSorcery(t testing.TB) (*sorcery.Sorcery, *sorcery.Type[Aor], *memory.Wizard) {
	s := sorcery.New(&sorcery.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	aors, err := sorcery.Register[Aor](s, "aor", nil)
	require.NoError(t, err)
	require.NoError(t, aors.AddCache(&cache.Options{Name: "aors", LifetimeStale: 60 * time.Second, LifetimeMaximum: time.Hour}))
	src := memory.New()
	require.NoError(t, aors.AddWizard("provisioning", src, nil))
	return s, aors, src
}

func TestCollectorShowsAnOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, aors, src := newSorcery(t)
		defer s.Close()
		reg := prometheus.NewPedanticRegistry()
		require.NoError(t, reg.Register(sorceryprom.NewCollector(s, nil)))
		ctx := t.Context()
		src.Put(sorcery.Record{ID: "alice"}, sorcery.Record{ID: "bob"})

		// Before the outage: two objects loaded, one unknown id.
		for _, id := range []string{"alice", "bob", "alice", "ghost"} {
			aors.Retrieve(ctx, id)
		}
		require.NoError(t, testutil.CollectAndCompare(reg, strings.NewReader(`
# HELP sorcery_type_degraded 1 when the type's last walk of its wizards met a failure: a cache may be covering for an outage.
# TYPE sorcery_type_degraded gauge
sorcery_type_degraded{type="aor"} 0
# HELP sorcery_cache_extended_objects Objects served past a failed refresh: non-zero while the cache covers for a failing source.
# TYPE sorcery_cache_extended_objects gauge
sorcery_cache_extended_objects{cache="aors",type="aor"} 0
`), "sorcery_type_degraded", "sorcery_cache_extended_objects"))

		// The source fails; a minute later the objects are stale.
		src.SetError(errors.ErrUnavailable)
		time.Sleep(61 * time.Second)
		aors.Retrieve(ctx, "alice") // served stale; its refresh fails and extends it
		synctest.Wait()
		aors.Retrieve(ctx, "alice") // served past the failed refresh
		aors.Retrieve(ctx, "carol") // not cached: the failure shows
		time.Sleep(9 * time.Second)

		require.NoError(t, testutil.CollectAndCompare(reg, strings.NewReader(`
# HELP sorcery_type_degraded 1 when the type's last walk of its wizards met a failure: a cache may be covering for an outage.
# TYPE sorcery_type_degraded gauge
sorcery_type_degraded{type="aor"} 1
# HELP sorcery_wizard_calls_total Calls to a wizard by operation and outcome (found, not_found, ok, error).
# TYPE sorcery_wizard_calls_total counter
sorcery_wizard_calls_total{operation="retrieve",outcome="error",type="aor",wizard="provisioning"} 2
sorcery_wizard_calls_total{operation="retrieve",outcome="found",type="aor",wizard="provisioning"} 2
sorcery_wizard_calls_total{operation="retrieve",outcome="not_found",type="aor",wizard="provisioning"} 1
# HELP sorcery_cache_requests_total Cache reads by result: hit, stale_hit (served, refresh started), served_extended (served past a failed refresh), negative_hit (remembered absence), miss (loaded).
# TYPE sorcery_cache_requests_total counter
sorcery_cache_requests_total{cache="aors",result="hit",type="aor"} 1
sorcery_cache_requests_total{cache="aors",result="miss",type="aor"} 4
sorcery_cache_requests_total{cache="aors",result="negative_hit",type="aor"} 0
sorcery_cache_requests_total{cache="aors",result="served_extended",type="aor"} 1
sorcery_cache_requests_total{cache="aors",result="stale_hit",type="aor"} 1
# HELP sorcery_cache_refreshes_total Background refreshes by outcome: updated (replaced), removed (the source no longer has it), error_extended (the source failed; the object was kept and its life extended).
# TYPE sorcery_cache_refreshes_total counter
sorcery_cache_refreshes_total{cache="aors",outcome="error_extended",type="aor"} 1
sorcery_cache_refreshes_total{cache="aors",outcome="removed",type="aor"} 0
sorcery_cache_refreshes_total{cache="aors",outcome="updated",type="aor"} 0
# HELP sorcery_cache_extended_objects Objects served past a failed refresh: non-zero while the cache covers for a failing source.
# TYPE sorcery_cache_extended_objects gauge
sorcery_cache_extended_objects{cache="aors",type="aor"} 1
# HELP sorcery_cache_objects Objects in the cache.
# TYPE sorcery_cache_objects gauge
sorcery_cache_objects{cache="aors",type="aor"} 2
# HELP sorcery_cache_oldest_age_seconds Age of the oldest object in the cache since its last successful load.
# TYPE sorcery_cache_oldest_age_seconds gauge
sorcery_cache_oldest_age_seconds{cache="aors",type="aor"} 70
# HELP sorcery_cache_last_success_age_seconds Time since the source last answered a load or refresh of this cache without error.
# TYPE sorcery_cache_last_success_age_seconds gauge
sorcery_cache_last_success_age_seconds{cache="aors",type="aor"} 70
`), "sorcery_type_degraded", "sorcery_wizard_calls_total", "sorcery_cache_requests_total",
			"sorcery_cache_refreshes_total", "sorcery_cache_extended_objects", "sorcery_cache_objects",
			"sorcery_cache_oldest_age_seconds", "sorcery_cache_last_success_age_seconds"))

		// The source comes back: the next refresh clears the extension and the degraded flag.
		src.SetError(nil)
		time.Sleep(time.Minute)
		aors.Retrieve(ctx, "alice")
		synctest.Wait()
		require.NoError(t, testutil.CollectAndCompare(reg, strings.NewReader(`
# HELP sorcery_type_degraded 1 when the type's last walk of its wizards met a failure: a cache may be covering for an outage.
# TYPE sorcery_type_degraded gauge
sorcery_type_degraded{type="aor"} 0
# HELP sorcery_cache_extended_objects Objects served past a failed refresh: non-zero while the cache covers for a failing source.
# TYPE sorcery_cache_extended_objects gauge
sorcery_cache_extended_objects{cache="aors",type="aor"} 0
# HELP sorcery_cache_refreshes_total Background refreshes by outcome: updated (replaced), removed (the source no longer has it), error_extended (the source failed; the object was kept and its life extended).
# TYPE sorcery_cache_refreshes_total counter
sorcery_cache_refreshes_total{cache="aors",outcome="error_extended",type="aor"} 1
sorcery_cache_refreshes_total{cache="aors",outcome="removed",type="aor"} 0
sorcery_cache_refreshes_total{cache="aors",outcome="updated",type="aor"} 1
`), "sorcery_type_degraded", "sorcery_cache_extended_objects", "sorcery_cache_refreshes_total"))
	})
}

func TestCollectorLintsClean(t *testing.T) {
	s, aors, src := newSorcery(t)
	defer s.Close()
	src.Put(sorcery.Record{ID: "alice"})
	aors.Retrieve(t.Context(), "alice")
	problems, err := testutil.CollectAndLint(sorceryprom.NewCollector(s, &sorceryprom.Options{ConstLabels: prometheus.Labels{"instance_role": "edge"}}))
	require.NoError(t, err)
	assert.Empty(t, problems)
	n := testutil.CollectAndCount(sorceryprom.NewCollector(s, nil))
	assert.Greater(t, n, 20)
}

func TestCollectorNeverLabelsObjectIDs(t *testing.T) {
	s, aors, src := newSorcery(t)
	defer s.Close()
	src.Put(sorcery.Record{ID: "secret-user-id"})
	aors.Retrieve(t.Context(), "secret-user-id")
	aors.Retrieve(t.Context(), "another-id")
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(sorceryprom.NewCollector(s, nil)))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotContains(t, l.GetValue(), "-id", "metric %s label %s", mf.GetName(), l.GetName())
				assert.Contains(t, []string{"type", "wizard", "cache", "operation", "outcome", "result"}, l.GetName())
			}
		}
	}
}

func TestCollectorExportsSnapshotCounters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := sorcery.New(&sorcery.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		aors, err := sorcery.Register[Aor](s, "aor", nil)
		require.NoError(t, err)
		require.NoError(t, aors.AddCache(&cache.Options{Name: "aors", Snapshot: &cache.SnapshotOptions{Path: dir + "/aors.snap"}}))
		src := memory.New()
		require.NoError(t, aors.AddWizard("provisioning", src, nil))
		src.Put(sorcery.Record{ID: "alice"})
		_, _, err = aors.Retrieve(t.Context(), "alice")
		require.NoError(t, err)
		require.NoError(t, aors.Snapshot().Write(t.Context()))
		time.Sleep(30 * time.Second)
		reg := prometheus.NewPedanticRegistry()
		require.NoError(t, reg.Register(sorceryprom.NewCollector(s, nil)))
		require.NoError(t, testutil.CollectAndCompare(reg, strings.NewReader(`
# HELP sorcery_cache_snapshot_writes_total Snapshot files written.
# TYPE sorcery_cache_snapshot_writes_total counter
sorcery_cache_snapshot_writes_total{cache="aors",type="aor"} 1
# HELP sorcery_cache_snapshot_errors_total Snapshot files that could not be read or written, or that left objects out.
# TYPE sorcery_cache_snapshot_errors_total counter
sorcery_cache_snapshot_errors_total{cache="aors",type="aor"} 0
# HELP sorcery_cache_snapshot_age_seconds Time since the last snapshot file was written (absent before the first).
# TYPE sorcery_cache_snapshot_age_seconds gauge
sorcery_cache_snapshot_age_seconds{cache="aors",type="aor"} 30
`), "sorcery_cache_snapshot_writes_total", "sorcery_cache_snapshot_errors_total", "sorcery_cache_snapshot_age_seconds"))
		require.NoError(t, s.Close())
	})
}
