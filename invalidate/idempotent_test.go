package invalidate_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/internal/testbus"
	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/sorcery"
)

func endpoint(id, context string) sorcery.Record {
	return sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: "context", Value: context}}}
}

func encode(t *testing.T, id string, c sorcery.Change) []byte {
	t.Helper()
	b, err := invalidate.Encode(sorcery.Invalidation{Type: "endpoint", ID: id, Change: c})
	require.NoError(t, err)
	return b
}

// TestRepeatedInvalidationsConvergeAndUnknownIDsCostNothing delivers every invalidation more
// than once, as an at-least-once bus may, to a cache in front of a source: the cache ends
// where one delivery would have left it, and ids it does not hold cost no source call.
func TestRepeatedInvalidationsConvergeAndUnknownIDsCostNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := memory.New()
		src.Put(endpoint("alice", "v0"))
		cl := testbus.NewCluster(t, 1, src)
		cl.RequireServing(t, "alice", "v0")

		bus := make(chan []byte)
		sub := invalidate.SubscriberFunc(func(ctx context.Context, sink *invalidate.Sink) error {
			sink.Ready()
			for {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case p := <-bus:
					sink.Deliver(p)
				}
			}
		})
		s, err := invalidate.NewSource(sub, cl.Instances[0].Sorcery, &invalidate.SourceOptions{Logger: testbus.Quiet()})
		require.NoError(t, err)
		defer s.Close()
		<-s.Ready()
		synctest.Wait()

		src.Put(endpoint("alice", "v1"))
		src.ResetCalls()
		for range 3 {
			bus <- encode(t, "alice", sorcery.Changed)
		}
		synctest.Wait()
		cl.RequireServing(t, "alice", "v1")
		calls := src.Calls().Retrieve
		assert.GreaterOrEqual(t, calls, int64(1), "a changed object is refreshed")
		assert.LessOrEqual(t, calls, int64(3), "at most one refresh per delivery")

		src.ResetCalls()
		bus <- encode(t, "nobody", sorcery.Changed)
		bus <- encode(t, "nobody", sorcery.Deleted)
		synctest.Wait()
		assert.Zero(t, src.Calls().Retrieve, "an id no cache holds is ignored")

		src.Remove("alice")
		bus <- encode(t, "alice", sorcery.Deleted)
		bus <- encode(t, "alice", sorcery.Deleted)
		synctest.Wait()
		cl.RequireServing(t, "alice", "")
		bus <- encode(t, "alice", sorcery.Deleted)
		synctest.Wait()
		cl.RequireServing(t, "alice", "")

		st := s.Stats()
		assert.EqualValues(t, 8, st.Received)
		assert.Zero(t, st.Ignored)
	})
}
