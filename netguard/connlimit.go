package netguard

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// ConnLimits configures LimitListener.
type ConnLimits struct {
	// PerIP is the most connections one client IP may hold open at once
	// (<= 0: no per-IP cap).
	PerIP int
	// IPv6Prefix groups IPv6 clients by this prefix length for PerIP
	// (default 64: one customer usually holds a whole /64, so counting
	// single addresses would let it open 2^64 times the cap).
	IPv6Prefix int
	// Total is the most connections open at once from all clients
	// (<= 0: no total cap). It also bounds the listener's per-IP table.
	Total int
	// Exempt, when set, lifts the per-IP cap for some peers (trusted
	// proxies, whose connections carry many clients). The total cap still
	// applies to them.
	Exempt func(netip.Addr) bool
	// Metrics, when set, counts refused and open connections.
	Metrics *ListenerMetrics
}

// LimitListener wraps ln so that connections over the limits are closed
// immediately after accept, before any byte is read (so before a TLS
// handshake or an HTTP request costs anything). The client sees a closed
// connection. The per-IP table holds only addresses with open
// connections, so it never exceeds the number of open connections (and
// Total, when set).
func LimitListener(ln net.Listener, lim ConnLimits) *Listener {
	return &Listener{Listener: ln, lim: lim, perIP: map[netip.Addr]int{}}
}

// Listener is a connection-capping net.Listener (see LimitListener).
type Listener struct {
	net.Listener
	lim     ConnLimits
	mu      sync.Mutex
	perIP   map[netip.Addr]int
	total   int
	refused atomic.Uint64
}

// Accept returns the next connection within the limits; connections over
// them are closed and not returned.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer := peerAddr(c)
		addr := l.key(peer)
		exempt := !peer.IsValid() || (l.lim.Exempt != nil && l.lim.Exempt(peer))
		if reason := l.admit(addr, exempt); reason != "" {
			l.refused.Add(1)
			if m := l.lim.Metrics; m != nil {
				m.Refused.WithLabelValues(reason).Inc()
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // reset: no TIME_WAIT for refused connections
			}
			_ = c.Close()
			continue
		}
		return &limitedConn{Conn: c, l: l, addr: addr}, nil
	}
}

// Open returns the number of connections currently open through l.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Tracked returns the number of client addresses with open connections.
func (l *Listener) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.perIP)
}

// Refused returns how many connections the limits have closed so far.
func (l *Listener) Refused() uint64 { return l.refused.Load() }

func (l *Listener) admit(a netip.Addr, exempt bool) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lim.Total > 0 && l.total >= l.lim.Total {
		return "total"
	}
	if l.lim.PerIP > 0 && !exempt && l.perIP[a] >= l.lim.PerIP {
		return "per_ip"
	}
	l.total++
	l.perIP[a]++
	if m := l.lim.Metrics; m != nil {
		m.Open.Inc()
	}
	return ""
}

func (l *Listener) release(a netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if m := l.lim.Metrics; m != nil {
		m.Open.Dec()
	}
	if n := l.perIP[a] - 1; n > 0 {
		l.perIP[a] = n
	} else {
		delete(l.perIP, a)
	}
}

// key is the address a connection is counted under: IPv6 masked to
// IPv6Prefix bits.
func (l *Listener) key(a netip.Addr) netip.Addr {
	if !a.Is6() {
		return a
	}
	bits := l.lim.IPv6Prefix
	if bits <= 0 || bits > 128 {
		bits = 64
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return a
	}
	return p.Addr()
}

func peerAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return normalize(ta.AddrPort().Addr())
	}
	return ParseAddr(c.RemoteAddr().String())
}

// limitedConn gives its slot back once, on the first Close.
type limitedConn struct {
	net.Conn
	l    *Listener
	addr netip.Addr
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.addr) })
	return err
}

// NetConn returns the wrapped connection.
func (c *limitedConn) NetConn() net.Conn { return c.Conn }
