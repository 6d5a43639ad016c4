// Package realtime serves sorcery objects the way Asterisk's realtime families do: each
// family of extconfig.conf's [settings] section ("ps_endpoints => pgsql,asterisk") is a chain
// of wizards, one per line, tried by priority.
//
//	[settings]
//	ps_endpoints => pgsql,asterisk,ps_endpoints,1
//	ps_endpoints => sqlite3,local,ps_endpoints,2
//	ps_aors => curl,"http://provisioning.example/pjsip/aors"
//
// Each line is family => driver,database[,table[,priority]], with = or =>, the database
// optionally in double quotes, the table defaulting to the family and the priority to 1. As
// in Asterisk, the chain runs from priority 1 up to the first missing priority, and a later
// line at the same priority replaces an earlier one. [ReadConfig], [ParseConfig] and
// [ParseMapping] read it; docs/asterisk.md lists what differs from Asterisk.
//
// # Drivers
//
// The SQL drivers — pgsql, mysql, sqlite3, odbc (whose dialect is detected from the *sql.DB)
// and sqldb — open a backends/sqldb wizard on the line's table, in the *sql.DB that
// [Options].Databases gives for the line's database name: the caller opens the databases,
// with the drivers it chooses. The curl driver opens a backends/curl wizard whose base URL is
// the line's database. [Options].Drivers adds or replaces drivers.
//
// # Failover
//
// A call goes to priority 1 first. An answer ends it: an object, "not found", an empty
// search, or a write's "exists", "not found" or "invalid". Only a failure to answer (an
// error, typically errors.ErrUnavailable) moves it to the next priority. Asterisk moves on
// after "not found" too, so a row deleted from the primary database comes back from a stale
// secondary (Asterisk issue #1305); this package does not. When every priority fails, the
// errors are joined and errors.ErrUnavailable matches when one of them does, so a cache in
// front keeps serving. A caller whose ctx ended is not failed over.
//
// Writes fail over the same way, as Asterisk's realtime store, update and destroy do: a
// write the primary could not take goes to the next priority, which leaves the two sources
// different until someone reconciles them.
//
// # Capabilities, concurrency and lifetime
//
// A [Wizard] implements sorcery.Wizard, sorcery.Searcher, sorcery.Writer, sorcery.Reloader
// and io.Closer, and is safe for concurrent use. Reload re-reads extconfig.conf when it
// changed and rebuilds the chain (keeping the old one when the new one cannot be built), and
// otherwise reloads each wizard of the chain. Close closes the chain's wizards, never the
// caller's databases. [Factory] makes the wizard for sorcery.conf's "realtime" mapping
// lines. The zero Wizard is not usable: open one with [New] or [Config.Open].
package realtime
