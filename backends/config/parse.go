package config

import (
	"context"

	"github.com/gosorcery/gosorcery/internal/astconf"
)

// File is a parsed configuration file: its categories in order, each with its variables in
// order and the file and line of each. See [ParseFile].
type File = astconf.File

// Category is one [name] section of a configuration file.
type Category = astconf.Category

// Variable is one name = value line of a configuration file, with its file and line.
type Variable = astconf.Variable

// ParseError is an error in a configuration file: what is wrong, and at which file and line.
// It matches errors.ErrInvalid (and fs.ErrNotExist for a missing #include). Its message
// reads "sorcery: pjsip.conf:12: what is wrong".
type ParseError = astconf.Error

// ParseOptions adjust parsing; a nil *ParseOptions reads from the operating system's file
// system and refuses #exec.
type ParseOptions = astconf.Options

// Limits of the parser.
const (
	// MaxLineLength is the longest line accepted, in bytes, without its line feed
	// (Asterisk's limit).
	MaxLineLength = astconf.MaxLineLength
	// MaxIncludeDepth is how many files one chain of #include may have open at once, the top
	// file included (Asterisk's limit).
	MaxIncludeDepth = astconf.MaxIncludeDepth
	// MaxCommentDepth is how deeply ;-- --; block comments may nest (Asterisk's limit).
	MaxCommentDepth = astconf.MaxCommentDepth
	// DefaultMaxVariables bounds the variables of one parse when ParseOptions.MaxVariables is
	// zero.
	DefaultMaxVariables = astconf.DefaultMaxVariables
	// DefaultExecTimeout bounds an #exec command when ParseOptions.ExecTimeout is zero.
	DefaultExecTimeout = astconf.DefaultExecTimeout
)

// ParseFile reads and parses the Asterisk configuration file at path and the files it
// includes. The package documentation describes the syntax. An error in the file is a
// [*ParseError] naming the file and line.
func ParseFile(path string, opts *ParseOptions) (*File, error) {
	return astconf.ParseFile(path, opts)
}

// ParseFileContext is [ParseFile] with a context, which bounds #exec commands and is checked
// before each file is read.
func ParseFileContext(ctx context.Context, path string, opts *ParseOptions) (*File, error) {
	return astconf.ParseFileContext(ctx, path, opts)
}

// Parse parses src as the contents of a file called name: name appears in error messages,
// and #include paths resolve relative to its directory.
func Parse(name string, src []byte, opts *ParseOptions) (*File, error) {
	return astconf.Parse(name, src, opts)
}

// ParseContext is [Parse] with a context.
func ParseContext(ctx context.Context, name string, src []byte, opts *ParseOptions) (*File, error) {
	return astconf.ParseContext(ctx, name, src, opts)
}
