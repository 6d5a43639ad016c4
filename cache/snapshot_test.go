package cache_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// withSnapshot returns o with a snapshot file at path.
func withSnapshot(path string, o cache.Options) *cache.Options {
	o.Snapshot = &cache.SnapshotOptions{Path: path}
	return &o
}

// snapshotOf fills a cache with objs through src, closes it, and returns the snapshot file
// it wrote.
func snapshotOf(t *testing.T, objs map[string]string, o cache.Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := newSource(objs)
	c, err := cache.NewFull(src.load, src.loadAll, withSnapshot(path, o))
	require.NoError(t, err)
	if o.FullBackend {
		_, err := c.All(context.Background())
		require.NoError(t, err)
	} else {
		for id := range objs {
			get(t, c, id)
		}
	}
	require.NoError(t, c.Close())
	return path
}

func TestSnapshotRestoresObjectsStaleWhileTheSourceIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		objs := map[string]string{"alice": "a1", "bob": "b1", "carol": "c1"}
		opts := cache.Options{LifetimeStale: time.Minute, LifetimeMaximum: time.Hour, ErrorRecheck: 10 * time.Second}
		path := snapshotOf(t, objs, opts)

		src := newSource(map[string]string{"alice": "a2", "bob": "b2", "carol": "c2"})
		src.setDown(true)
		rec := &recorder{}
		opts.OnEvent = rec.record
		c := newCache(t, src, withSnapshot(path, opts))
		st := c.Stats()
		assert.Equal(t, 3, st.SnapshotRestored)
		assert.Equal(t, 3, st.Objects)
		require.Len(t, rec.all(), 1)
		assert.Equal(t, cache.EventSnapshotRestored, rec.all()[0].Kind)
		assert.Equal(t, 3, rec.all()[0].Objects)

		for id, want := range objs {
			v, found, err := c.Get(context.Background(), id)
			require.NoError(t, err, "%s while the source is down", id)
			assert.True(t, found, id)
			assert.Equal(t, want, v, "%s is not what the first cache served", id)
		}
		synctest.Wait()
		assert.Equal(t, 1, src.callsFor("alice"), "a restored object was not refreshed on its first read")
		assert.Equal(t, 3, c.Stats().Extended, "failed refreshes of restored objects did not extend them")
		assert.Equal(t, []cache.EventKind{cache.EventStaleHit, cache.EventRefreshError}, rec.kinds("alice"))

		src.setDown(false)
		advance(10 * time.Second) // the recheck point after the failed refresh
		for id := range objs {
			get(t, c, id)
		}
		synctest.Wait()
		for id := range objs {
			v, _ := get(t, c, id)
			assert.Equal(t, id[:1]+"2", v, "the refresh after the source came back did not replace %s", id)
		}
		assert.Equal(t, 0, c.Stats().Extended)
	})
}

func TestSnapshotOfAnEmptyDirectoryStartsEmptyWithoutAReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	rec := &recorder{}
	c := newCache(t, newSource(map[string]string{"alice": "a1"}), withSnapshot(path, cache.Options{OnEvent: rec.record}))
	assert.Equal(t, 0, c.Len())
	assert.Equal(t, uint64(0), c.Stats().SnapshotErrors)
	v, _ := get(t, c, "alice")
	assert.Equal(t, "a1", v)
	assert.Zero(t, rec.count(cache.EventSnapshotError))
}

func TestRestoredObjectsExpireAsAfterAFailedRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Loaded at t=0, written at Close; the StaleIfError cap is at 10m + 1h = 70m.
		opts := cache.Options{LifetimeStale: time.Minute, LifetimeMaximum: 10 * time.Minute, StaleIfError: time.Hour}
		path := snapshotOf(t, map[string]string{"alice": "a1"}, opts)
		snap, err := os.ReadFile(path)
		require.NoError(t, err)

		down := newSource(nil)
		down.setDown(true)

		time.Sleep(20 * time.Minute) // restored at t=20m: expires at 20m + LifetimeMaximum
		c := newCache(t, down, withSnapshot(path, opts))
		advance(10*time.Minute - time.Second)
		_, ok := c.Peek("alice")
		require.True(t, ok, "a restored object expired before LifetimeMaximum after its restore")
		advance(time.Second)
		_, ok = c.Peek("alice")
		assert.False(t, ok, "a restored object that nobody read lived past LifetimeMaximum after its restore")
		require.NoError(t, c.Close())

		require.NoError(t, os.WriteFile(path, snap, 0o600))
		time.Sleep(35 * time.Minute) // restored at t=65m: the cap at 70m comes first
		c = newCache(t, down, withSnapshot(path, opts))
		advance(5*time.Minute - time.Second)
		v, found := get(t, c, "alice")
		require.True(t, found, "a restored object expired before its StaleIfError cap")
		assert.Equal(t, "a1", v)
		advance(time.Second)
		_, ok = c.Peek("alice")
		assert.False(t, ok, "a restored object outlived its StaleIfError cap")
		require.NoError(t, c.Close())

		require.NoError(t, os.WriteFile(path, snap, 0o600))
		time.Sleep(10 * time.Minute) // t=75m: past the cap
		c = newCache(t, down, withSnapshot(path, opts))
		assert.Equal(t, 0, c.Len(), "an object past its StaleIfError cap was restored")
		_, _, err = c.Get(context.Background(), "alice")
		assert.ErrorIs(t, err, errors.ErrUnavailable)
	})
}

func TestUnreadableSnapshotIsReportedAndIgnored(t *testing.T) {
	good, err := os.ReadFile(snapshotOf(t, map[string]string{"alice": "a1", "bob": "b1"}, cache.Options{}))
	require.NoError(t, err)
	withVersion := func(v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b[8:], v)
		return b
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x01

	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"truncated header", good[:10], "truncated"},
		{"truncated body", good[:len(good)-20], "checksum mismatch"},
		{"truncated checksum", good[:len(good)-1], "checksum mismatch"},
		{"byte flipped", flipped, "checksum mismatch"},
		{"older version", withVersion(0), "version 0"},
		{"newer version", withVersion(2), "version 2"},
		{"garbage", []byte("[endpoint]\ncontext=default\n"), "not a snapshot file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "endpoint.snap")
			require.NoError(t, os.WriteFile(path, tc.file, 0o600))
			rec := &recorder{}
			src := newSource(map[string]string{"alice": "a2"})
			c, err := cache.New(src.load, withSnapshot(path, cache.Options{OnEvent: rec.record}))
			require.NoError(t, err, "a bad snapshot must not fail New")
			t.Cleanup(func() { c.Close() })

			st := c.Stats()
			assert.Equal(t, uint64(1), st.SnapshotErrors)
			assert.Equal(t, 0, st.SnapshotRestored)
			assert.Equal(t, 0, c.Len())
			evs := rec.all()
			require.Len(t, evs, 1)
			assert.Equal(t, cache.EventSnapshotError, evs[0].Kind)
			assert.ErrorIs(t, evs[0].Err, errors.ErrInvalid)
			assert.ErrorContains(t, evs[0].Err, tc.want)
			assert.ErrorContains(t, evs[0].Err, path, "the report must say which file")

			v, found := get(t, c, "alice")
			assert.True(t, found, "the cache does not work after ignoring a bad snapshot")
			assert.Equal(t, "a2", v)

			// The bad file is replaced at the next write.
			require.NoError(t, c.Close())
			c, err = cache.New(src.load, withSnapshot(path, cache.Options{OnEvent: rec.record}))
			require.NoError(t, err)
			t.Cleanup(func() { c.Close() })
			assert.Equal(t, uint64(0), c.Stats().SnapshotErrors, "Close did not replace the bad snapshot")
			v, _ = c.Peek("alice")
			assert.Equal(t, "a2", v)
		})
	}
}

func TestSnapshotFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	path := snapshotOf(t, map[string]string{"alice": "secret"}, cache.Options{})
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "objects carry secrets: the snapshot must be readable by its owner only")

	path = filepath.Join(dir, "endpoint.snap")
	c := newCache(t, newSource(map[string]string{"alice": "secret"}), withSnapshot(path, cache.Options{}))
	get(t, c, "alice")
	require.NoError(t, c.Snapshot())
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, des, 1, "a write left a temporary file behind")
}

func TestSnapshotIsWrittenPeriodicallyWhenTheCacheChanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "endpoint.snap")
		src := newSource(map[string]string{"alice": "a1", "bob": "b1"})
		o := withSnapshot(path, cache.Options{})
		o.Snapshot.Interval = 30 * time.Second
		c := newCache(t, src, o)
		assert.Equal(t, 30*time.Second, c.Options().Snapshot.Interval)

		advance(30 * time.Second)
		assert.Equal(t, uint64(0), c.Stats().SnapshotWrites, "an empty cache that never changed was written")
		get(t, c, "alice")
		advance(30 * time.Second)
		st := c.Stats()
		assert.Equal(t, uint64(1), st.SnapshotWrites)
		assert.Equal(t, time.Now(), st.LastSnapshot)
		advance(time.Minute)
		assert.Equal(t, uint64(1), c.Stats().SnapshotWrites, "a cache that did not change was written again")

		get(t, c, "bob")
		advance(30 * time.Second)
		assert.Equal(t, uint64(2), c.Stats().SnapshotWrites)
		require.NoError(t, c.Close())
		assert.Equal(t, uint64(2), c.Stats().SnapshotWrites, "Close wrote a snapshot of a cache that did not change")

		c = newCache(t, src, withSnapshot(path, cache.Options{}))
		assert.Equal(t, 2, c.Len())
		require.NoError(t, c.Close())
		assert.Equal(t, uint64(0), c.Stats().SnapshotWrites, "Close rewrote what it had just restored")
	})
}

func TestSnapshotDefaultsAndOptionsAreChecked(t *testing.T) {
	dir := t.TempDir()
	so := &cache.SnapshotOptions{Path: filepath.Join(dir, "x.snap")}
	c, err := cache.New(loadLen, &cache.Options{Snapshot: so})
	require.NoError(t, err)
	assert.Equal(t, cache.DefaultSnapshotInterval, c.Options().Snapshot.Interval)
	assert.Zero(t, so.Interval, "New changed the caller's options")
	require.NoError(t, c.Close())

	for _, tc := range []struct {
		name string
		so   cache.SnapshotOptions
	}{
		{"no path", cache.SnapshotOptions{}},
		{"no directory", cache.SnapshotOptions{Path: filepath.Join(dir, "missing", "x.snap")}},
		{"negative interval", cache.SnapshotOptions{Path: filepath.Join(dir, "x.snap"), Interval: -time.Second}},
		{"marshal alone", cache.SnapshotOptions{Path: filepath.Join(dir, "x.snap"), Marshal: func(any) ([]byte, error) { return nil, nil }}},
	} {
		_, err := cache.New(loadLen, &cache.Options{Snapshot: &tc.so})
		assert.ErrorIs(t, err, errors.ErrInvalid, tc.name)
	}

	plain, err := cache.New(loadLen, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, plain.Snapshot(), errors.ErrUnsupported)
	require.NoError(t, plain.Close())
	c, err = cache.New(loadLen, &cache.Options{Snapshot: so})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.Snapshot(), errors.ErrClosed)
}

func TestNegativeEntriesAreNotWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := newSource(map[string]string{"alice": "a1"})
	c, err := cache.New(src.load, withSnapshot(path, cache.Options{NegativeLifetime: time.Hour}))
	require.NoError(t, err)
	get(t, c, "alice")
	_, found := get(t, c, "nobody")
	require.False(t, found)
	require.Equal(t, 1, c.Stats().NegativeObjects)
	require.NoError(t, c.Close())

	c = newCache(t, src, withSnapshot(path, cache.Options{NegativeLifetime: time.Hour}))
	st := c.Stats()
	assert.Equal(t, 1, st.SnapshotRestored)
	assert.Equal(t, 0, st.NegativeObjects, "a negative entry was restored")
	get(t, c, "nobody")
	assert.Equal(t, 2, src.callsFor("nobody"), "the restored cache remembered an absence")
}

func TestObjectsThatDoNotEncodeOrDecodeAreLeftOutAndReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := newSource(map[string]string{"alice": "a1", "bob": "b1", "carol": "c1"})
	o := withSnapshot(path, cache.Options{})
	o.Snapshot.Marshal = func(v any) ([]byte, error) {
		if v.(string) == "b1" {
			return nil, fmt.Errorf("cannot encode b1")
		}
		return []byte(v.(string)), nil
	}
	o.Snapshot.Unmarshal = func(b []byte) (any, error) {
		if string(b) == "c1" {
			return nil, fmt.Errorf("cannot decode c1")
		}
		return string(b), nil
	}
	c, err := cache.New(src.load, o)
	require.NoError(t, err)
	for _, id := range []string{"alice", "bob", "carol"} {
		get(t, c, id)
	}
	err = c.Snapshot()
	assert.ErrorContains(t, err, `1 of 3 objects: object "bob": cannot encode b1`)
	require.NoError(t, c.Close(), "a close with nothing changed must not rewrite")

	rec := &recorder{}
	o.OnEvent = rec.record
	c = newCache(t, src, o)
	assert.Equal(t, 1, c.Len())
	_, ok := c.Peek("alice")
	assert.True(t, ok)
	require.Equal(t, 1, rec.count(cache.EventSnapshotError))
	assert.ErrorContains(t, rec.all()[0].Err, `1 of 2 objects not restored: object "carol": cannot decode c1`)

	o.Snapshot.Unmarshal = func(b []byte) (any, error) { return len(b), nil }
	c = newCache(t, src, o)
	assert.Equal(t, 0, c.Len(), "a value of the wrong type was restored")
	assert.Equal(t, uint64(1), c.Stats().SnapshotErrors)
}

func TestFullBackendSnapshotOfACompleteSetIsRestoredComplete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := cache.Options{FullBackend: true, LifetimeStale: time.Minute, LifetimeMaximum: time.Hour, ErrorRecheck: 10 * time.Second}
		path := snapshotOf(t, map[string]string{"alice": "a1", "bob": "b1"}, opts)

		src := newSource(map[string]string{"alice": "a2", "carol": "c2"})
		src.setDown(true)
		c := newCache(t, src, withSnapshot(path, opts))
		st := c.Stats()
		assert.True(t, st.Complete, "a snapshot of a complete set was not restored complete")
		assert.Equal(t, 2, st.SnapshotRestored)
		_, found := get(t, c, "zed")
		assert.False(t, found, "an absent id must be answered from the restored set")
		synctest.Wait() // the set's refresh failed
		all, err := c.All(context.Background())
		require.NoError(t, err)
		assert.Equal(t, []string{"alice", "bob"}, ids(all))
		synctest.Wait()
		assert.Equal(t, 1, src.wholeCalls(), "the restored set was not refreshed on its first read")
		assert.True(t, c.Stats().Complete, "a failed refresh of a restored set dropped it")

		src.setDown(false)
		advance(10 * time.Second)
		get(t, c, "alice")
		synctest.Wait()
		all, err = c.All(context.Background())
		require.NoError(t, err)
		assert.Equal(t, []string{"alice", "carol"}, ids(all))
	})
}

func TestFullBackendSnapshotOfAnIncompleteSetIsNotRestoredComplete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := newSource(map[string]string{"alice": "a1"})
	src.setDown(true)
	opts := cache.Options{FullBackend: true}
	c, err := cache.NewFull(src.load, src.loadAll, withSnapshot(path, opts))
	require.NoError(t, err)
	c.Set("alice", "pushed") // a write through the owner; the set never loaded
	require.NoError(t, c.Close())

	c = newCache(t, src, withSnapshot(path, opts))
	st := c.Stats()
	assert.False(t, st.Complete)
	assert.Equal(t, 1, st.SnapshotRestored)
	v, found := get(t, c, "alice")
	assert.True(t, found)
	assert.Equal(t, "pushed", v)
	_, _, err = c.Get(context.Background(), "bob")
	assert.ErrorIs(t, err, errors.ErrUnavailable, "an incomplete restored set answered for an absent id")
}

func TestSnapshotWritesDoNotDisturbReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := newSource(nil)
	for i := range 1000 {
		src.set(fmt.Sprint("ep", i), "v")
	}
	c := newCache(t, src, withSnapshot(path, cache.Options{LifetimeStale: time.Hour, MaxObjects: 800}))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 2 {
		wg.Go(func() {
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, found, err := c.Get(context.Background(), fmt.Sprint("ep", i%1000))
				if !assert.NoError(t, err) || !assert.True(t, found) {
					return
				}
			}
		})
	}
	for range 20 {
		require.NoError(t, c.Snapshot())
	}
	close(stop)
	wg.Wait()
	require.NoError(t, c.Close())
	c = newCache(t, src, withSnapshot(path, cache.Options{LifetimeStale: time.Hour, MaxObjects: 800}))
	assert.Positive(t, c.Len())
	assert.LessOrEqual(t, c.Len(), 800)
}

func TestCloseStopsTheSnapshotWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "endpoint.snap")
		c, err := cache.New(loadLen, withSnapshot(path, cache.Options{}))
		require.NoError(t, err)
		synctest.Wait()
		assert.NotEmpty(t, cacheGoroutines(t), "the snapshot writer is not running")
		require.NoError(t, c.Close())
		synctest.Wait()
		assert.Empty(t, cacheGoroutines(t), "goroutines left behind by Close")
	})
}

// The crash test runs a child process that writes a snapshot and is killed between the
// write of the temporary file and its rename.
const (
	envCrashChild = "GOSORCERY_TEST_SNAPSHOT_CRASH_CHILD"
	crashMarker   = "renaming "
)

func TestCrashBetweenWriteAndRenameLeavesTheOldSnapshot(t *testing.T) {
	if path := os.Getenv(envCrashChild); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	path := snapshotOf(t, map[string]string{"alice": "old", "bob": "old"}, cache.Options{})
	old, err := os.ReadFile(path)
	require.NoError(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashBetweenWriteAndRenameLeavesTheOldSnapshot$")
	cmd.Env = append(os.Environ(), envCrashChild+"="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	var tmp string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if s, ok := strings.CutPrefix(lines.Text(), crashMarker); ok {
			tmp = s
			break
		}
	}
	require.NotEmpty(t, tmp, "the child did not get to the rename")
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()

	now, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, old, now, "a crash before the rename changed the snapshot")
	_, err = os.Stat(tmp)
	require.NoError(t, err, "the crash should have left the temporary file")

	c := newCache(t, newSource(nil), withSnapshot(path, cache.Options{}))
	v, _ := c.Peek("alice")
	assert.Equal(t, "old", v)
	assert.Equal(t, uint64(0), c.Stats().SnapshotErrors)
	_, err = os.Stat(tmp)
	assert.ErrorIs(t, err, os.ErrNotExist, "the temporary file a crash left, which may hold secrets, was not removed")
}

// crashChild writes a snapshot of new values to path and stops for good before the rename,
// telling the parent the temporary file's name.
func crashChild(path string) {
	src := newSource(map[string]string{"alice": "new", "bob": "new", "carol": "new"})
	c, err := cache.New(src.load, withSnapshot(path, cache.Options{}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, id := range []string{"alice", "bob", "carol"} {
		c.Get(context.Background(), id)
	}
	cache.SetBeforeRename(c, func(tmp string) {
		fmt.Println(crashMarker + tmp)
		select {} // killed here
	})
	c.Snapshot()
	os.Exit(3)
}

func TestSnapshotEventsReachTheSnapshotsOwnCallback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o600))
	rec := &recorder{}
	o := withSnapshot(path, cache.Options{Name: "endpoints"})
	o.Snapshot.OnEvent = rec.record
	c, err := cache.New(newSource(map[string]string{"alice": "a1"}).load, o)
	require.NoError(t, err)
	get(t, c, "alice")
	require.NoError(t, c.Close())
	c = newCache(t, newSource(nil), o)
	_, ok := c.Peek("alice")
	require.True(t, ok)

	evs := rec.all()
	require.Len(t, evs, 2, "the snapshot's callback must get the snapshot's events, and only them")
	assert.Equal(t, cache.EventSnapshotError, evs[0].Kind)
	assert.Equal(t, "endpoints", evs[0].Cache)
	assert.Equal(t, cache.EventSnapshotRestored, evs[1].Kind)
	assert.Equal(t, 1, evs[1].Objects)
}
