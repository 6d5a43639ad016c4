// Package astvalue reads and writes the values Asterisk's configuration and sorcery objects
// hold: truth values, whole seconds and counts, durations, and SQL LIKE patterns. It is the
// one rule set the codec, the cache options, the config wizard and res_curl.conf reading
// share, so that a value means the same wherever it is written.
//
// The rules follow Asterisk where Asterisk is exact, and are stricter where Asterisk is
// lenient: Asterisk's ast_true and ast_false (main/utils.c) answer "neither" for a word they
// do not know, and most callers then read it as false; sscanf("%30u") (res_sorcery_memory_cache.c)
// stops at the first character that is not a digit, so "60s" is 60 and "1.5" is 1. Here such
// values are errors, which callers report as errors.ErrInvalid naming the option, because a
// typo that silently turns an option off is worse than a refused configuration.
//
// Errors returned here carry no library prefix and no value: the caller adds the option's
// name and wraps them.
package astvalue
