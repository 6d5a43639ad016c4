package astconf

import (
	"crypto/sha256"
	"io/fs"
	"slices"
	"time"
)

// racyWindow is how close to the moment a file was read its modification time must be for
// the time to be distrusted: a write in the same clock tick as the read leaves size and time
// unchanged on file systems with coarse timestamps.
const racyWindow = 2 * time.Second

// source is one file read, as it was when it was read.
type source struct {
	path    string
	size    int64
	modTime time.Time
	sum     [sha256.Size]byte
	racy    bool // modified so close to being read that size and time prove nothing
}

func newSource(path string, info fs.FileInfo, data []byte, readAt time.Time) source {
	mt := info.ModTime()
	return source{
		path:    path,
		size:    info.Size(),
		modTime: mt,
		sum:     sha256.Sum256(data),
		racy:    mt.IsZero() || readAt.Sub(mt) < racyWindow,
	}
}

// includeRecord is one #include or #tryinclude pattern and the files it matched.
type includeRecord struct {
	pattern string
	matches []string
}

// Changed reports whether parsing the file again could give a different result:
//
//   - a file that was read has a different size or modification time and different contents
//     (a file only touched, or rewritten with the same bytes, is unchanged), or it was
//     modified so close to the moment it was read that its time cannot be trusted and its
//     contents differ, or it can no longer be read;
//   - an #include or #tryinclude pattern now matches a different list of files (a file
//     added to an included directory, a #tryinclude file that appeared);
//   - an #exec ran: its output is never assumed unchanged, as in Asterisk.
//
// It reads no file whose size and time are unchanged and trustworthy, and parses nothing.
// For a File from [Parse], the top file's own contents are not checked: they were never read
// from a file system.
func (f *File) Changed() bool {
	if f.hasExec {
		return true
	}
	for i := range f.sources {
		if f.sources[i].changed(f.fsys) {
			return true
		}
	}
	for _, inc := range f.includes {
		matches, err := expand(f.fsys, inc.pattern)
		if err != nil || !slices.Equal(matches, inc.matches) {
			return true
		}
	}
	return false
}

func (s *source) changed(fsys fileSystem) bool {
	info, err := fsys.stat(s.path)
	if err != nil || !info.Mode().IsRegular() {
		return true
	}
	if !s.racy && info.Size() == s.size && info.ModTime().Equal(s.modTime) {
		return false
	}
	data, _, err := fsys.readFile(s.path)
	if err != nil {
		return true
	}
	return sha256.Sum256(data) != s.sum
}
