package realtime

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astconf"
)

// Mapping is one line of extconfig.conf's [settings]: a family served by a driver from a
// database's table, at a priority.
type Mapping struct {
	Family   string // the family, such as "ps_endpoints", as written
	Driver   string // the driver, such as "pgsql", "odbc" or "curl", as written
	Database string // the database name, or the curl driver's base URL
	Table    string // the table; the family when the line names none
	Priority int    // 1 is tried first
	File     string // where the line is, when it came from a file
	Line     int
}

// String returns the mapping as extconfig.conf writes it. A database holding a comma or
// white space at its ends is quoted; one holding a double quote cannot be written.
func (m Mapping) String() string {
	db := m.Database
	if strings.ContainsAny(db, `,"`) || strings.TrimSpace(db) != db {
		db = `"` + db + `"`
	}
	return fmt.Sprintf("%s => %s,%s,%s,%d", m.Family, m.Driver, db, m.Table, m.Priority)
}

// ParseMapping parses the value of an extconfig.conf line for family, as Asterisk's
// read_config_maps does: "driver,database[,table[,priority]]". The database may be quoted
// (its quotes are removed, and a comma inside them is kept); a missing table is the family;
// a missing, empty, zero or non-numeric priority is 1, and a number followed by other text
// counts as the number (atoi). Unlike Asterisk, white space around each field is trimmed and
// a negative priority is errors.ErrInvalid rather than a line never used.
func ParseMapping(family, value string) (Mapping, error) {
	m := Mapping{Family: strings.TrimSpace(family)}
	if m.Family == "" {
		return Mapping{}, errors.Errorf("realtime: mapping %q has no family: %w", value, errors.ErrInvalid)
	}
	driver, rest, ok := strings.Cut(value, ",")
	if !ok {
		return Mapping{}, errors.Errorf("realtime: %s => %q: want driver,database[,table[,priority]]: %w", m.Family, value, errors.ErrInvalid)
	}
	m.Driver = strings.TrimSpace(driver)
	// As Asterisk: a double quote anywhere in the rest starts a quoted database.
	if q := strings.IndexByte(rest, '"'); q >= 0 {
		db, after, closed := strings.Cut(rest[q+1:], `"`)
		if !closed {
			return Mapping{}, errors.Errorf("realtime: %s => %q: unterminated quote: %w", m.Family, value, errors.ErrInvalid)
		}
		m.Database = db
		_, rest, ok = strings.Cut(after, ",")
		if !ok {
			rest = ""
		}
	} else {
		var db string
		db, rest, ok = strings.Cut(rest, ",")
		m.Database = strings.TrimSpace(db)
		if !ok {
			rest = ""
		}
	}
	if m.Driver == "" || m.Database == "" {
		return Mapping{}, errors.Errorf("realtime: %s => %q: no driver or no database: %w", m.Family, value, errors.ErrInvalid)
	}
	table, pri, _ := strings.Cut(rest, ",")
	pri, _, _ = strings.Cut(pri, ",")
	m.Table = strings.TrimSpace(table)
	if m.Table == "" {
		m.Table = m.Family
	}
	m.Priority = atoi(strings.TrimSpace(pri))
	if m.Priority < 0 {
		return Mapping{}, errors.Errorf("realtime: %s => %q: negative priority: %w", m.Family, value, errors.ErrInvalid)
	}
	if m.Priority == 0 {
		m.Priority = 1
	}
	return m, nil
}

// atoi reads a leading decimal integer as C's atoi does, 0 when there is none; values out
// of range saturate.
func atoi(s string) int {
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	digits := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == digits {
		return 0
	}
	n, err := strconv.ParseInt(s[:end], 10, 32)
	if err != nil {
		if s[0] == '-' {
			return -1
		}
		return 1<<31 - 1
	}
	return int(n)
}

// Config is extconfig.conf's realtime families.
type Config struct {
	file     *astconf.File        // nil when built from mappings
	families map[string][]Mapping // lower-case family → its chain, by priority
	names    map[string]string    // lower-case family → the family as first written
}

// reserved are the families Asterisk refuses to bind: its own configuration files.
var reserved = []string{"extconfig.conf", "asterisk.conf", "logger.conf"}

// ReadConfig reads extconfig.conf at path through Asterisk's configuration syntax
// (#include and templates work) and returns its families. Only the [settings] section
// counts, as in Asterisk.
func ReadConfig(path string) (*Config, error) {
	f, err := astconf.ParseFile(path, nil)
	if err != nil {
		return nil, err
	}
	return configOf(f)
}

// ParseConfig parses extconfig.conf's text; name is used in error messages.
func ParseConfig(name string, src []byte) (*Config, error) {
	f, err := astconf.Parse(name, src, nil)
	if err != nil {
		return nil, err
	}
	return configOf(f)
}

func configOf(f *astconf.File) (*Config, error) {
	var ms []Mapping
	if settings := f.Category("settings"); settings != nil {
		for _, v := range settings.Vars {
			m, err := ParseMapping(v.Name, v.Value)
			if err != nil {
				return nil, &astconf.Error{File: v.File, Line: v.Line, Err: err}
			}
			m.File, m.Line = v.File, v.Line
			ms = append(ms, m)
		}
	}
	c := NewConfig(ms)
	c.file = f
	return c, nil
}

// NewConfig builds the families from mappings in the order extconfig.conf would list them.
// As in Asterisk: a family is matched without regard to case; a later mapping of a family at
// a priority replaces an earlier one; the chain runs from priority 1 up to the first missing
// priority; "iaxfriends" maps "iaxusers" and "iaxpeers" (to a table named after the old
// family unless one is given; main/config.c, which no longer aliases "sipfriends" since
// chan_sip is gone: it is a family like any other); the families
// extconfig.conf, asterisk.conf and logger.conf are ignored.
func NewConfig(mappings []Mapping) *Config {
	c := &Config{families: map[string][]Mapping{}, names: map[string]string{}}
	byPriority := map[string]map[int]Mapping{}
	add := func(m Mapping) {
		k := strings.ToLower(m.Family)
		if byPriority[k] == nil {
			byPriority[k] = map[int]Mapping{}
			c.names[k] = m.Family
		}
		byPriority[k][m.Priority] = m
	}
	for _, m := range mappings {
		if slices.Contains(reserved, m.Family) {
			continue
		}
		switch strings.ToLower(m.Family) {
		case "iaxfriends":
			add(renamed(m, "iaxusers"))
			add(renamed(m, "iaxpeers"))
		default:
			add(m)
		}
	}
	for k, prios := range byPriority {
		var chain []Mapping
		for p := 1; ; p++ {
			m, ok := prios[p]
			if !ok {
				break
			}
			chain = append(chain, m)
		}
		if len(chain) > 0 {
			c.families[k] = chain
		}
	}
	return c
}

// renamed returns m for another family. Its table stays: ParseMapping made a missing table
// the old family's name, as Asterisk does here.
func renamed(m Mapping, family string) Mapping {
	m.Family = family
	return m
}

// Family returns the chain of a family, priority 1 first, or nil when it has none. The
// family matches without regard to case.
func (c *Config) Family(name string) []Mapping {
	return slices.Clone(c.families[strings.ToLower(strings.TrimSpace(name))])
}

// Families returns the names of the families that have a chain, as first written, sorted
// without regard to case.
func (c *Config) Families() []string {
	keys := make([]string, 0, len(c.families))
	for k := range c.families {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = c.names[k]
	}
	return names
}

// changed reports whether the files the configuration was read from changed since.
func (c *Config) changed() bool {
	return c.file != nil && c.file.Changed()
}

// path returns the file the configuration was read from, or "".
func (c *Config) path() string {
	if c.file == nil || len(c.file.Files) == 0 {
		return ""
	}
	return c.file.Name
}
