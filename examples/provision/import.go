package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/gosorcery/gosorcery/sorcery"
)

// importOptions are the flags of import.
type importOptions struct {
	db            string
	types         string
	replace       bool
	ignoreUnknown bool
	createTables  bool
	dryRun        bool
	progress      string

	afterBatch func(n int) // called after each batch of n writes is made, for tests
}

const importSynopsis = "import [-db DATABASE] [-types LIST] [-replace] [-ignore-unknown] [-create-tables=false] [-dry-run] [-progress MODE] <pjsip.conf>"

func importFlags(o *importOptions) *flag.FlagSet {
	fs := newFlagSet("import")
	fs.StringVar(&o.db, "db", defaultDB, "the database to write to")
	fs.StringVar(&o.types, "types", "", "import only these types, comma separated (default: every realtime type)")
	fs.BoolVar(&o.replace, "replace", false, "update objects that exist with other options (default: such an object is an error)")
	fs.BoolVar(&o.ignoreUnknown, "ignore-unknown", false, "skip options the table has no column for, with a warning (default: they are errors)")
	fs.BoolVar(&o.createTables, "create-tables", true, "create the tables that are missing, from the shipped schema")
	fs.BoolVar(&o.dryRun, "dry-run", false, "show what would be written, and write nothing")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	return fs
}

// action is what import does with an object.
type action int

const (
	actCreate    action = iota // the table does not have it
	actUpdate                  // the table has it with other options
	actUnchanged               // the table has it as it is
)

// step is the import of one object.
type step struct {
	obj *object
	rec sorcery.Record
	at  []location // where each field of rec was written
	act action
	old *object // what the table holds, for an update
}

// tally counts what import did with the objects of one type.
type tally struct {
	created, updated, unchanged int
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o importOptions
	pos, code, ok := parseCommand(importFlags(&o), args, 1, importSynopsis, stderr)
	if !ok {
		return code
	}
	if err := importConf(ctx, pos[0], &o, stdout, stderr); err != nil {
		report(stderr, err)
		return exitFailure
	}
	return exitOK
}

// importConf imports the pjsip.conf at path as o says. Every problem of the file is
// reported before anything is written.
func importConf(ctx context.Context, path string, o *importOptions, stdout, stderr io.Writer) error {
	ts, err := parseTypes(o.types)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if !t.realtime() {
			return fmt.Errorf("-types: type %s has no realtime table: %s", t.name, t.why)
		}
	}
	if !slices.Contains([]string{"auto", "always", "never"}, o.progress) {
		return fmt.Errorf("-progress=%s: want auto, always or never", o.progress)
	}
	set, err := loadConf(ctx, path)
	if err != nil {
		return err
	}
	all := set.sorted()
	var (
		objs    []*object // to import
		skipped []*object // of a type that has no table
		left    []*object // of a realtime type not in -types
	)
	for _, obj := range all {
		switch {
		case !obj.typ.realtime():
			skipped = append(skipped, obj)
		case !slices.Contains(ts, obj.typ):
			left = append(left, obj)
		default:
			objs = append(objs, obj)
		}
	}

	db, err := openDB(ctx, o.db, !o.dryRun)
	if err != nil {
		return err
	}
	defer db.close()

	var created []string
	for _, t := range ts {
		if !slices.ContainsFunc(objs, func(obj *object) bool { return obj.typ == t }) {
			continue
		}
		ok, err := db.tableExists(ctx, t)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if o.dryRun {
			return fmt.Errorf("database %s has no table %s for the %s objects of %s, and a dry run creates none", db.spec.name, t.table, t.name, path)
		}
		if !o.createTables {
			return fmt.Errorf("database %s has no table %s for the %s objects of %s; let import create it: -create-tables", db.spec.name, t.table, t.name, path)
		}
		if err := db.createTable(ctx, t); err != nil {
			return err
		}
		created = append(created, t.table)
	}

	steps, warnings, err := plan(ctx, db, objs, o)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "provision: warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	if o.dryRun {
		return writePlan(stdout, steps)
	}
	toWrite := 0
	for _, s := range steps {
		if s.act != actUnchanged {
			toWrite++
		}
	}
	bar, err := newProgress(stderr, o.progress, "importing", toWrite)
	if err != nil {
		return err
	}
	err = writeSteps(ctx, db, steps, func(n int) {
		bar.add(n)
		if o.afterBatch != nil {
			o.afterBatch(n)
		}
	})
	bar.finish()
	if err != nil {
		return err
	}
	counts := make(map[*objectType]*tally)
	for _, t := range ts {
		counts[t] = new(tally)
	}
	for _, s := range steps {
		c := counts[s.obj.typ]
		switch s.act {
		case actCreate:
			c.created++
		case actUpdate:
			c.updated++
		default:
			c.unchanged++
		}
	}
	return writeSummary(stdout, path, db.spec.name, ts, counts, created, skipped, left)
}

// plan decides what to do with each object, and checks them all against their tables
// first: every problem is reported at once, and nothing is written when there is one.
// Warnings are about what is dropped on the way (empty values, and unknown options with
// -ignore-unknown).
func plan(ctx context.Context, db *database, objs []*object, o *importOptions) ([]step, []problem, error) {
	var (
		steps    []step
		warnings []problem
		ps       problems
		existing = make(map[*objectType]*objectSet)
		cols     = make(map[*objectType]map[string]bool)
	)
	for _, obj := range objs {
		t := obj.typ
		w, err := db.wizard(ctx, t)
		if err != nil {
			return nil, warnings, err
		}
		if existing[t] == nil {
			have, err := db.load(ctx, []*objectType{t}, true, false)
			if err != nil {
				return nil, warnings, err
			}
			existing[t] = have
			cols[t] = columns(w)
		}
		rec, at, warns, errs := record(obj, cols[t], w.Table(), o.ignoreUnknown)
		warnings = append(warnings, warns...)
		if len(errs) > 0 {
			ps = append(ps, errs...)
			continue
		}
		s := step{obj: obj, rec: rec, at: at, act: actCreate}
		if old := existing[t].get(t, obj.id); old != nil {
			stored := &object{typ: t, id: obj.id, fields: rec.Fields}
			s.old = old
			switch {
			case len(diffObjects(old, stored)) == 0:
				s.act = actUnchanged
			case o.replace:
				s.act = actUpdate
			default:
				ps = append(ps, problemf(obj.where, "%s exists in %s with other options; -replace updates it", obj, t.table))
				continue
			}
		}
		steps = append(steps, s)
	}
	if len(ps) > 0 {
		return nil, warnings, ps
	}
	return steps, warnings, nil
}

// record returns the record obj is stored as in table, whose columns are cols, and where
// each of its fields was written, with the problems that stop it from being stored and the
// warnings about what is dropped.
func record(obj *object, cols map[string]bool, table string, ignoreUnknown bool) (sorcery.Record, []location, []problem, []problem) {
	var (
		warns, errs []problem
		rec         = sorcery.Record{ID: obj.id}
		recAt       []location
		sawAllow    bool
	)
	codecs := slices.Contains(obj.typ.multi, "disallow")
	for i, f := range obj.fields {
		at := obj.fieldAt(i)
		switch {
		case f.Name == "id":
			errs = append(errs, problemf(at, "%s: option id= cannot be stored: the id column holds the category name", obj))
			continue
		case !cols[f.Name]:
			if ignoreUnknown {
				warns = append(warns, problemf(at, "%s: option %s skipped: table %s has no column for it", obj, f.Name, table))
			} else {
				errs = append(errs, problemf(at, "%s: option %s: table %s has no column for it (-ignore-unknown skips it)", obj, f.Name, table))
			}
			continue
		case f.Value == "":
			warns = append(warns, problemf(at, "%s: option %s= skipped: it is empty, and an empty column is no option, so it takes its default", obj, f.Name))
			continue
		case codecs && f.Name == "allow":
			sawAllow = true
		case codecs && f.Name == "disallow" && sawAllow:
			errs = append(errs, problemf(at, "%s: disallow=%s comes after allow=, but Asterisk applies a realtime row's disallow before its allow; move it above the allow= lines", obj, f.Value))
			continue
		}
		rec.Fields = append(rec.Fields, f)
		recAt = append(recAt, at)
	}
	return rec, recAt, warns, errs
}

// batchSize is how many writes import sends to a table at once. The progress bar moves
// between batches; all of them are in the import's one transaction.
const batchSize = 1000

// writeSteps makes the writes of steps in one transaction, all or nothing, a batch of
// consecutive objects of one type at a time, and calls done with the number of writes of
// each batch made. Objects that are unchanged are not written.
func writeSteps(ctx context.Context, db *database, steps []step, done func(int)) error {
	var todo []step
	for _, s := range steps {
		if s.act != actUnchanged {
			todo = append(todo, s)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("database %s: %w", db.spec.name, err)
	}
	defer tx.Rollback() // after a Commit, a no-op
	writes := make([]sorcery.Write, 0, min(batchSize, len(todo)))
	for start := 0; start < len(todo); {
		t := todo[start].obj.typ
		end := start
		writes = writes[:0]
		for end < len(todo) && end-start < batchSize && todo[end].obj.typ == t {
			op := sorcery.OperationCreate
			if todo[end].act == actUpdate {
				op = sorcery.OperationUpdate
			}
			writes = append(writes, sorcery.Write{Op: op, Record: todo[end].rec})
			end++
		}
		w, err := db.wizard(ctx, t)
		if err != nil {
			return err
		}
		if err := w.WriteBatchTx(ctx, tx, writes); err != nil {
			return writeFailure(db, todo[start:end], err)
		}
		done(end - start)
		start = end
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("database %s: commit: %w; nothing was written", db.spec.name, err)
	}
	return nil
}

// writeFailure reports a batch of the import that failed with err: at each object the
// database refused, or else as a whole.
func writeFailure(db *database, batch []step, err error) error {
	const after = "nothing was written: the import is one transaction"
	var ps problems
	for _, we := range writeErrors(err) {
		if we.Index >= 0 && we.Index < len(batch) {
			s := batch[we.Index]
			ps = append(ps, problemf(s.obj.where, "%s: table %s refused the %s: %s", s.obj, s.obj.typ.table, we.Op, plain(we.Err)))
		}
	}
	if len(ps) == 0 {
		return fmt.Errorf("database %s: %w; %s", db.spec.name, err, after)
	}
	ps = append(ps, problem{what: after})
	return ps
}

// writeErrors returns every *sorcery.WriteError in err's tree.
func writeErrors(err error) []*sorcery.WriteError {
	var out []*sorcery.WriteError
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) {
		case *sorcery.WriteError:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// writePlan writes what a dry run would do: each object created or updated, with its
// options, as diff shows them.
func writePlan(w io.Writer, steps []step) error {
	var b strings.Builder
	n := 0
	for _, s := range steps {
		stored := &object{typ: s.obj.typ, id: s.obj.id, fields: s.rec.Fields, where: s.obj.where, at: s.at}
		switch s.act {
		case actCreate:
			n++
			line(&b, "create "+s.obj.String(), s.obj.where)
			for i, f := range stored.fields {
				line(&b, "    + "+f.Name+"="+f.Value, stored.at[i])
			}
		case actUpdate:
			n++
			line(&b, "update "+s.obj.String(), s.obj.where)
			for _, d := range diffObjects(s.old, stored) {
				for _, v := range d.a {
					line(&b, "    - "+d.name+"="+v, location{})
				}
				for i, v := range d.b {
					line(&b, "    + "+d.name+"="+v, d.bAt[i])
				}
			}
		}
	}
	fmt.Fprintf(&b, "dry run: %d of %d objects would be written, nothing was\n", n, len(steps))
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSummary writes what import did, type by type, and what it left in pjsip.conf.
func writeSummary(w io.Writer, path, dbName string, ts []*objectType, counts map[*objectType]*tally,
	created []string, skipped, left []*object) error {
	var b strings.Builder
	fmt.Fprintf(&b, "imported %s into %s\n", path, dbName)
	for _, table := range created {
		fmt.Fprintf(&b, "  created table %s\n", table)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  type\ttable\tcreated\tupdated\tunchanged\n")
	var total tally
	for _, t := range ts {
		c := counts[t]
		if c.created+c.updated+c.unchanged == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\n", t.name, t.table, c.created, c.updated, c.unchanged)
		total.created += c.created
		total.updated += c.updated
		total.unchanged += c.unchanged
	}
	fmt.Fprintf(tw, "  total\t\t%d\t%d\t%d\n", total.created, total.updated, total.unchanged)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "not imported, as they have no realtime table (keep them in pjsip.conf):\n")
		for _, obj := range skipped {
			fmt.Fprintf(&b, "  %s  (%s): %s\n", obj, obj.where, obj.typ.why)
		}
	}
	if len(left) > 0 {
		byType := newObjectSet()
		for _, obj := range left {
			byType.add(obj)
		}
		fmt.Fprintf(&b, "not imported, as -types leaves them out: %s\n", byType.count())
	}
	_, err := io.WriteString(w, b.String())
	return err
}
