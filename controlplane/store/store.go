// Package store keeps the control plane's records in one bbolt file: one
// bucket per kind, JSON values keyed by id.
//
// Commit is a group commit: concurrent callers queue their writes and one
// goroutine applies everything queued so far in a single fsynced bbolt
// transaction, so N concurrent mutating API calls share one fsync instead of
// paying N. Writes are applied in the order they were queued, which is the
// order the caller decided them in (the model queues them under its lock).
package store

import (
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Op is one write: Value nil deletes Key.
type Op struct {
	Bucket string
	Key    string
	Value  []byte
}

// Store is an open bbolt file.
type Store struct {
	db *bolt.DB

	mu      sync.Mutex
	queue   []pending
	wake    chan struct{} // 1-slot: the committer has work
	closing chan struct{}
	done    chan struct{}
	failed  error // sticky: after a failed fsync nothing more is acknowledged

	// update runs one group commit's transaction and returns once it is
	// durable (bbolt fsyncs before Update returns): db.Update, or a test's
	// wrapper that records, delays or fails it.
	update func(func(*bolt.Tx) error) error
}

type pending struct {
	ops  []Op
	done chan error
}

// Open opens (or creates) the file at path and makes sure buckets exist.
func Open(path string, buckets ...string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: 2 * time.Second,
		// Not writing the freelist makes every commit smaller (it is
		// rebuilt by a scan at open, which is fast at our sizes); the map
		// freelist keeps allocation cheap as the file grows.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: the file is locked; is another eplink using this data directory?", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{
		db:      db,
		wake:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		update:  db.Update,
	}
	go s.commitLoop()
	return s, nil
}

// Enqueue queues ops for the next group commit and returns a channel that
// receives the commit's result once the ops are durable (fsynced). Callers
// that need ordering across calls enqueue in that order.
func (s *Store) Enqueue(ops []Op) <-chan error {
	ch := make(chan error, 1)
	s.mu.Lock()
	if s.failed != nil {
		s.mu.Unlock()
		ch <- s.failed
		return ch
	}
	s.queue = append(s.queue, pending{ops: ops, done: ch})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return ch
}

// Commit writes ops durably and returns when they are on disk.
func (s *Store) Commit(ops []Op) error { return <-s.Enqueue(ops) }

// commitLoop is the single writer: it drains the queue into one transaction.
func (s *Store) commitLoop() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
		case <-s.closing:
			s.flush() // whatever was queued before Close still commits
			return
		}
		s.flush()
	}
}

func (s *Store) flush() {
	s.mu.Lock()
	batch := s.queue
	s.queue = nil
	s.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	err := s.update(func(tx *bolt.Tx) error {
		for _, p := range batch {
			for _, op := range p.ops {
				b := tx.Bucket([]byte(op.Bucket))
				if b == nil {
					var err error
					if b, err = tx.CreateBucketIfNotExists([]byte(op.Bucket)); err != nil {
						return err
					}
				}
				var err error
				if op.Value == nil {
					err = b.Delete([]byte(op.Key))
				} else {
					err = b.Put([]byte(op.Key), op.Value)
				}
				if err != nil {
					return fmt.Errorf("%s/%s: %w", op.Bucket, op.Key, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("store commit: %w", err)
		s.mu.Lock()
		s.failed = err
		s.mu.Unlock()
	}
	for _, p := range batch {
		p.done <- err
	}
}

// ForEach calls fn for every key of bucket in key order. The value is only
// valid during the call.
func (s *Store) ForEach(bucket string, fn func(key, value []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(fn)
	})
}

// ErrClosed is returned by Enqueue after Close.
var ErrClosed = errors.New("store closed")

// Close commits what is queued and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.failed == nil {
		s.failed = ErrClosed
	}
	s.mu.Unlock()
	select {
	case <-s.closing:
	default:
		close(s.closing)
	}
	<-s.done
	return s.db.Close()
}
