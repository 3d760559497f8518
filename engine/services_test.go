package engine

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// counted is a shared service that counts its Close calls.
type counted struct {
	id     int
	closes atomic.Int32
}

func (c *counted) Close() error { c.closes.Add(1); return nil }

var (
	testKeyA = NewKey[*counted]("engine-test.a")
	testKeyB = NewKey[*counted]("engine-test.b")
	testKeyI = NewKey[fmt.Stringer]("engine-test.stringer")
)

func TestPoolReferenceCounting(t *testing.T) {
	pool := NewPool()
	made := 0
	create := func() (*counted, error) { made++; return &counted{id: made}, nil }

	gen1 := pool.Holder()
	a1, shared, err := Acquire(gen1, testKeyA, create)
	if err != nil || !shared || a1.id != 1 {
		t.Fatalf("first acquire: %v %v %+v", err, shared, a1)
	}
	// The next configuration takes the same value (one construction).
	gen2 := pool.Holder()
	a2, _, err := Acquire(gen2, testKeyA, create)
	if err != nil || a2 != a1 || made != 1 {
		t.Fatalf("second acquire made a new value: %v made=%d", err, made)
	}
	if got := pool.Refs()[testKeyA.String()]; got != 2 {
		t.Fatalf("refs = %d, want 2", got)
	}
	// Retiring the first keeps the value for the second.
	if err := gen1.Release(); err != nil {
		t.Fatal(err)
	}
	if a1.closes.Load() != 0 || pool.Refs()[testKeyA.String()] != 1 {
		t.Fatalf("closed while still used: closes=%d refs=%v", a1.closes.Load(), pool.Refs())
	}
	// A release twice does not drop another holder's reference.
	if err := gen1.Release(); err != nil || pool.Refs()[testKeyA.String()] != 1 {
		t.Fatalf("second Release: %v, refs %v", err, pool.Refs())
	}
	if _, _, err := Acquire(gen1, testKeyA, create); !errors.Is(err, ErrReleased) {
		t.Fatalf("acquire after release: %v", err)
	}
	if _, ok := Use(gen1, testKeyA); ok {
		t.Fatal("Use after release found a value")
	}
	// The last reference closes it, once.
	if err := gen2.Release(); err != nil {
		t.Fatal(err)
	}
	if a1.closes.Load() != 1 || len(pool.Refs()) != 0 {
		t.Fatalf("closes=%d refs=%v after the last release", a1.closes.Load(), pool.Refs())
	}
	// Constructed anew once nothing held it.
	gen3 := pool.Holder()
	a3, _, _ := Acquire(gen3, testKeyA, create)
	if a3 == a1 || made != 2 {
		t.Fatal("a released value was handed out again")
	}
	gen3.Release()
}

func TestPoolProvideUse(t *testing.T) {
	pool := NewPool()
	gw := pool.Holder()
	v := &counted{id: 7}
	if err := Provide(gw, testKeyB, v, nil); err != nil {
		t.Fatal(err)
	}
	if err := Provide(gw, testKeyB, &counted{}, nil); err == nil {
		t.Fatal("a second Provide of the same key succeeded")
	}
	if got := pool.Refs()[testKeyB.String()]; got != 1 {
		t.Fatalf("refs after a refused Provide = %d, want 1", got)
	}
	gen := pool.Holder()
	got, ok := Use(gen, testKeyB)
	if !ok || got != v {
		t.Fatal("Use did not find the provided value")
	}
	if _, ok := Use(gen, testKeyA); ok {
		t.Fatal("Use found an absent key")
	}
	if h := gen.Held(); len(h) != 1 || h[0] != testKeyB.String() {
		t.Fatalf("held = %v", h)
	}
	gen.Release()
	gw.Release()
	// close nil: the provider closes it, not the pool.
	if v.closes.Load() != 0 || len(pool.Refs()) != 0 {
		t.Fatalf("closes=%d refs=%v", v.closes.Load(), pool.Refs())
	}
	if err := Provide[fmt.Stringer](pool.Holder(), testKeyI, nil, nil); err == nil {
		t.Fatal("nil value provided")
	}
	if len(pool.Refs()) != 0 {
		t.Fatalf("a refused nil left %v", pool.Refs())
	}
}

func TestPoolNilServices(t *testing.T) {
	var s *Services
	v, shared, err := Acquire(s, testKeyA, func() (*counted, error) { return &counted{id: 1}, nil })
	if err != nil || shared || v == nil {
		t.Fatalf("nil services: %v %v %v", v, shared, err)
	}
	if _, ok := Use(s, testKeyA); ok {
		t.Fatal("nil services found something")
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestPoolFailedConstruction(t *testing.T) {
	pool := NewPool()
	h := pool.Holder()
	boom := errors.New("boom")
	if _, _, err := Acquire(h, testKeyA, func() (*counted, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, _, err := Acquire(h, testKeyA, func() (*counted, error) { panic("bad") }); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("panic: err = %v", err)
	}
	if len(pool.Refs()) != 0 || len(h.Held()) != 0 {
		t.Fatalf("a failed construction left refs %v, held %v", pool.Refs(), h.Held())
	}
	// A constructor may take other services through the same holder
	// (the identity service takes the store).
	if err := Provide(h, testKeyB, &counted{id: 2}, nil); err != nil {
		t.Fatal(err)
	}
	v, _, err := Acquire(h, testKeyA, func() (*counted, error) {
		b, ok := Use(h, testKeyB)
		if !ok {
			return nil, errors.New("no b")
		}
		return &counted{id: b.id + 1}, nil
	})
	if err != nil || v.id != 3 {
		t.Fatalf("nested acquire: %v %+v", err, v)
	}
	if refs := pool.Refs(); refs[testKeyB.String()] != 2 || refs[testKeyA.String()] != 1 {
		t.Fatalf("refs = %v", refs)
	}
	h.Release()
	if v.closes.Load() != 1 || len(pool.Refs()) != 0 {
		t.Fatalf("closes=%d refs=%v", v.closes.Load(), pool.Refs())
	}
}

// Many holders acquiring and releasing at once (run with -race): one value
// at a time, closed exactly when the last reference goes.
func TestPoolConcurrent(t *testing.T) {
	pool := NewPool()
	var made, closed atomic.Int32
	var live sync.Map
	create := func() (*counted, error) {
		made.Add(1)
		c := &counted{}
		live.Store(c, true)
		return c, nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				h := pool.Holder()
				v, _, err := Acquire(h, testKeyA, create)
				if err != nil {
					t.Error(err)
					return
				}
				if v.closes.Load() != 0 {
					t.Error("handed out a closed value")
				}
				h.Release()
			}
		}()
	}
	wg.Wait()
	live.Range(func(k, _ any) bool {
		if n := k.(*counted).closes.Load(); n != 1 {
			t.Errorf("a value was closed %d times", n)
		}
		closed.Add(1)
		return true
	})
	if closed.Load() != made.Load() || len(pool.Refs()) != 0 {
		t.Fatalf("made %d, closed %d, refs %v", made.Load(), closed.Load(), pool.Refs())
	}
}

func TestNewKeyOnce(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a second key of the same name was accepted")
		}
	}()
	NewKey[int](testKeyA.String())
}
