package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openHooked opens a store whose transactions go through hook, which gets
// the real db.Update to call (or not).
func openHooked(t *testing.T, hook func(real func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) error) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "eplink.db")
	s, err := Open(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	real := s.update
	s.update = func(fn func(*bolt.Tx) error) error { return hook(real, fn) }
	return s, path
}

func readAll(t *testing.T, path string) map[string]string {
	t.Helper()
	s, err := Open(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[string]string{}
	s.ForEach("a", func(k, v []byte) error { got[string(k)] = string(v); return nil })
	return got
}

// TestFsyncIsOn: bbolt fsyncs each commit before Update returns unless told
// not to; a store opened with NoSync would acknowledge writes a crash
// loses, and nothing else at this level would notice.
func TestFsyncIsOn(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "eplink.db"), "a")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.db.NoSync || s.db.NoGrowSync {
		t.Fatalf("store opened with NoSync=%v NoGrowSync=%v: commits are not durable when acknowledged", s.db.NoSync, s.db.NoGrowSync)
	}
}

// TestAckWaitsForDurability: Commit returns only after the transaction that
// carries its writes is durable; held in the hook, the commit is not
// acknowledged; when the transaction fails, the caller hears it, and so does
// every later caller (nothing after a failed fsync is acknowledged).
func TestAckWaitsForDurability(t *testing.T) {
	release := make(chan struct{})
	fail := false
	s, path := openHooked(t, func(real func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) error {
		<-release
		if fail {
			return errors.New("fsync: input/output error")
		}
		return real(fn)
	})
	ack := s.Enqueue([]Op{{Bucket: "a", Key: "k", Value: []byte("v1")}})
	select {
	case err := <-ack:
		t.Fatalf("acknowledged (%v) before the commit was durable", err)
	case <-time.After(100 * time.Millisecond):
	}
	release <- struct{}{}
	if err := <-ack; err != nil {
		t.Fatal(err)
	}
	fail = true
	ack = s.Enqueue([]Op{{Bucket: "a", Key: "k", Value: []byte("v2")}})
	release <- struct{}{}
	if err := <-ack; err == nil {
		t.Fatal("a commit whose transaction failed was acknowledged")
	}
	if err := s.Commit([]Op{{Bucket: "a", Key: "k", Value: []byte("v3")}}); err == nil {
		t.Fatal("a commit after a failed one was acknowledged")
	}
	close(release)
	s.Close()
	if got := readAll(t, path)["k"]; got != "v1" {
		t.Fatalf("after reopen k=%q, want the acknowledged v1", got)
	}
}

// TestLaterWritesWinInOneBatch: writes queued by many callers while a
// commit is in progress go into the next transaction together, and are
// applied in the order they were queued: the last write of a key wins.
func TestLaterWritesWinInOneBatch(t *testing.T) {
	first := make(chan struct{})
	release := make(chan struct{})
	var calls int
	s, path := openHooked(t, func(real func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) error {
		calls++
		if calls == 1 {
			close(first)
			<-release
		}
		return real(fn)
	})
	held := s.Enqueue([]Op{{Bucket: "a", Key: "k", Value: []byte("first")}})
	<-first // the committer is inside the first transaction
	// Callers queue one after another (each starts once the one before
	// has queued), all while the first commit is held.
	const n = 50
	acks := make([]<-chan error, n)
	turn := make(chan struct{})
	for i := 0; i < n; i++ {
		next := make(chan struct{})
		go func(i int, mine, next chan struct{}) {
			<-mine
			acks[i] = s.Enqueue([]Op{
				{Bucket: "a", Key: "k", Value: []byte(fmt.Sprintf("v%02d", i))},
				{Bucket: "a", Key: fmt.Sprintf("own%02d", i), Value: []byte("x")},
			})
			close(next)
		}(i, turn, next)
		if i == 0 {
			close(turn)
		}
		turn = next
	}
	<-turn
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, ack := range acks {
		if err := <-ack; err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if calls != 2 {
		t.Errorf("%d transactions, want 2 (the held one and one batch)", calls)
	}
	s.Close()
	got := readAll(t, path)
	if got["k"] != fmt.Sprintf("v%02d", n-1) || len(got) != n+1 {
		t.Fatalf("after the batch k=%q and %d keys, want v%02d and %d", got["k"], len(got), n-1, n+1)
	}
}
