package engine

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"sync"
)

// Shared services.
//
// Some state outlives one configuration: the store, the identity service,
// the block cache, the rate limiter's memory backend, the extraction
// layer's per-identity state, the blocklist's throttle counters, the
// incident responder. The gateway owns a Pool of them, reference counted
// like Caddy's UsagePool: each configuration (generation) gets its own
// Services holder through which its layers take references, and the
// gateway releases the holder when the generation is closed (or fails to
// build). A value is closed when its last reference is released, so a
// reload keeps what the new configuration still uses and closes what it
// no longer does, and nothing is closed while a configuration in flight
// still uses it.
//
// Each service has one typed Key, declared once next to its type; a layer
// gets the value as that type (no string keys, no type assertions).

// Key names a shared service of type T. Declare each key once, as a
// package-level variable (NewKey panics on a second key with the same
// name).
type Key[T any] struct{ name string }

var (
	keysMu sync.Mutex
	keys   = map[string]reflect.Type{}
)

// NewKey declares the key of a shared service of type T. It panics if a
// key of that name was declared before: each service is declared once.
func NewKey[T any](name string) Key[T] {
	keysMu.Lock()
	defer keysMu.Unlock()
	if name == "" {
		panic("engine: empty service key")
	}
	if _, dup := keys[name]; dup {
		panic(fmt.Sprintf("engine: service key %q declared twice", name))
	}
	keys[name] = reflect.TypeFor[T]()
	return Key[T]{name: name}
}

// String is the key's name.
func (k Key[T]) String() string { return k.name }

// ErrReleased is returned when a Services holder is used after Release.
var ErrReleased = errors.New("engine: services holder already released")

// Pool holds shared services with a reference count each. The zero value
// is not usable; see NewPool. It is safe for concurrent use.
type Pool struct {
	mu sync.Mutex
	m  map[string]*poolEntry
}

type poolEntry struct {
	v       any
	refs    int
	destroy func() error // nil: the pool does not close the value
	ready   chan struct{}
	err     error // the constructor's error (entry removed)
}

// NewPool returns an empty pool.
func NewPool() *Pool { return &Pool{m: map[string]*poolEntry{}} }

// Holder returns a new, empty holder of references in p. Whoever creates
// a holder owns it and must Release it.
func (p *Pool) Holder() *Services { return &Services{pool: p} }

// Refs returns the number of references to each service in the pool (for
// tests and diagnostics); a service is in the pool only while referenced.
func (p *Pool) Refs() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.m))
	for k, e := range p.m {
		out[k] = e.refs
	}
	return out
}

// acquire takes a reference to the service named name, constructing it
// with create when absent (with a nil create, an absent name is not found
// and nothing is taken). Concurrent callers for an absent name wait for
// one construction; if it fails, they all get its error and hold nothing.
func (p *Pool) acquire(name string, create func() (any, func() error, error)) (any, bool, error) {
	p.mu.Lock()
	if e, ok := p.m[name]; ok {
		e.refs++
		p.mu.Unlock()
		<-e.ready
		if e.err != nil {
			return nil, false, e.err
		}
		return e.v, true, nil
	}
	if create == nil {
		p.mu.Unlock()
		return nil, false, nil
	}
	e := &poolEntry{refs: 1, ready: make(chan struct{})}
	p.m[name] = e
	p.mu.Unlock()

	v, destroy, err := safeCreate(create)
	if err == nil && v == nil {
		err = fmt.Errorf("engine: shared service %s constructed as nil", name)
	}
	p.mu.Lock()
	if err != nil {
		delete(p.m, name)
		e.err = err
	} else {
		e.v, e.destroy = v, destroy
	}
	p.mu.Unlock()
	close(e.ready)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// safeCreate runs create, turning a panic into an error (the placeholder
// entry must not stay in the pool).
func safeCreate(create func() (any, func() error, error)) (v any, destroy func() error, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, destroy, err = nil, nil, fmt.Errorf("engine: shared service constructor panicked: %v", r)
		}
	}()
	return create()
}

// release drops one reference to name and closes the value when it was
// the last.
func (p *Pool) release(name string) error {
	p.mu.Lock()
	e, ok := p.m[name]
	if !ok {
		p.mu.Unlock()
		return fmt.Errorf("engine: release of %q, which the pool does not hold", name)
	}
	e.refs--
	if e.refs > 0 {
		p.mu.Unlock()
		return nil
	}
	delete(p.m, name)
	p.mu.Unlock()
	if e.destroy != nil {
		if err := e.destroy(); err != nil {
			return fmt.Errorf("close shared %s: %w", name, err)
		}
	}
	return nil
}

// Services is one holder's references to shared services: what a
// configuration's layers (or the gateway itself) use. Everything taken
// through it is released by one call to Release. A nil *Services is valid
// and holds nothing: Use finds nothing, and Acquire constructs a value the
// caller owns.
type Services struct {
	pool     *Pool
	mu       sync.Mutex
	held     []string
	released bool
}

// take records the reference get takes (if it finds or makes the
// service) as held by s. get runs without s's lock: a constructor may
// take other services through s.
func (s *Services) take(name string, get func() (any, bool, error)) (any, bool, error) {
	s.mu.Lock()
	released := s.released
	s.mu.Unlock()
	if released {
		return nil, false, ErrReleased
	}
	v, found, err := get()
	if err != nil || !found {
		return v, found, err
	}
	s.mu.Lock()
	if s.released { // released while get ran: give the reference back
		s.mu.Unlock()
		return nil, false, errors.Join(ErrReleased, s.pool.release(name))
	}
	s.held = append(s.held, name)
	s.mu.Unlock()
	return v, found, nil
}

// Held lists the services s holds references to, sorted (a name appears
// once per reference).
func (s *Services) Held() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.held...)
	sort.Strings(out)
	return out
}

// Release drops every reference s holds, newest first, closing the
// services no other holder references. Later calls do nothing; using s
// after Release fails with ErrReleased.
func (s *Services) Release() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	held := s.held
	s.held, s.released = nil, true
	s.mu.Unlock()
	var errs []error
	for i := len(held) - 1; i >= 0; i-- {
		errs = append(errs, s.pool.release(held[i]))
	}
	return errors.Join(errs...)
}

// Provide puts v into the pool under k, referenced by s. close (nil: the
// pool does not close v, its provider does) runs when the last reference
// is released. It fails if k is already in the pool.
func Provide[T any](s *Services, k Key[T], v T, close func() error) error {
	if s == nil {
		return errors.New("engine: Provide on nil services")
	}
	dup := false
	_, _, err := s.take(k.name, func() (any, bool, error) {
		var created bool
		got, found, err := s.pool.acquire(k.name, func() (any, func() error, error) {
			created = true
			return v, close, nil
		})
		if err == nil && !created {
			dup = true
			return nil, false, s.pool.release(k.name)
		}
		return got, found, err
	})
	if dup {
		return fmt.Errorf("engine: shared service %s provided twice", k.name)
	}
	return err
}

// Use takes a reference to the service under k if the pool has it.
func Use[T any](s *Services, k Key[T]) (T, bool) {
	var zero T
	if s == nil {
		return zero, false
	}
	v, found, err := s.take(k.name, func() (any, bool, error) { return s.pool.acquire(k.name, nil) })
	if err != nil || !found {
		return zero, false
	}
	t, ok := v.(T)
	if !ok {
		// Impossible through typed keys (one declaration per name).
		_ = s.dropLast(k.name)
		return zero, false
	}
	return t, true
}

// Acquire takes a reference to the service under k, constructing it with
// create when the pool does not have it; the pool closes it (if it is an
// io.Closer) when its last reference is released. With a nil s, create's
// value is returned with shared false: the caller owns (and closes) it.
func Acquire[T any](s *Services, k Key[T], create func() (T, error)) (v T, shared bool, err error) {
	if s == nil {
		v, err = create()
		return v, false, err
	}
	got, _, err := s.take(k.name, func() (any, bool, error) {
		return s.pool.acquire(k.name, func() (any, func() error, error) {
			t, err := create()
			if err != nil {
				return nil, nil, err
			}
			var destroy func() error
			if c, ok := any(t).(io.Closer); ok {
				destroy = c.Close
			}
			return t, destroy, nil
		})
	})
	if err != nil {
		return v, false, err
	}
	t, ok := got.(T)
	if !ok {
		_ = s.dropLast(k.name)
		return v, false, fmt.Errorf("engine: shared service %s has type %T", k.name, got)
	}
	return t, true, nil
}

// dropLast releases the newest reference to name that s holds.
func (s *Services) dropLast(name string) error {
	s.mu.Lock()
	for i := len(s.held) - 1; i >= 0; i-- {
		if s.held[i] == name {
			s.held = append(s.held[:i], s.held[i+1:]...)
			s.mu.Unlock()
			return s.pool.release(name)
		}
	}
	s.mu.Unlock()
	return nil
}
