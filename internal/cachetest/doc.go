// Package cachetest is shared test support for package cache and the packages built on it
// (cache/snapshot): a fake backend ([Source]) that can be changed, taken down, degraded,
// slowed down (answering what it read before or after the delay) or made to hang, and that
// records every call; a [Recorder] of cache events; and two small helpers for synctest
// bubbles and entry lists.
//
// Every type here is safe for concurrent use, and its zero value is ready to use.
package cachetest
