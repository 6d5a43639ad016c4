// Package pjsipgen writes large pjsip.conf files for benchmarks and load tests: n users, each
// an endpoint, an auth and an aor sharing the user's id, written flat (no templates) with the
// options a provisioned phone usually has.
package pjsipgen

import (
	"bufio"
	"fmt"
	"io"
)

// FirstID is the id of the first user; the others follow it.
const FirstID = 100000

// Write writes a pjsip.conf of n users to w: 3n objects.
func Write(w io.Writer, n int) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "; %d users: an endpoint, an auth and an aor each\n", n)
	for i := range n {
		id := FirstID + i
		fmt.Fprintf(b, "\n[%d]\ntype=endpoint\ncontext=users\ndisallow=all\nallow=ulaw\nallow=alaw\nallow=g722\n"+
			"auth=%d\naors=%d\ncallerid=\"User %d\" <%d>\nmailboxes=%d@default\ndirect_media=no\n"+
			"rtp_symmetric=yes\nforce_rport=yes\nrewrite_contact=yes\nlanguage=en\ndtmf_mode=rfc4733\n",
			id, id, id, id, id, id)
		fmt.Fprintf(b, "\n[%d]\ntype=auth\nauth_type=userpass\nusername=%d\npassword=pw-%d-%x\n", id, id, id, id*7919)
		fmt.Fprintf(b, "\n[%d]\ntype=aor\nmax_contacts=%d\nremove_existing=yes\nqualify_frequency=60\n", id, 1+i%3)
	}
	return b.Flush()
}
