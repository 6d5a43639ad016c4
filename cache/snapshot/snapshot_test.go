package snapshot_test

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
	"github.com/gosorcery/gosorcery/cache/snapshot"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

// snapshotOf fills a cache with objs through src, closes it with its snapshot, and returns
// the snapshot file it wrote.
func snapshotOf(t *testing.T, objs map[string]string, o cache.Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := cachetest.NewSource(objs)
	c, s := open(t, src, path, o, nil)
	if o.FullBackend {
		_, err := c.All(context.Background())
		require.NoError(t, err)
	} else {
		for id := range objs {
			get(t, c, id)
		}
	}
	closeBoth(t, c, s)
	return path
}

func TestSnapshotRestoresObjectsStaleWhileTheSourceIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		objs := map[string]string{"alice": "a1", "bob": "b1", "carol": "c1"}
		opts := cache.Options{LifetimeStale: time.Minute, LifetimeMaximum: time.Hour, ErrorRecheck: 10 * time.Second}
		path := snapshotOf(t, objs, opts)

		src := cachetest.NewSource(map[string]string{"alice": "a2", "bob": "b2", "carol": "c2"})
		src.SetDown(true)
		rec := &cachetest.Recorder{}
		opts.OnEvent = rec.Record
		c, s := newBoth(t, src, path, opts, nil)
		assert.Equal(t, 0, c.Len(), "New restored: restoring is Restore's job")
		n, err := s.Restore(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		assert.Equal(t, 3, s.Stats().Restored)
		assert.Equal(t, 3, c.Stats().Objects)
		evs := rec.Events(cache.EventSnapshotRestored, cache.EventSnapshotError)
		require.Len(t, evs, 1)
		assert.Equal(t, cache.EventSnapshotRestored, evs[0].Kind)
		assert.Equal(t, 3, evs[0].Objects)

		for id, want := range objs {
			v, found, err := c.Get(context.Background(), id)
			require.NoError(t, err, "%s while the source is down", id)
			assert.True(t, found, id)
			assert.Equal(t, want, v, "%s is not what the first cache served", id)
		}
		synctest.Wait()
		assert.Equal(t, 1, src.Calls("alice"), "a restored object was not refreshed on its first read")
		assert.Equal(t, 3, c.Stats().Extended, "failed refreshes of restored objects did not extend them")
		assert.Equal(t, []cache.EventKind{cache.EventStaleHit, cache.EventRefreshError}, rec.Kinds("alice"))

		src.SetDown(false)
		cachetest.Advance(10 * time.Second) // the recheck point after the failed refresh
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

func TestRestoredObjectsKeepTheirAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := snapshotOf(t, map[string]string{"alice": "a1"}, cache.Options{})
		time.Sleep(3 * time.Hour)
		c, _ := open(t, cachetest.NewSource(nil), path, cache.Options{}, nil)
		info, ok := c.Inspect("alice")
		require.True(t, ok)
		assert.Equal(t, 3*time.Hour, info.Age, "a restored object must keep the age of its last load")
		assert.Equal(t, cache.StateStale, info.State)
	})
}

func TestRestoreKeepsWhatTheCacheLoadedMeanwhile(t *testing.T) {
	path := snapshotOf(t, map[string]string{"alice": "a1", "bob": "b1"}, cache.Options{})
	src := cachetest.NewSource(map[string]string{"alice": "a2"})
	c, err := cache.New(src.Load, nil)
	require.NoError(t, err)
	defer c.Close()
	s, err := snapshot.New(c, path, nil)
	require.NoError(t, err)
	defer s.Close()
	get(t, c, "alice") // served before the restore: newer than the file
	n, err := s.Restore(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	v, _ := c.Peek("alice")
	assert.Equal(t, "a2", v, "a restore replaced an object the cache had loaded since")
	v, _ = c.Peek("bob")
	assert.Equal(t, "b1", v)
}

func TestSnapshotOfAnEmptyDirectoryStartsEmptyWithoutAReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	rec := &cachetest.Recorder{}
	c, s := open(t, cachetest.NewSource(map[string]string{"alice": "a1"}), path, cache.Options{OnEvent: rec.Record}, nil)
	n, err := s.Restore(context.Background())
	require.NoError(t, err, "a missing file is a first start")
	assert.Equal(t, 0, n)
	assert.Equal(t, 0, c.Len())
	assert.Equal(t, uint64(0), s.Stats().Errors)
	v, _ := get(t, c, "alice")
	assert.Equal(t, "a1", v)
	assert.Empty(t, rec.Events(cache.EventSnapshotRestored, cache.EventSnapshotError))
}

func TestRestoredObjectsExpireAsAfterAFailedRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Loaded at t=0, written at Close; the StaleIfError cap is at 10m + 1h = 70m.
		opts := cache.Options{LifetimeStale: time.Minute, LifetimeMaximum: 10 * time.Minute, StaleIfError: time.Hour}
		path := snapshotOf(t, map[string]string{"alice": "a1"}, opts)
		file, err := os.ReadFile(path)
		require.NoError(t, err)

		down := cachetest.NewSource(nil)
		down.SetDown(true)

		time.Sleep(20 * time.Minute) // restored at t=20m: expires at 20m + LifetimeMaximum
		c, s := open(t, down, path, opts, nil)
		cachetest.Advance(10*time.Minute - time.Second)
		_, ok := c.Peek("alice")
		require.True(t, ok, "a restored object expired before LifetimeMaximum after its restore")
		cachetest.Advance(time.Second)
		_, ok = c.Peek("alice")
		assert.False(t, ok, "a restored object that nobody read lived past LifetimeMaximum after its restore")
		closeBoth(t, c, s)

		require.NoError(t, os.WriteFile(path, file, 0o600))
		time.Sleep(35 * time.Minute) // restored at t=65m: the cap at 70m comes first
		c, s = open(t, down, path, opts, nil)
		cachetest.Advance(5*time.Minute - time.Second)
		v, found := get(t, c, "alice")
		require.True(t, found, "a restored object expired before its StaleIfError cap")
		assert.Equal(t, "a1", v)
		cachetest.Advance(time.Second)
		_, ok = c.Peek("alice")
		assert.False(t, ok, "a restored object outlived its StaleIfError cap")
		closeBoth(t, c, s)

		require.NoError(t, os.WriteFile(path, file, 0o600))
		time.Sleep(10 * time.Minute) // t=75m: past the cap
		c, _ = open(t, down, path, opts, nil)
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
			rec := &cachetest.Recorder{}
			src := cachetest.NewSource(map[string]string{"alice": "a2"})
			c, err := cache.New(src.Load, &cache.Options{OnEvent: rec.Record})
			require.NoError(t, err)
			t.Cleanup(func() { c.Close() })
			s, err := snapshot.New(c, path, nil)
			require.NoError(t, err, "a bad snapshot must not fail New")
			n, err := s.Restore(context.Background())
			require.ErrorIs(t, err, errors.ErrInvalid)
			assert.Equal(t, 0, n)

			st := s.Stats()
			assert.Equal(t, uint64(1), st.Errors)
			assert.Equal(t, 0, st.Restored)
			assert.Equal(t, 0, c.Len())
			evs := rec.Events(cache.EventSnapshotRestored, cache.EventSnapshotError)
			require.Len(t, evs, 1)
			assert.Equal(t, cache.EventSnapshotError, evs[0].Kind)
			assert.ErrorIs(t, evs[0].Err, errors.ErrInvalid)
			assert.ErrorContains(t, evs[0].Err, tc.want)
			assert.ErrorContains(t, evs[0].Err, path, "the report must say which file")

			v, found := get(t, c, "alice")
			assert.True(t, found, "the cache does not work after ignoring a bad snapshot")
			assert.Equal(t, "a2", v)

			// The bad file is replaced at the next write.
			require.NoError(t, s.Close())
			require.NoError(t, c.Close())
			c, s = open(t, src, path, cache.Options{}, nil)
			assert.Equal(t, uint64(0), s.Stats().Errors, "Close did not replace the bad snapshot")
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
	c, s := open(t, cachetest.NewSource(map[string]string{"alice": "secret"}), path, cache.Options{}, nil)
	get(t, c, "alice")
	require.NoError(t, s.Write(context.Background()))
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
		src := cachetest.NewSource(map[string]string{"alice": "a1", "bob": "b1"})
		c, s := open(t, src, path, cache.Options{}, &snapshot.Options[string]{Interval: 30 * time.Second})

		cachetest.Advance(30 * time.Second)
		assert.Equal(t, uint64(0), s.Stats().Writes, "an empty cache that never changed was written")
		get(t, c, "alice")
		cachetest.Advance(30 * time.Second)
		st := s.Stats()
		assert.Equal(t, uint64(1), st.Writes)
		assert.Equal(t, time.Now(), st.Last)
		cachetest.Advance(time.Minute)
		assert.Equal(t, uint64(1), s.Stats().Writes, "a cache that did not change was written again")

		get(t, c, "bob")
		cachetest.Advance(30 * time.Second)
		assert.Equal(t, uint64(2), s.Stats().Writes)
		closeBoth(t, c, s)
		assert.Equal(t, uint64(2), s.Stats().Writes, "Close wrote a snapshot of a cache that did not change")

		c, s = open(t, src, path, cache.Options{}, nil)
		assert.Equal(t, 2, c.Len())
		closeBoth(t, c, s)
		assert.Equal(t, uint64(0), s.Stats().Writes, "Close rewrote what it had just restored")
	})
}

func TestSnapshotOptionsAreChecked(t *testing.T) {
	dir := t.TempDir()
	c, err := cache.New(func(ctx context.Context, id string) (string, bool, error) { return "", false, nil }, &cache.Options{Name: "endpoint"})
	require.NoError(t, err)
	defer c.Close()
	for _, tc := range []struct {
		name string
		path string
		opts *snapshot.Options[string]
	}{
		{"no path", "", nil},
		{"no directory", filepath.Join(dir, "missing", "x.snap"), nil},
		{"negative interval", filepath.Join(dir, "x.snap"), &snapshot.Options[string]{Interval: -time.Second}},
	} {
		_, err := snapshot.New(c, tc.path, tc.opts)
		assert.ErrorIs(t, err, errors.ErrInvalid, tc.name)
		assert.ErrorContains(t, err, `cache "endpoint"`, tc.name)
	}
	_, err = snapshot.New[string](nil, filepath.Join(dir, "x.snap"), nil)
	assert.ErrorIs(t, err, errors.ErrInvalid, "nil cache")

	s, err := snapshot.New(c, filepath.Join(dir, "x.snap"), nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Close(), errors.ErrClosed, "a second Close")
	assert.ErrorIs(t, s.Write(context.Background()), errors.ErrClosed)
	_, err = s.Restore(context.Background())
	assert.ErrorIs(t, err, errors.ErrClosed)
}

func TestNegativeEntriesAreNotWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := cachetest.NewSource(map[string]string{"alice": "a1"})
	opts := cache.Options{NegativeLifetime: time.Hour}
	c, s := open(t, src, path, opts, nil)
	get(t, c, "alice")
	_, found := get(t, c, "nobody")
	require.False(t, found)
	require.Equal(t, 1, c.Stats().NegativeObjects)
	closeBoth(t, c, s)

	c, s = open(t, src, path, opts, nil)
	assert.Equal(t, 1, s.Stats().Restored)
	assert.Equal(t, 0, c.Stats().NegativeObjects, "a negative entry was restored")
	get(t, c, "nobody")
	assert.Equal(t, 2, src.Calls("nobody"), "the restored cache remembered an absence")
}

// stringCodec is a typed codec that cannot encode "b1" nor decode "c1", and that counts
// its calls.
type stringCodec struct {
	mu                     sync.Mutex
	marshals, decodes      int
	failEncode, failDecode string
}

func (sc *stringCodec) Marshal(v string) ([]byte, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.marshals++
	if v == sc.failEncode {
		return nil, fmt.Errorf("cannot encode %s", v)
	}
	return []byte("<" + v + ">"), nil
}

func (sc *stringCodec) Unmarshal(b []byte) (string, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.decodes++
	s, ok := strings.CutPrefix(string(b), "<")
	s, ok2 := strings.CutSuffix(s, ">")
	if !ok || !ok2 {
		return "", fmt.Errorf("not written by this codec: %q", b)
	}
	if s == sc.failDecode {
		return "", fmt.Errorf("cannot decode %s", s)
	}
	return s, nil
}

func TestTheTypedCodecIsUsed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := cachetest.NewSource(map[string]string{"alice": "a1", "bob": "b1"})
	codec := &stringCodec{}
	c, s := open(t, src, path, cache.Options{}, &snapshot.Options[string]{Codec: codec})
	get(t, c, "alice")
	get(t, c, "bob")
	closeBoth(t, c, s)
	assert.Equal(t, 2, codec.marshals)
	file, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(file), "<a1>", "the file does not hold the codec's bytes")

	c, s = open(t, src, path, cache.Options{}, &snapshot.Options[string]{Codec: codec})
	assert.Equal(t, 2, codec.decodes)
	assert.Equal(t, 2, s.Stats().Restored)
	v, _ := c.Peek("alice")
	assert.Equal(t, "a1", v)

	// The default codec (JSON) cannot read what this one wrote: every object is left out.
	closeBoth(t, c, s)
	c, s = open(t, src, path, cache.Options{}, nil)
	assert.Equal(t, 0, c.Len())
	assert.Equal(t, uint64(1), s.Stats().Errors)
}

func TestObjectsThatDoNotEncodeOrDecodeAreLeftOutAndReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := cachetest.NewSource(map[string]string{"alice": "a1", "bob": "b1", "carol": "c1"})
	codec := &stringCodec{failEncode: "b1", failDecode: "c1"}
	c, s := open(t, src, path, cache.Options{}, &snapshot.Options[string]{Codec: codec})
	for _, id := range []string{"alice", "bob", "carol"} {
		get(t, c, id)
	}
	err := s.Write(context.Background())
	assert.ErrorContains(t, err, `1 of 3 objects: object "bob": cannot encode b1`)
	assert.Equal(t, uint64(1), s.Stats().Errors)
	require.NoError(t, s.Close(), "a close with nothing changed must not rewrite")
	require.NoError(t, c.Close())

	rec := &cachetest.Recorder{}
	c, s = open(t, src, path, cache.Options{OnEvent: rec.Record}, &snapshot.Options[string]{Codec: codec})
	assert.Equal(t, 1, c.Len())
	_, ok := c.Peek("alice")
	assert.True(t, ok)
	evs := rec.Events(cache.EventSnapshotRestored, cache.EventSnapshotError)
	require.Len(t, evs, 2)
	assert.Equal(t, cache.EventSnapshotError, evs[0].Kind)
	assert.ErrorContains(t, evs[0].Err, `1 of 2 objects not restored: object "carol": cannot decode c1`)
	assert.Equal(t, cache.EventSnapshotRestored, evs[1].Kind)
	assert.Equal(t, 1, evs[1].Objects)
	assert.Equal(t, uint64(1), s.Stats().Errors)
}

func TestFullBackendSnapshotOfACompleteSetIsRestoredComplete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := cache.Options{FullBackend: true, LifetimeStale: time.Minute, LifetimeMaximum: time.Hour, ErrorRecheck: 10 * time.Second}
		path := snapshotOf(t, map[string]string{"alice": "a1", "bob": "b1"}, opts)

		src := cachetest.NewSource(map[string]string{"alice": "a2", "carol": "c2"})
		src.SetDown(true)
		c, s := open(t, src, path, opts, nil)
		assert.True(t, c.Stats().Complete, "a snapshot of a complete set was not restored complete")
		assert.Equal(t, 2, s.Stats().Restored)
		_, found := get(t, c, "zed")
		assert.False(t, found, "an absent id must be answered from the restored set")
		synctest.Wait() // the set's refresh failed
		all, err := c.All(context.Background())
		require.NoError(t, err)
		assert.Equal(t, []string{"alice", "bob"}, cachetest.IDs(all))
		synctest.Wait()
		assert.Equal(t, 1, src.WholeCalls(), "the restored set was not refreshed on its first read")
		assert.True(t, c.Stats().Complete, "a failed refresh of a restored set dropped it")

		src.SetDown(false)
		cachetest.Advance(10 * time.Second)
		get(t, c, "alice")
		synctest.Wait()
		all, err = c.All(context.Background())
		require.NoError(t, err)
		assert.Equal(t, []string{"alice", "carol"}, cachetest.IDs(all))
	})
}

func TestFullBackendRestoreKeepsObjectsPushedMeanwhile(t *testing.T) {
	opts := cache.Options{FullBackend: true}
	path := snapshotOf(t, map[string]string{"alice": "a1", "bob": "b1"}, opts)
	src := cachetest.NewSource(nil)
	src.SetDown(true)
	c, s := newBoth(t, src, path, opts, nil)
	c.Set("bob", "pushed") // written through the owner before the restore
	n, err := s.Restore(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.True(t, c.Stats().Complete)
	v, _ := get(t, c, "bob")
	assert.Equal(t, "pushed", v, "a restore undid a write made before it")
	v, _ = get(t, c, "alice")
	assert.Equal(t, "a1", v)
}

func TestFullBackendRestoreDoesNotWaitForAHangingFirstLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := cache.Options{FullBackend: true, LifetimeStale: time.Minute}
		path := snapshotOf(t, map[string]string{"alice": "a1"}, opts)
		src := cachetest.NewSource(nil)
		src.SetHang(true)
		c, s := newBoth(t, src, path, opts, nil)
		ctx, cancel := context.WithCancel(context.Background())
		go c.Get(ctx, "bob") // a first read, before the restore: its whole load hangs
		synctest.Wait()
		require.Equal(t, 1, src.WholeCalls())

		n, err := s.Restore(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 1, n, "a hanging first load kept the snapshot out")
		// Bounded: without the restored set, these reads would wait for the hanging load.
		bounded, stop := context.WithTimeout(context.Background(), time.Minute)
		defer stop()
		v, found, err := c.Get(bounded, "alice")
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, "a1", v)
		_, found, err = c.Get(bounded, "zed")
		require.NoError(t, err)
		assert.False(t, found, "the restored set is complete: an absent id is answered from it")
		cancel()
		synctest.Wait()
	})
}

func TestFullBackendSnapshotOfAnIncompleteSetIsNotRestoredComplete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := cachetest.NewSource(map[string]string{"alice": "a1"})
	src.SetDown(true)
	opts := cache.Options{FullBackend: true}
	c, s := open(t, src, path, opts, nil)
	c.Set("alice", "pushed") // a write through the owner; the set never loaded
	closeBoth(t, c, s)

	c, s = open(t, src, path, opts, nil)
	assert.False(t, c.Stats().Complete)
	assert.Equal(t, 1, s.Stats().Restored)
	v, found := get(t, c, "alice")
	assert.True(t, found)
	assert.Equal(t, "pushed", v)
	_, _, err := c.Get(context.Background(), "bob")
	assert.ErrorIs(t, err, errors.ErrUnavailable, "an incomplete restored set answered for an absent id")
}

func TestSnapshotWritesDoNotDisturbReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	src := cachetest.NewSource(nil)
	for i := range 1000 {
		src.Set(fmt.Sprint("ep", i), "v")
	}
	opts := cache.Options{LifetimeStale: time.Hour, MaxObjects: 800}
	c, s := open(t, src, path, opts, nil)
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
		require.NoError(t, s.Write(context.Background()))
	}
	close(stop)
	wg.Wait()
	closeBoth(t, c, s)
	c, _ = open(t, src, path, opts, nil)
	assert.Positive(t, c.Len())
	assert.LessOrEqual(t, c.Len(), 800)
}

func TestCloseStopsTheSnapshotWriterAndWritesTheLastSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "endpoint.snap")
		c, err := cache.New(cachetest.NewSource(map[string]string{"alice": "a1"}).Load, nil)
		require.NoError(t, err)
		s, err := snapshot.New(c, path, nil)
		require.NoError(t, err)
		synctest.Wait()
		assert.NotEmpty(t, snapshotGoroutines(t), "the snapshot writer is not running")
		get(t, c, "alice")
		require.NoError(t, s.Close())
		synctest.Wait()
		assert.Empty(t, snapshotGoroutines(t), "goroutines left behind by Close")
		assert.Equal(t, uint64(1), s.Stats().Writes, "Close did not write the last snapshot")
		require.NoError(t, c.Close())
	})
}

func TestClosingTheCacheFirstIsReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	c, err := cache.New(cachetest.NewSource(map[string]string{"alice": "a1"}).Load, nil)
	require.NoError(t, err)
	s, err := snapshot.New(c, path, nil)
	require.NoError(t, err)
	get(t, c, "alice")
	require.NoError(t, c.Close())
	err = s.Close()
	assert.ErrorIs(t, err, errors.ErrClosed, "a snapshot closed after its cache has nothing to write")
	assert.ErrorContains(t, err, "closed before its snapshot")
	_, statErr := os.Stat(path)
	assert.ErrorIs(t, statErr, os.ErrNotExist, "an emptied cache was written over the snapshot")
}

func TestWriteWaitsNoLongerThanItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "endpoint.snap")
		c, s := open(t, cachetest.NewSource(map[string]string{"alice": "a1"}), path, cache.Options{}, nil)
		get(t, c, "alice")
		release := make(chan struct{})
		snapshot.SetBeforeRename(s, func(string) { <-release })
		go s.Write(context.Background()) // holds the file until released
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		assert.ErrorIs(t, s.Write(ctx), context.DeadlineExceeded)
		_, err := s.Restore(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start))
		close(release)
		synctest.Wait()
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

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashBetweenWriteAndRenameLeavesTheOldSnapshot$")
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

	c, s := open(t, cachetest.NewSource(nil), path, cache.Options{}, nil)
	v, _ := c.Peek("alice")
	assert.Equal(t, "old", v)
	assert.Equal(t, uint64(0), s.Stats().Errors)
	_, err = os.Stat(tmp)
	assert.ErrorIs(t, err, os.ErrNotExist, "the temporary file a crash left, which may hold secrets, was not removed")
}

// crashChild writes a snapshot of new values to path and stops for good before the rename,
// telling the parent the temporary file's name.
func crashChild(path string) {
	src := cachetest.NewSource(map[string]string{"alice": "new", "bob": "new", "carol": "new"})
	c, err := cache.New(src.Load, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := snapshot.New(c, path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, id := range []string{"alice", "bob", "carol"} {
		c.Get(context.Background(), id)
	}
	snapshot.SetBeforeRename(s, func(tmp string) {
		fmt.Println(crashMarker + tmp)
		select {} // killed here
	})
	s.Write(context.Background())
	os.Exit(3)
}

func TestSnapshotEventsReachTheCachesOneSinkWithNoLockHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o600))
	var (
		c      *cache.Cache[string]
		s      *snapshot.Snapshot[string]
		mu     sync.Mutex
		events []cache.Event
	)
	onEvent := func(ev cache.Event) {
		if ev.Kind != cache.EventSnapshotRestored && ev.Kind != cache.EventSnapshotError {
			return
		}
		// Calls back into the cache and the snapshot: it would deadlock under a lock of
		// either.
		c.Len()
		c.Peek("alice")
		s.Stats()
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}
	src := cachetest.NewSource(map[string]string{"alice": "a1"})
	var err error
	c, err = cache.New(src.Load, &cache.Options{Name: "endpoints", OnEvent: onEvent})
	require.NoError(t, err)
	s, err = snapshot.New(c, path, nil)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Restore(context.Background())
		if _, _, err := c.Get(context.Background(), "alice"); !assert.NoError(t, err) {
			return
		}
		s.Close()
		c.Close()

		c, err = cache.New(src.Load, &cache.Options{Name: "endpoints", OnEvent: onEvent})
		if !assert.NoError(t, err) {
			return
		}
		s, err = snapshot.New(c, path, nil)
		if !assert.NoError(t, err) {
			return
		}
		s.Restore(context.Background())
		s.Close()
		c.Close()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a snapshot event handler that calls the cache deadlocked")
	}

	require.Len(t, events, 2)
	assert.Equal(t, cache.EventSnapshotError, events[0].Kind)
	assert.Equal(t, "endpoints", events[0].Cache)
	assert.Equal(t, cache.EventSnapshotRestored, events[1].Kind)
	assert.Equal(t, "endpoints", events[1].Cache)
	assert.Equal(t, 1, events[1].Objects)
}

func TestSnapshotEventsFollowTheCachesEventKinds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kinds []cache.EventKind
		want  int
	}{
		{"every kind", nil, 1},
		{"the snapshot's error", []cache.EventKind{cache.EventSnapshotError}, 1},
		{"refresh errors only", []cache.EventKind{cache.EventRefreshError}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "endpoint.snap")
			require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o600))
			rec := &cachetest.Recorder{}
			c, s := open(t, cachetest.NewSource(nil), path, cache.Options{OnEvent: rec.Record, EventKinds: tc.kinds}, nil) // restores
			assert.Len(t, rec.Events(cache.EventSnapshotRestored, cache.EventSnapshotError), tc.want, "garbage is no snapshot: one error, if taken")
			closeBoth(t, c, s)
		})
	}
}
