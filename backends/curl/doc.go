// Package curl speaks Asterisk's res_config_curl protocol: [Wizard] is a client of an HTTP
// provisioning service that tells a missing object from a failing service, and [NewHandler]
// serves any [sorcery.Wizard] over the same protocol, so that a provisioning service written
// in Go answers Asterisk and this library alike.
//
// # The protocol
//
// Every operation appends to a base URL and, except static, POSTs an
// application/x-www-form-urlencoded body:
//
//	POST <base>/single            id=alice                   one object: one row, or an empty body
//	POST <base>/multi             id%20LIKE=%25              many objects: one row per line
//	POST <base>/store             id=alice&context=default   create; answers a row count
//	POST <base>/update?id=alice   context=default            update; answers a row count
//	POST <base>/destroy           id=alice&                  delete; answers a row count
//	GET  <base>/static?file=pjsip.conf                       a configuration file, one variable per line
//
// Names and values are escaped as Asterisk's ast_uri_encode escapes them: every byte except
// A-Z a-z 0-9 - _ . ! ~ * ' ( ) becomes %XX with uppercase hex, so a space is %20, never +.
// A lookup operator travels in the name after a space: "id LIKE" is sent as id%20LIKE, and a
// name without one means equality.
//
// A reply row is name=value pairs joined by &. The reply's trailing whitespace is trimmed;
// /single reads the first row, /multi every line, blank lines skipped. Pairs split at their
// first =, %XX is decoded and a + stays a + (Asterisk's decoding), and a repeated name is a
// multi-valued field, its values in order. A write answers with a decimal number: the rows
// it changed, -1 or text for a failure.
//
// # Records on the wire
//
// The id travels as the field "id" and is the [sorcery.Record] ID; every other pair is a
// [sorcery.Field], in order, a repeated name giving repeated fields. An empty value means
// "unset" in Asterisk's realtime: such a pair is left out of the record. A value of a single
// space means "explicitly empty": it becomes a field whose Value is "". Going the other way,
// a field whose Value is "" is sent as a single space; a field that is unset is simply not
// in the record. A value that is exactly one space therefore cannot travel: it arrives as "".
//
// A reply row without an id, with two ids, or with a field name holding a control character,
// and a reply holding a NUL byte, is not a record: errors.ErrInvalid.
//
// # Failure and absence
//
// Asterisk reads any failure as "no such object"; this client does not:
//
//   - (Record{}, false, nil), absence: an empty 200 body, or 404, from /single.
//   - errors.ErrUnavailable, failure: a refused connection, a DNS error, a connect or request
//     timeout (the wizard's own or the ctx's, which then also matches ctx.Err()), a reply cut
//     short, HTTP 5xx, 429 and the statuses listed in Options.FailureCodes.
//   - errors.ErrInvalid: a 200 body that does not parse, or one longer than
//     Options.MaxReplyBytes, which is read no further.
//   - Other statuses (3xx not followed, 400, 401, 403, …) are a [StatusError] without a class.
//
// Writes read the row count: more than 0 is success; 0 is errors.ErrExists for a create and
// errors.ErrNotFound for an update or a delete (as is a 404); -1 or text is an error.
//
// # Searching
//
// [Wizard.Search] sends Asterisk's forms — every object is "id LIKE=%", a prefix "id
// LIKE=<prefix>%", a regular expression an SQL LIKE approximation ("^abc" is "abc%",
// otherwise "%abc%") — and then applies the query exactly to the rows that come back, so the
// result is exact whatever the service makes of LIKE. The approximation only ever widens:
// it uses the literal text the expression is sure to contain, and stops at a backslash.
//
// # Connections and lifetime
//
// A Wizard keeps its connections alive and reuses them; it is safe for concurrent use.
// Transport concerns (connect timeout, proxy, TLS, redirects) belong to the *http.Client in
// Options.Client; without one the wizard builds its own. [Wizard.Close] closes the idle
// connections of the wizard's own client, or of the one [ReadConfig] built, and those of
// requests still under way as they finish; later calls return errors.ErrClosed. Any other
// Client passed in [Options] is the caller's and is not closed.
//
// [ReadConfig] reads res_curl.conf into [Options]: protocol options into its fields, the
// TLS, proxy, conntimeout and redirect options into a Client it builds. docs/asterisk.md
// lists every option and protocol rule with how it is supported.
package curl
