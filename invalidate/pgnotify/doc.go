// Package pgnotify carries cache invalidations over PostgreSQL LISTEN/NOTIFY: a source that
// LISTENs, a [Publisher] that calls pg_notify, and trigger SQL that announces every change
// made to the realtime tables, by any tool — psql, Asterisk itself, a provisioning program.
//
// # Channel and payload
//
// One channel carries every type (default [DefaultChannel], "sorcery_invalidate"); the type
// is in the payload, which is the wire encoding of package invalidate:
//
//	{"v" : 1, "type" : "endpoint", "id" : "alice", "change" : "changed"}
//
// A source configured with Types drops the other types' invalidations.
//
// # Triggers
//
// The trigger function sorcery_notify() ([FunctionSQL]) is attached to a table with the
// object type as its argument, and optionally the channel and the id column:
//
//	CREATE TRIGGER sorcery_notify AFTER INSERT OR UPDATE OR DELETE ON ps_endpoints
//	    FOR EACH ROW EXECUTE FUNCTION sorcery_notify('endpoint');
//
// INSERT and UPDATE announce the id changed, DELETE announces it deleted, and an UPDATE that
// changes the id announces the old id deleted and the new one changed. Notifications are sent
// when the transaction commits. TRUNCATE is not announced. The file ps_tables.sql
// ([PSTablesSQL]) installs the function and the triggers of Asterisk's ps_endpoints (type
// endpoint), ps_auths (auth), ps_aors (aor) and ps_contacts (contact); [Install] and
// [InstallSQL] do the same for any list of [Table]s and channel. Every change is announced,
// including an UPDATE that changes nothing: invalidations are idempotent.
//
// # Outages
//
// The source holds one connection. It checks an idle connection with a ping every
// PingInterval, and when the connection fails it reconnects with backoff and marks its types
// stale in the target, which catches up what was announced meanwhile (PostgreSQL does not
// keep notifications for a listener that is away). See package invalidate.
//
// # Concurrency
//
// A source runs one goroutine, stopped by Close. A Publisher is safe for concurrent use when
// its [Execer] is. There is no package-level state; the SQL is embedded.
package pgnotify
