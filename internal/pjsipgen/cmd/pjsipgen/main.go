// Command pjsipgen writes a pjsip.conf of many users to stdout, for load tests of provision:
//
//	go run ./internal/pjsipgen/cmd/pjsipgen -users 5000 > users.conf
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gosorcery/gosorcery/internal/pjsipgen"
)

func main() {
	n := flag.Int("users", 5000, "the number of users, each an endpoint, an auth and an aor")
	flag.Parse()
	if *n < 0 {
		fmt.Fprintln(os.Stderr, "pjsipgen: -users must not be negative")
		os.Exit(2)
	}
	if err := pjsipgen.Write(os.Stdout, *n); err != nil {
		fmt.Fprintln(os.Stderr, "pjsipgen:", err)
		os.Exit(1)
	}
}
