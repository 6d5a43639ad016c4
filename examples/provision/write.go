package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/gosorcery/gosorcery/backends/config"
)

// writeConf writes objs to w in pjsip.conf syntax, in the order given: a comment naming the
// source, then for each object a [id] category, type= first, then its options in order, a
// repeated option as repeated lines. A ';' in an id or a value is written \;. An id, a name
// or a value that pjsip.conf cannot hold (a line feed, white space at either end of a value
// …) fails the whole write, every such problem listed, and nothing is written.
func writeConf(w io.Writer, source string, objs []*object) error {
	var (
		b  bytes.Buffer
		ps problems
	)
	fmt.Fprintf(&b, "; PJSIP objects exported by gosorcery's provision tool from %s\n", source)
	var last *objectType
	for _, o := range objs {
		if o.typ != last {
			fmt.Fprintf(&b, "\n; %s\n", o.typ.name)
			last = o.typ
		}
		if why := badID(o.id); why != "" {
			ps = append(ps, problemf(o.where, "%s: the id %s", o, why))
			continue
		}
		fmt.Fprintf(&b, "\n[%s]\ntype=%s\n", escape(o.id), o.typ.name)
		for i, f := range o.fields {
			if why := badName(f.Name); why != "" {
				ps = append(ps, problemf(o.fieldAt(i), "%s: option %q %s", o, f.Name, why))
				continue
			}
			if why := badValue(f.Value); why != "" {
				ps = append(ps, problemf(o.fieldAt(i), "%s: the value of %s %s", o, f.Name, why))
				continue
			}
			line := optionLine(f.Name, f.Value)
			if len(line) > config.MaxLineLength {
				ps = append(ps, problemf(o.fieldAt(i), "%s: the line of %s would be %d bytes long, over the limit of %d",
					o, f.Name, len(line), config.MaxLineLength))
				continue
			}
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	if len(ps) > 0 {
		return ps
	}
	_, err := w.Write(b.Bytes())
	return err
}

// optionLine returns name=value with value escaped. A value that starts with '>' gets a
// space before it, so that the line is not read as name => value.
func optionLine(name, value string) string {
	if strings.HasPrefix(value, ">") {
		return name + "= " + escape(value)
	}
	return name + "=" + escape(value)
}

// escape returns s with every ';' written \;, which Asterisk reads as a literal semicolon
// instead of the start of a comment. Only the backslash right before a ';' is consumed, so
// no other character needs escaping.
func escape(s string) string { return strings.ReplaceAll(s, ";", `\;`) }

// isConfSpace reports whether c is white space that Asterisk trims from names and values.
func isConfSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// badText says why s cannot be written on one line of a configuration file, or "".
func badText(s string) string {
	switch {
	case strings.ContainsAny(s, "\n\r\x00"):
		return "holds a line break or a NUL byte, which pjsip.conf cannot hold"
	case s != "" && (isConfSpace(s[0]) || isConfSpace(s[len(s)-1])):
		return "has white space at an end, which pjsip.conf trims"
	}
	return ""
}

// badID says why id cannot be a category name, or "".
func badID(id string) string {
	switch {
	case id == "":
		return "is empty"
	case strings.Contains(id, "]"):
		return "holds ']', which ends a category name"
	}
	return badText(id)
}

// badName says why name cannot be an option name, or "".
func badName(name string) string {
	switch {
	case name == "":
		return "has no name"
	case strings.ContainsAny(name, "=;"):
		return "holds '=' or ';'"
	case strings.HasSuffix(name, "+"):
		return "ends with '+', which would make the line a += line"
	case strings.ContainsAny(name[:1], "[#\\"):
		return "starts with '[', '#' or '\\', which pjsip.conf reads differently"
	case strings.EqualFold(name, "type"):
		return "is type, which names the object's type"
	}
	return badText(name)
}

// badValue says why value cannot be an option value, or "".
func badValue(value string) string { return badText(value) }
