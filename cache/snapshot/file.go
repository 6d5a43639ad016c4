package snapshot

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// fileKind names the type of a file that is not a regular one, for an error.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return m.Type().String()
	}
}

// readFile reads the whole snapshot file. It opens it without blocking (a FIFO put there
// since the snapshot was made would block an ordinary open until a writer came) and reads
// it only if it is a regular file.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fileKind(fi.Mode()))
	}
	return io.ReadAll(f)
}

// tempInfix follows the snapshot's name in the names of its temporary files.
const tempInfix = ".tmp-"

// removeTemps removes the temporary files a crash left next to path: they may hold secrets.
func removeTemps(path string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), base+tempInfix) && de.Type().IsRegular() {
			os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}

// writeFile encodes the cache's objects into a temporary file and renames it over the
// snapshot; the caller holds the file. It never opens the snapshot's path itself, so what
// is there (a FIFO put there since) cannot block it. written is when it was written (Unix
// nanoseconds); bad names the objects that could not be encoded (and were left out); err
// is a failure to write the file, which is then left as it was.
func (s *Snapshot[T]) writeFile() (written int64, bad, err error) {
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+tempInfix+"*") // mode 0600
	if err != nil {
		return 0, nil, err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	enc := newSnapEncoder(f)
	var failed, total int
	set, err := s.c.Export(func(id string, v T, loaded time.Time) {
		total++
		b, merr := s.codec.Marshal(v)
		if merr != nil {
			if failed == 0 {
				bad = errors.Errorf("object %q: %w", id, merr)
			}
			failed++
			return
		}
		enc.add(id, loaded.UnixNano(), b)
	})
	if err != nil {
		return 0, nil, err
	}
	var meta snapMeta
	if !set.IsZero() {
		meta.complete, meta.setLoaded = true, set.UnixNano()
	}
	if failed > 0 {
		meta.complete = false
		bad = errors.Errorf("%d of %d objects: %w", failed, total, bad)
	}
	meta.written = time.Now().UnixNano()
	if err = enc.finish(meta); err != nil {
		return 0, nil, err
	}
	if err = f.Sync(); err != nil {
		return 0, nil, err
	}
	if err = f.Close(); err != nil {
		return 0, nil, err
	}
	if s.beforeRename != nil {
		s.beforeRename(tmp)
	}
	if err = os.Rename(tmp, s.path); err != nil {
		return 0, nil, err
	}
	if runtime.GOOS == "windows" {
		return meta.written, bad, nil // a directory cannot be opened there to be synced
	}
	// The rename is durable once the directory is.
	d, err := os.Open(dir)
	if err != nil {
		return 0, nil, err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, nil, errors.Errorf("sync of directory %s: %w", dir, err)
	}
	return meta.written, bad, nil
}
