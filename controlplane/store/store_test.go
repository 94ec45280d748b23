package store

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// TestReopen: what Commit acknowledged is in the file after Close and Open,
// in the order it was queued (later writes of a key win), deletes included.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eplink.db")
	s, err := Open(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Commit([]Op{{Bucket: "a", Key: fmt.Sprintf("k%02d", i), Value: []byte("v")}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := s.Commit([]Op{{Bucket: "a", Key: "k00", Value: nil}, {Bucket: "a", Key: "k01", Value: []byte("x")}, {Bucket: "a", Key: "k01", Value: []byte("y")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(nil); err == nil {
		t.Fatal("Commit after Close succeeded")
	}
	s, err = Open(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[string]string{}
	s.ForEach("a", func(k, v []byte) error { got[string(k)] = string(v); return nil })
	if len(got) != 49 || got["k01"] != "y" || got["k49"] != "v" {
		t.Fatalf("after reopen: %d keys, k01=%q", len(got), got["k01"])
	}
	if _, ok := got["k00"]; ok {
		t.Fatal("deleted key is back")
	}
}
