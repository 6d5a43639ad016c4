package memory

import (
	"testing"

	"github.com/gosorcery/gosorcery/sorcery"
)

func TestRetrieveNowDeclinesWhileAWriteHoldsTheRecords(t *testing.T) {
	w := New()
	w.Put(sorcery.Record{ID: "alice"})
	w.mu.Lock() // a write in progress
	_, _, _, now := w.RetrieveNow(t.Context(), "alice")
	w.mu.Unlock()
	if now {
		t.Fatal("RetrieveNow answered while a write held the records: it would have waited")
	}
	if n := w.Calls().Retrieve; n != 0 {
		t.Fatalf("a declined call counted %d retrievals", n)
	}
	if _, found, err, now := w.RetrieveNow(t.Context(), "alice"); !now || !found || err != nil {
		t.Fatalf("once the write is done: found %v, err %v, now %v", found, err, now)
	}
}
