// Package sorceryhttp is an operator's view of a [sorcery.Sorcery] over HTTP: what Asterisk
// gives through its "sorcery memory cache" CLI commands and AMI actions, as an http.Handler
// with a JSON API and an HTML page to read at a glance during an outage.
//
// Like net/http/pprof and expvar it registers nothing by itself: the caller mounts the
// handler where it likes, behind its own authentication, for example
//
//	mux.Handle("/debug/sorcery/", http.StripPrefix("/debug/sorcery", authenticate(sorceryhttp.New(s, nil))))
//
// Every path below is relative to that mount point.
//
//	GET  /                                        the HTML page: each type's chain, a red line
//	                                              for a cache covering for an outage, the
//	                                              objects it serves past a failed refresh, and
//	                                              the actions as buttons
//	GET  /types/{type}/caches/{cache}             the HTML page of one cache's entries, paged
//	GET  /api/types                               every type: its chain of wizards (counters,
//	                                              last error class) and caches (options, stats)
//	GET  /api/types/{type}                        one type
//	GET  /api/types/{type}/caches/{cache}/entries one cache's entries with their states, paged:
//	                                              ?limit=1..1000 (default 100), ?cursor= the
//	                                              previous page's next, ?state=extended …
//	                                              ("sorcery memory cache dump")
//	GET  /api/types/{type}/objects/{id}           one object's state in each cache of its type
//	POST /api/types/{type}/caches/{cache}/expire  object=<id>: SorceryMemoryCacheExpireObject;
//	                                              without object: SorceryMemoryCacheExpire
//	POST /api/types/{type}/caches/{cache}/stale   object=<id> [reload=yes]:
//	                                              SorceryMemoryCacheStaleObject; without object:
//	                                              SorceryMemoryCacheStale
//	POST /api/types/{type}/caches/{cache}/populate SorceryMemoryCachePopulate
//
// Reads are GET (or HEAD) only and change nothing; actions are POST only, refused with 403 in
// read-only mode ([Options.ReadOnly]), and checked by [net/http.CrossOriginProtection]: a
// browser's cross-origin form post is refused, so a page elsewhere cannot make an operator's
// browser act. Action parameters come from the query or from a form body. A browser's form
// post (Accept: text/html) is answered with a redirect to the page, any other client with
// JSON. Errors are answered with a 4xx or 5xx status and a JSON body {"error": "…"} naming
// what was wrong.
//
// No answer carries an object's field values — ids, states, clocks and counters only, and
// the class of a wizard's last error, never its text — unless [Options.ShowFields] names
// fields whose values the object's answer may show.
//
// A Handler is safe for concurrent use; it reads the Sorcery at every request and holds no
// goroutine.
package sorceryhttp
