package astconf

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// fileSystem is where files are read from: the operating system's or an fs.FS.
type fileSystem interface {
	// open returns the file's contents and what stat said about it just before reading.
	readFile(name string) ([]byte, fs.FileInfo, error)
	stat(name string) (fs.FileInfo, error)
	glob(pattern string) ([]string, error)
	join(dir, name string) string
	dir(name string) string
	isAbs(name string) bool
	// key names the file uniquely, to find include cycles.
	key(name string) string
	// native reports the operating system's file system, where #exec runs in a directory.
	native() bool
}

func newFileSystem(fsys fs.FS) fileSystem {
	if fsys == nil {
		return osFS{}
	}
	return ioFS{fsys}
}

type osFS struct{}

func (osFS) readFile(name string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, err
	}
	return data, info, nil
}

func (osFS) stat(name string) (fs.FileInfo, error) { return os.Stat(name) }
func (osFS) glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }
func (osFS) join(dir, name string) string          { return filepath.Join(dir, name) }
func (osFS) dir(name string) string                { return filepath.Dir(name) }
func (osFS) isAbs(name string) bool                { return filepath.IsAbs(name) }
func (osFS) native() bool                          { return true }
func (osFS) key(name string) string {
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return filepath.Clean(name)
}

type ioFS struct{ fsys fs.FS }

func (f ioFS) readFile(name string) ([]byte, fs.FileInfo, error) {
	info, err := fs.Stat(f.fsys, name)
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	data, err := fs.ReadFile(f.fsys, name)
	if err != nil {
		return nil, nil, err
	}
	return data, info, nil
}

func (f ioFS) stat(name string) (fs.FileInfo, error) { return fs.Stat(f.fsys, name) }
func (f ioFS) glob(pattern string) ([]string, error) { return fs.Glob(f.fsys, pattern) }
func (ioFS) join(dir, name string) string            { return path.Join(dir, name) }
func (ioFS) dir(name string) string                  { return path.Dir(name) }
func (ioFS) isAbs(name string) bool                  { return path.IsAbs(name) }
func (ioFS) key(name string) string                  { return path.Clean(name) }
func (ioFS) native() bool                            { return false }

// errNotRegular says that a path names a directory or a device, not a file.
var errNotRegular = notRegular{}

type notRegular struct{}

func (notRegular) Error() string { return "not a regular file" }

// hasMeta reports whether pattern has glob metacharacters.
func hasMeta(pattern string) bool {
	return strings.ContainsAny(pattern, `*?[\`)
}

// expand returns the regular files pattern names, sorted: the file itself for a plain path
// that exists, the matches of a glob. A plain path that names a directory is an error; glob
// matches that are not regular files are skipped, as Asterisk skips them.
func expand(fsys fileSystem, pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		info, err := fsys.stat(pattern)
		if errorsIsNotExist(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !info.Mode().IsRegular() {
			return nil, errNotRegular
		}
		return []string{pattern}, nil
	}
	matches, err := fsys.glob(pattern)
	if err != nil {
		return nil, err
	}
	out := matches[:0]
	for _, m := range matches {
		if info, err := fsys.stat(m); err == nil && info.Mode().IsRegular() {
			out = append(out, m)
		}
	}
	return out, nil
}
