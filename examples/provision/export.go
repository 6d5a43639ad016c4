package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// exportOptions are the flags of export.
type exportOptions struct {
	db     string
	types  string
	output string
}

const exportSynopsis = "export [-db DATABASE] [-types LIST] [-o FILE]"

func exportFlags(o *exportOptions) *flag.FlagSet {
	fs := newFlagSet("export")
	fs.StringVar(&o.db, "db", defaultDB, "the database to read")
	fs.StringVar(&o.types, "types", "", "export only these types, comma separated; each must have its table (default: every realtime type whose table exists)")
	fs.StringVar(&o.output, "o", "", "write to this file, replaced as a whole once complete (default: standard output)")
	return fs
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o exportOptions
	if _, code, ok := parseCommand(exportFlags(&o), args, 0, exportSynopsis, stderr); !ok {
		return code
	}
	if err := export(ctx, &o, stdout, stderr); err != nil {
		report(stderr, err)
		return exitFailure
	}
	return exitOK
}

// export writes the objects of the database o names in pjsip.conf syntax, sorted by type and
// id, each object's options as the table holds them.
func export(ctx context.Context, o *exportOptions, stdout, stderr io.Writer) error {
	ts, err := parseTypes(o.types)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, o.db, false)
	if err != nil {
		return err
	}
	defer db.close()
	set, err := db.load(ctx, ts, o.types != "", true)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeConf(&buf, db.spec.name, set.sorted()); err != nil {
		return err
	}
	if o.output == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else if err := writeFileAtomic(o.output, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "provision: exported %s from %s\n", set.count(), db.spec.name)
	return nil
}

// writeFileAtomic writes data to a new file next to path, then renames it over path, so that
// path holds either its old contents or all of data.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
