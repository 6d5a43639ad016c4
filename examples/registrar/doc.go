// Package registrar is a SIP registrar (RFC 3261 §10) built on github.com/emiago/sipgo whose
// endpoints, auths and AORs come through gosorcery — typically a memory cache in front of an
// HTTP provisioning service speaking Asterisk's res_config_curl protocol — so that phones keep
// registering while the provisioning service is down. Command registrar (cmd/registrar) runs
// it; the package is a library so that tests can start it in-process.
//
// # What it answers
//
// A REGISTER is handled the way Asterisk's res_pjsip handles it, with the PJSIP objects of
// package examples/internal/pjsip:
//
//  1. The endpoint is the one named by the From user (identify_by=username). None: 404 Not
//     Found, without a challenge.
//  2. When the endpoint names auth objects (auth=), the request must carry MD5 digest
//     credentials for one of them: none, or credentials for another realm or under a nonce
//     this registrar did not issue: 401 Unauthorized with a WWW-Authenticate challenge per
//     realm (realm from the auth, else [Options].DefaultRealm; a fresh nonce; qop="auth",
//     answers without qop accepted). The right password under an expired nonce: 401 with
//     stale=true. A wrong password or username under a valid nonce: 403 Forbidden. The
//     password is the auth's password (auth_type=userpass) or its md5_cred (auth_type=md5).
//  3. The AOR is the one of the endpoint's aors= that the To user (or user@host) names.
//     The endpoint has none: 403. The To user is not among them, or the AOR does not
//     exist: 404. The AOR has max_contacts=0, Asterisk's default: 403 (registration not
//     permitted).
//  4. Each Contact's expiration is its expires parameter, else the Expires header, else the
//     AOR's default_expiration; above maximum_expiration it is shortened to it; zero removes
//     the contact; a non-zero expiration below minimum_expiration is refused with 423
//     Interval Too Brief and Min-Expires. "Contact: *" with "Expires: 0" removes every
//     contact; "*" with anything else is 400 Bad Request.
//  5. More contacts than max_contacts: 403. Counted as res_pjsip_registrar's
//     register_aor_core counts them: without remove_existing, the contacts after the request;
//     with it, the request's own (added and refreshed, less removed), the contacts it did not
//     touch then making room, soonest to expire first.
//  6. 200 OK lists every contact of the AOR with its remaining expires, an Expires header
//     when the request had one, and a Date header. A REGISTER without Contact queries the
//     bindings.
//
// When an object cannot be retrieved because its source failed and it is not cached, the
// answer is 503 Service Unavailable with Retry-After — never 404: a failure is not an
// absence. So is a REGISTER whose change to the contacts cannot be stored (the database is
// down): never a 200 for a contact that would be lost.
//
// # Contacts, and a cluster
//
// Contacts are kept through a sorcery contact type ([Sources].Contacts, [OpenContacts]) in
// Asterisk's ps_contacts table, under Asterisk's ids ("<aor>;@<md5 of the URI>", stored as
// "<aor>^3B@…" by the realtime conventions), with uri, expiration_time, reg_server
// ([Options].Name), user_agent, via_addr, via_port, call_id and endpoint: SQLite for one
// registrar, PostgreSQL for a cluster, where every instance reads and writes the same table,
// and answers "where is AOR X registered" ([Registrar.LookupHandler]) from its cache of it,
// which push invalidation keeps fresh ([Contacts] is an invalidate.Target). The contacts of
// an AOR are those whose id starts with "<aor>;@", as Asterisk's location.c finds them.
// Expired contacts are never served, and every instance prunes them from the table
// ([Options].PruneInterval): the first to see one removes it, the others find it gone. A missing or unusable auth object named by an endpoint is a configuration error:
// 500.
//
// # Differences from Asterisk
//
//   - res_pjsip answers an unknown user with a challenge from an "artificial" endpoint, and a
//     wrong password with a new 401 challenge, so that nobody can tell accounts that exist
//     from those that do not. This registrar answers as RFC 3261 §10.3 describes and as the
//     SIP registrars most phones meet do (chan_sip, FreeSWITCH, Kamailio's usual scripts):
//     404 for an unknown user and 403 for a wrong password under a valid nonce, which also
//     stops phones from retrying a wrong password forever. Put it behind rate limiting or
//     fail2ban-style blocking as you would any registrar.
//   - Older res_pjsip versions raise an expiration below minimum_expiration to the minimum
//     silently; this registrar answers 423 as RFC 3261 §10.3 step 7 requires.
//   - Permanent contacts (an AOR's contact=) are not listed, and Path, outbound (RFC 5626),
//     GRUU, qualify (so remove_unavailable) and Call-ID/CSeq ordering of refreshes are not
//     implemented. A contact refreshed keeps its id, URI, Call-ID and Via, as in Asterisk.
//   - The changes to one AOR's contacts are serialized within an instance (Asterisk's named
//     AOR lock), not across a cluster: two instances registering the same AOR at the same
//     moment may each keep a contact past max_contacts until the next registration. Contact URIs compare by an approximation of RFC 3261 §19.1.4 (scheme,
//     user, host, port, and the transport, user, ttl, method and maddr parameters).
//   - Endpoints are identified by the From user alone (not user@domain first), nonces carry
//     no nonce-count replay check (Asterisk's do not either), and only MD5 is offered.
//
// # Logs
//
// Every REGISTER answered logs one line at [Options].Logger: "REGISTER <status> <reason>"
// with outcome (registered, unregistered, queried, challenged, stale_nonce, forbidden,
// not_found, too_brief, bad_request, unavailable, error), user, endpoint, aor, contacts,
// expires, the reason of a refusal, the client's address and Call-ID. Challenges log at
// debug level, failures of the source at warning. With [Options].Health plugged into the
// Sorcery's hooks, each line also says source=ok, or source=failing with the failing types
// and served_from_cache=true on a 200: the registration went through on cached objects while
// the provisioning service was down.
//
// # Concurrency
//
// A Registrar is safe for concurrent use; sipgo answers each request on its own goroutine.
// [Registrar.Close] cancels the lookups in flight (their requests are answered 503), waits
// for the requests being answered, stops the listeners, the SIP stack and its own goroutine
// (the pruning of expired contacts), and waits for them.
package registrar
