// Package testdb opens the databases that tests of SQL wizards run against, names their
// tables, and stands a loopback TCP proxy between a test and a server so that the test can
// cut the server off.
//
// PostgreSQL and MySQL/MariaDB are found through environment variables:
//
//	SORCERY_TEST_POSTGRES_DSN  e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	SORCERY_TEST_MYSQL_DSN     e.g. root@tcp(127.0.0.1:3306)/test
//
// A test whose variable is unset, or whose server does not answer, is skipped with a message
// saying so, unless SORCERY_TEST_REQUIRE_DB=1, which makes it fail: CI sets it, so that a
// database test can never pass by skipping. SQLite needs nothing: each test gets a database
// file of its own in a temporary directory.
//
// Tests share the servers with each other and with other packages' tests running at the same
// time, so every test works on tables of its own, named by [Name], and drops them when it
// ends.
//
// This package is for tests only; it imports the drivers (pgx, go-sql-driver/mysql,
// modernc.org/sqlite), which the library itself never does.
package testdb
