// Command provision moves PJSIP objects between an Asterisk pjsip.conf and Asterisk's
// realtime SQL tables (ps_endpoints, ps_auths, ps_aors …) on SQLite, PostgreSQL or MySQL,
// through gosorcery's backends, and shows the difference between two such sources.
//
//	provision import pjsip.conf [-db sqlite:provision.db] [-replace] [-ignore-unknown]
//	provision export [-db …] [-types endpoint,auth,aor] > pjsip.conf
//	provision diff pjsip.conf sqlite:provision.db
//
// Run "provision help" for every flag; README.md tells the rules in full.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// Exit statuses. diff answers like diff(1): 0 when the sources hold the same objects, 1 when
// they differ, 2 when it could not tell.
const (
	exitOK      = 0
	exitFailure = 1 // the command failed (import, export), or the sources differ (diff)
	exitUsage   = 2 // bad command line, or diff could not compare
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program's name) and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run with a context, which an interrupt cancels.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "import":
		return runImport(ctx, args[1:], stdout, stderr)
	case "export":
		return runExport(ctx, args[1:], stdout, stderr)
	case "diff":
		return runDiff(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "provision: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

// usage prints the commands and their flags.
func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  provision import [flags] <pjsip.conf>   store pjsip.conf's objects in realtime tables
  provision export [flags] > pjsip.conf   write the tables' objects in pjsip.conf syntax
  provision diff [flags] <a> <b>          compare two sources (pjsip.conf files or databases)
  provision help                          show this text

A database is one of:
  sqlite:PATH                                 SQLite database file (the default: `+defaultDB+`)
  postgres://user:pass@host:5432/db?…         PostgreSQL (postgresql:// too)
  mysql://user:pass@host:3306/db?…            MySQL or MariaDB (or mysql:user:pass@tcp(host)/db)
A diff source is a database, or a path: a pjsip.conf, or an SQLite database file.

`)
	for _, c := range []struct {
		name string
		fs   *flag.FlagSet
	}{
		{"import", importFlags(new(importOptions))},
		{"export", exportFlags(new(exportOptions))},
		{"diff", diffFlags(new(diffOptions))},
	} {
		fmt.Fprintf(w, "Flags of %s:\n", c.name)
		c.fs.SetOutput(w)
		c.fs.PrintDefaults()
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, `Exit status: 0 on success; 1 when import or export fails, or when diff finds differences;
2 on a bad command line, or when diff cannot compare.
`)
}

// parseArgs parses args with fs, flags and positional arguments in any order ("--" ends the
// flags), and returns the positional arguments. A parse error has already been reported.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a flag set for a command that reports errors to stderr.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseCommand parses a command's flags and checks its number of positional arguments,
// reporting a mistake to stderr. ok is false when the command must not run; code is then
// its exit status.
func parseCommand(fs *flag.FlagSet, args []string, want int, synopsis string, stderr io.Writer) (pos []string, code int, ok bool) {
	pos, err := parseArgs(fs, args)
	switch {
	case err == flag.ErrHelp:
		fmt.Fprintf(stderr, "Usage: provision %s\n", synopsis)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return nil, exitOK, false
	case err != nil:
		fmt.Fprintf(stderr, "provision %s: %v\nUsage: provision %s (provision help for more)\n", fs.Name(), err, synopsis)
		return nil, exitUsage, false
	case len(pos) != want:
		fmt.Fprintf(stderr, "provision %s: want %s, got %d%s\nUsage: provision %s\n",
			fs.Name(), plural(want, "argument"), len(pos), listArgs(pos), synopsis)
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

// listArgs returns ": a b" for the arguments given, or "".
func listArgs(pos []string) string {
	if len(pos) == 0 {
		return ""
	}
	return ": " + strings.Join(pos, " ")
}

// parseTypes parses a -types list: type names separated by commas. An empty list means
// every realtime type.
func parseTypes(list string) ([]*objectType, error) {
	if strings.TrimSpace(list) == "" {
		return realtimeTypes(), nil
	}
	var out []*objectType
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		t := lookupType(name)
		if t == nil {
			return nil, fmt.Errorf("-types: unknown type %q; known types: %s", name, typeNames(types))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}
