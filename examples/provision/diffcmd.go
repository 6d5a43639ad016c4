package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// diffOptions are the flags of diff.
type diffOptions struct {
	types string
	quiet bool
}

const diffSynopsis = "diff [-types LIST] [-q] <a> <b>"

func diffFlags(o *diffOptions) *flag.FlagSet {
	fs := newFlagSet("diff")
	fs.StringVar(&o.types, "types", "", "compare only these types, comma separated (default: every realtime type)")
	fs.BoolVar(&o.quiet, "q", false, "only tell whether the sources differ")
	return fs
}

func runDiff(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o diffOptions
	pos, code, ok := parseCommand(diffFlags(&o), args, 2, diffSynopsis, stderr)
	if !ok {
		return code
	}
	differ, err := diff(ctx, pos[0], pos[1], &o, stdout, stderr)
	switch {
	case err != nil:
		report(stderr, err)
		return exitUsage
	case differ:
		return exitFailure
	}
	return exitOK
}

// diff compares the sources a and b and writes their differences to stdout. It reports
// whether they differ.
func diff(ctx context.Context, a, b string, o *diffOptions, stdout, stderr io.Writer) (bool, error) {
	ts, err := parseTypes(o.types)
	if err != nil {
		return false, err
	}
	setA, nameA, err := loadSource(ctx, a, ts, o.types != "")
	if err != nil {
		return false, err
	}
	setB, nameB, err := loadSource(ctx, b, ts, o.types != "")
	if err != nil {
		return false, err
	}
	ds := diffSets(setA, setB)
	if len(ds) == 0 {
		return false, nil
	}
	if o.quiet {
		_, err := fmt.Fprintf(stdout, "%s and %s differ\n", nameA, nameB)
		return true, err
	}
	if err := writeDiff(stdout, nameA, nameB, ds); err != nil {
		return true, err
	}
	st := countDiffs(ds)
	fmt.Fprintf(stderr, "provision: %s differ: %d only in %s, %d only in %s, %d changed\n",
		plural(st.total(), "object"), st.onlyA, nameA, st.onlyB, nameB, st.changed)
	return true, nil
}

// loadSource reads the objects of types ts from a source: a database spec, an SQLite
// database file, or a pjsip.conf. The options are those that take effect. A database that
// lacks the table of a type has none of its objects, or is an error when strict is set. It
// returns the objects and the source's name for messages.
func loadSource(ctx context.Context, s string, ts []*objectType, strict bool) (*objectSet, string, error) {
	if !isDBSpec(s) && isSQLiteFile(s) {
		s = "sqlite:" + s
	}
	if !isDBSpec(s) {
		set, err := loadConf(ctx, s)
		if err != nil {
			return nil, "", err
		}
		return set.only(ts), s, nil
	}
	db, err := openDB(ctx, s, false)
	if err != nil {
		return nil, "", err
	}
	defer db.close()
	set, err := db.load(ctx, ts, strict, false)
	if err != nil {
		return nil, "", err
	}
	return set, db.spec.name, nil
}
