package sorcery_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// snapEndpoint is endpoint i at version v, with what a codec must carry exactly: a
// multi-valued field, a boolean, and extended fields, one a secret with separators in it.
func snapEndpoint(i int, v string) sorcery.Record {
	return rec(fmt.Sprintf("ep%04d", i),
		"context", "ctx-"+v,
		"allow", "ulaw", "allow", "alaw,g722",
		"direct_media", "no",
		"@password", fmt.Sprintf("s3cr=t;%d,%s", i, v),
		"@note", "",
	)
}

func wantEndpoint(t *testing.T, codec sorcery.Codec[Endpoint], i int, v string) Endpoint {
	t.Helper()
	e, err := codec.Decode(snapEndpoint(i, v))
	require.NoError(t, err)
	return e
}

// snapshotSorcery is a process's library instance: the type endpoint with a cache that keeps
// a snapshot at path, in front of a curl wizard of baseURL.
func snapshotSorcery(t *testing.T, path, baseURL string, logger *slog.Logger) (*sorcery.Sorcery, *sorcery.Type[Endpoint]) {
	t.Helper()
	s := sorcery.New(&sorcery.Options{Logger: logger})
	t.Cleanup(func() { s.Close() })
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, s.Apply("endpoint/cache", "memory_cache",
		"object_lifetime_stale=60,object_lifetime_maximum=3600,error_recheck=200ms,snapshot_file="+path))
	w, err := curl.New(baseURL+"/prov/endpoint", &curl.Options{Timeout: 2 * time.Second})
	require.NoError(t, err)
	require.NoError(t, typ.AddWizard("provisioning", w, nil))
	return s, typ
}

// The processes of TestSnapshotCarriesObjectsAcrossARestartDuringAnOutage.
const (
	envSnapshotRole    = "GOSORCERY_TEST_SNAPSHOT_ROLE" // writer or reader
	envSnapshotURL     = "GOSORCERY_TEST_SNAPSHOT_URL"
	envSnapshotFile    = "GOSORCERY_TEST_SNAPSHOT_FILE"
	envSnapshotObjects = "GOSORCERY_TEST_SNAPSHOT_OBJECTS"
	snapshotObjects    = 500
)

// TestSnapshotCarriesObjectsAcrossARestartDuringAnOutage runs two processes of this test
// binary in turn against a provisioning service (the curl handler over a memory wizard, here):
// the first reads every object through its cache and stops; the service is then unreachable,
// and the second, started from the first one's snapshot, serves every object; once the
// service is back, the refreshes replace them with what it holds now.
func TestSnapshotCarriesObjectsAcrossARestartDuringAnOutage(t *testing.T) {
	switch os.Getenv(envSnapshotRole) {
	case "writer":
		snapshotWriterProcess(t)
		return
	case "reader":
		snapshotReaderProcess(t)
		return
	}
	if testing.Short() {
		t.Skip("runs child processes")
	}
	src := memory.New()
	for i := range snapshotObjects {
		src.Put(snapEndpoint(i, "v1"))
	}
	srv := httptest.NewServer(curl.NewHandler(src, nil))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "endpoint.snap")

	writer := childProcess(t, "writer", srv.URL, path)
	out, err := writer.CombinedOutput()
	require.NoError(t, err, "writer process:\n%s", out)
	fi, err := os.Stat(path)
	require.NoError(t, err, "the writer process left no snapshot")
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// The service changes its objects, and is unreachable: nothing listens on its port.
	for i := range snapshotObjects {
		src.Put(snapEndpoint(i, "v2"))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	reader := childProcess(t, "reader", "http://"+addr, path)
	stdin, err := reader.StdinPipe()
	require.NoError(t, err)
	stdout, err := reader.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	reader.Stderr = &stderr
	require.NoError(t, reader.Start())
	lines := bufio.NewScanner(stdout)
	var output strings.Builder
	waitFor := func(marker string) bool {
		for lines.Scan() {
			output.WriteString(lines.Text() + "\n")
			if lines.Text() == marker {
				return true
			}
		}
		return false
	}
	served := waitFor("served every object while the source was down")

	// The service comes back on the same address.
	back := httptest.NewUnstartedServer(curl.NewHandler(src, nil))
	back.Listener.Close()
	back.Listener, err = net.Listen("tcp", addr)
	if err == nil {
		back.Start()
		defer back.Close()
	}
	fmt.Fprintln(stdin, "the source is back")
	stdin.Close()
	io.Copy(&output, stdout)
	werr := reader.Wait()
	require.True(t, served, "the reader process did not serve from the snapshot:\n%s%s", output.String(), stderr.String())
	require.NoError(t, err, "the port of the source was taken meanwhile")
	require.NoError(t, werr, "reader process:\n%s%s", output.String(), stderr.String())
	assert.Contains(t, output.String(), "refreshed every object")
}

func childProcess(t *testing.T, role, url, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSnapshotCarriesObjectsAcrossARestartDuringAnOutage$", "-test.v")
	cmd.Env = append(os.Environ(),
		envSnapshotRole+"="+role,
		envSnapshotURL+"="+url,
		envSnapshotFile+"="+path,
		envSnapshotObjects+"="+strconv.Itoa(snapshotObjects),
	)
	return cmd
}

// snapshotWriterProcess reads every object through the cache and stops: Close writes the
// snapshot.
func snapshotWriterProcess(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(envSnapshotObjects))
	require.NoError(t, err)
	s, typ := snapshotSorcery(t, os.Getenv(envSnapshotFile), os.Getenv(envSnapshotURL), quiet())
	ctx := t.Context()
	for i := range n {
		e, found, err := typ.Retrieve(ctx, fmt.Sprintf("ep%04d", i))
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, wantEndpoint(t, typ.Codec(), i, "v1"), e)
	}
	require.Equal(t, uint64(0), s.Stats().Types[0].Caches[0].SnapshotErrors)
	require.NoError(t, s.Close())
}

// snapshotReaderProcess starts while the source is unreachable, serves every object from the
// snapshot, then, once the parent says the source is back, waits for the refreshes.
func snapshotReaderProcess(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(envSnapshotObjects))
	require.NoError(t, err)
	var log lockedBuffer
	s, typ := snapshotSorcery(t, os.Getenv(envSnapshotFile), os.Getenv(envSnapshotURL), slog.New(slog.NewTextHandler(&log, nil)))
	ctx := t.Context()
	st := s.Stats().Types[0].Caches[0]
	require.Equal(t, n, st.SnapshotRestored)
	require.Equal(t, uint64(0), st.SnapshotErrors)
	assert.Contains(t, log.String(), "level=INFO msg=\"sorcery: cache restored from its snapshot\" type=endpoint cache=cache objects="+strconv.Itoa(n))
	for i := range n {
		e, found, err := typ.Retrieve(ctx, fmt.Sprintf("ep%04d", i))
		require.NoError(t, err, "object %d while the source is down", i)
		require.True(t, found, "object %d while the source is down", i)
		require.Equal(t, wantEndpoint(t, typ.Codec(), i, "v1"), e, "object %d as the first process served it", i)
	}
	require.Eventually(t, func() bool { return typ.Cache().Stats().RefreshErrors > 0 }, 5*time.Second, 10*time.Millisecond,
		"no refresh of a restored object was tried")
	assert.Contains(t, log.String(), "level=WARN", "the failing source was not reported")
	fmt.Println("served every object while the source was down")

	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	require.Equal(t, "the source is back\n", line)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < n; {
		e, found, err := typ.Retrieve(ctx, fmt.Sprintf("ep%04d", i))
		require.NoError(t, err)
		require.True(t, found)
		if e.Context == "ctx-v2" {
			require.Equal(t, wantEndpoint(t, typ.Codec(), i, "v2"), e)
			i++
			continue
		}
		require.True(t, time.Now().Before(deadline), "object %d not refreshed 10 s after the source came back", i)
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Println("refreshed every object")
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestCacheSnapshotKeepsObjectsAsTheCodecSeesThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	opts := &cache.Options{Snapshot: &cache.SnapshotOptions{Path: path}}
	s, typ, src := cached(t, opts, sorcery.Hooks{})
	ctx := t.Context()
	for i := range 3 {
		src.Put(snapEndpoint(i, "v1"))
		_, _, err := typ.Retrieve(ctx, fmt.Sprintf("ep%04d", i))
		require.NoError(t, err)
	}
	assert.Nil(t, opts.OnEvent, "AddCache changed the caller's options")
	require.NoError(t, s.Close())
	file, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(file), "s3cr=t;0,v1", "the objects are not stored as the records the codec makes")
	assert.NotContains(t, string(file), `"Context"`, "the objects were stored as JSON, not as the type's records")

	_, typ2, src2 := cached(t, opts, sorcery.Hooks{})
	src2.SetError(errors.ErrUnavailable)
	for i := range 3 {
		e, found, err := typ2.Retrieve(ctx, fmt.Sprintf("ep%04d", i))
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, wantEndpoint(t, typ2.Codec(), i, "v1"), e)
	}
}

func TestCacheSnapshotTroubleIsLoggedAndReachesHooksOnceTheCacheIsInTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	require.NoError(t, os.WriteFile(path, []byte("not a snapshot"), 0o600))
	var (
		mu      sync.Mutex
		events  []sorcery.CacheEvent
		inChain []bool
		typ     *sorcery.Type[Endpoint]
	)
	var log lockedBuffer
	s := sorcery.New(&sorcery.Options{
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
		Hooks: sorcery.Hooks{Cache: func(ev sorcery.CacheEvent) {
			if ev.Kind != cache.EventSnapshotError {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			events = append(events, ev)
			inChain = append(inChain, typ.Cache() != nil)
		}},
	})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, s.Apply("endpoint/cache", "memory_cache", "snapshot_file="+path))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, events, 1)
	assert.Equal(t, "endpoint", events[0].Type)
	assert.ErrorIs(t, events[0].Err, errors.ErrInvalid)
	assert.Equal(t, []bool{true}, inChain, "a hook ran before the cache was in the chain (under the type's lock)")
	assert.Contains(t, log.String(), "level=WARN")
	assert.Contains(t, log.String(), "not a snapshot file")
	assert.Contains(t, log.String(), path)
}

func TestSnapshotEventsReachOnEventAndHooksWithNoLockHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	// A first process leaves a snapshot of one object.
	first, typ, src := cached(t, &cache.Options{Snapshot: &cache.SnapshotOptions{Path: path}}, sorcery.Hooks{})
	src.Put(snapEndpoint(1, "v1"))
	_, _, err := typ.Retrieve(t.Context(), "ep0001")
	require.NoError(t, err)
	require.NoError(t, first.Close())

	var (
		mu       sync.Mutex
		userSaw  []cache.EventKind
		hooksSaw []cache.EventKind
		typ2     *sorcery.Type[Endpoint]
	)
	// Both call back into the type: under the type's lock, AddCache would deadlock.
	callBack := func() {
		typ2.Cache().Len()
		typ2.Snapshot().Stats()
		_, _, _ = typ2.Retrieve(context.Background(), "ep0001")
		_ = typ2.AddCache(&cache.Options{Name: "second"})
	}
	// onRestored calls back on a restore and then notes, in saw, that it was delivered.
	onRestored := func(kind cache.EventKind, saw *[]cache.EventKind) {
		if kind != cache.EventSnapshotRestored {
			return
		}
		callBack()
		mu.Lock()
		*saw = append(*saw, kind)
		mu.Unlock()
	}
	s := sorcery.New(&sorcery.Options{Logger: quiet(), Hooks: sorcery.Hooks{Cache: func(ev sorcery.CacheEvent) {
		onRestored(ev.Kind, &hooksSaw)
	}}})
	defer s.Close()
	typ2, err = sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	opts := &cache.Options{Snapshot: &cache.SnapshotOptions{Path: path}, OnEvent: func(ev cache.Event) {
		onRestored(ev.Kind, &userSaw)
	}}
	done := make(chan error, 1)
	go func() { done <- typ2.AddCache(opts) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("AddCache deadlocked: a snapshot event was delivered under the type's lock")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []cache.EventKind{cache.EventSnapshotRestored}, userSaw, "the cache's OnEvent, the one sink, did not get the restore")
	assert.Equal(t, []cache.EventKind{cache.EventSnapshotRestored}, hooksSaw, "Hooks.Cache did not get the restore")
	st := s.Stats().Types[0].Caches[0]
	assert.Equal(t, 1, st.SnapshotRestored, "the snapshot's counters are not in the type's stats")
}

func TestCacheSnapshotPathThatIsNotARegularFileFailsAddCache(t *testing.T) {
	dir := t.TempDir()
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	err = s.Apply("endpoint/cache", "memory_cache", "snapshot_file="+dir)
	require.ErrorIs(t, err, errors.ErrInvalid)
	assert.ErrorContains(t, err, dir)
	assert.ErrorContains(t, err, "is not a regular file (a directory)")
	assert.Nil(t, typ.Cache(), "a cache whose snapshot was refused was left in the chain")
}

func TestCacheSnapshotTroubleIsLoggedWithoutHooks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoint.snap")
	require.NoError(t, os.WriteFile(path, []byte("GSORCSNP\x07\x00\x00\x00"), 0o600))
	var log lockedBuffer
	s := sorcery.New(&sorcery.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, s.Apply("endpoint/cache", "memory_cache", "snapshot_file="+path))
	assert.Contains(t, log.String(), `level=WARN msg="sorcery: cache snapshot error" cache=cache`)
	assert.Contains(t, log.String(), "version 7, this release reads version 1")
	assert.Contains(t, log.String(), "type=endpoint")
	assert.Equal(t, uint64(1), s.Stats().Types[0].Caches[0].SnapshotErrors)
	assert.Equal(t, uint64(1), typ.Snapshot().Stats().Errors)
}

func TestSnapshotOptionsOfSorceryConfWorkEndToEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		snap := filepath.Join(dir, "endpoint.snap")
		conf := filepath.Join(dir, "sorcery.conf")
		require.NoError(t, os.WriteFile(conf, []byte(`
[res_pjsip]
endpoint/cache = memory_cache,object_lifetime_stale=60,snapshot_file=`+snap+`,snapshot_interval=10
endpoint = memory
`), 0o600))
		src := memory.New()
		open := func() (*sorcery.Sorcery, *sorcery.Type[Endpoint]) {
			s := sorcery.New(&sorcery.Options{Logger: quiet(), Wizards: map[string]sorcery.WizardFactory{
				"memory": func(string, string) (sorcery.Wizard, error) { return src, nil },
			}})
			typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
			require.NoError(t, err)
			require.NoError(t, s.ApplyConfig(conf, "res_pjsip"))
			require.NotNil(t, typ.Snapshot(), "snapshot_file did not give the cache a snapshot")
			return s, typ
		}
		s, typ := open()
		src.Put(snapEndpoint(1, "v1"))
		_, found, err := typ.Retrieve(t.Context(), "ep0001")
		require.NoError(t, err)
		require.True(t, found)
		time.Sleep(10 * time.Second) // snapshot_interval
		synctest.Wait()
		assert.Equal(t, uint64(1), s.Stats().Types[0].Caches[0].SnapshotWrites, "snapshot_interval=10 did not write after 10 s")
		require.NoError(t, s.Close())

		// A restart while the source is down serves what the first process served.
		src.SetError(errors.ErrUnavailable)
		s2, typ2 := open()
		defer s2.Close()
		assert.Equal(t, 1, s2.Stats().Types[0].Caches[0].SnapshotRestored)
		e, found, err := typ2.Retrieve(t.Context(), "ep0001")
		require.NoError(t, err, "a restored object was not served while the source is down")
		require.True(t, found)
		assert.Equal(t, wantEndpoint(t, typ2.Codec(), 1, "v1"), e)
	})
}
