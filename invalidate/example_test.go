package invalidate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/sorcery"
)

func ExampleEncode() {
	b, err := invalidate.Encode(sorcery.Invalidation{Type: "endpoint", ID: "alice", Change: sorcery.Deleted})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output: {"v":1,"type":"endpoint","id":"alice","change":"deleted"}
}

func ExampleDecode() {
	// What the PostgreSQL trigger of package pgnotify sends.
	inv, err := invalidate.Decode([]byte(`{"v" : 1, "type" : "aor", "id" : "bob", "change" : "changed"}`))
	fmt.Println(inv.Type, inv.ID, inv.Change, err)

	_, err = invalidate.Decode([]byte(`{"v":2,"type":"aor","id":"bob","change":"changed"}`))
	fmt.Println(errors.Is(err, errors.ErrInvalid))
	// Output:
	// aor bob changed <nil>
	// true
}

func ExampleBackoff() {
	b := invalidate.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}
	for n := range 6 {
		fmt.Print(b.Ceiling(n), " ")
	}
	fmt.Println()
	// Output: 100ms 200ms 400ms 800ms 1.6s 2s
}

// A Source runs any Subscriber; here, one that hands over two payloads, as a bus would,
// and delivers them to a *sorcery.Sorcery.
func ExampleNewSource() {
	s := sorcery.New(nil)
	defer s.Close()
	if _, err := sorcery.Register[struct {
		ID string `sorcery:"id"`
	}](s, "endpoint", nil); err != nil {
		panic(err)
	}

	delivered := make(chan struct{})
	sub := invalidate.SubscriberFunc(func(ctx context.Context, sink *invalidate.Sink) error {
		sink.Ready() // subscribed: the Source marks the types stale, to catch up
		sink.Deliver([]byte(`{"v":1,"type":"endpoint","id":"alice","change":"changed"}`))
		sink.Deliver([]byte(`not an invalidation`))
		close(delivered)
		<-ctx.Done()
		return ctx.Err()
	})
	src, err := invalidate.NewSource(sub, s, nil)
	if err != nil {
		panic(err)
	}
	<-delivered
	src.Close()
	st := src.Stats()
	fmt.Printf("connects=%d received=%d malformed=%d\n", st.Connects, st.Received, st.Malformed)
	// Output: connects=1 received=1 malformed=1
}
