package netguard

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// acceptLoop accepts on l and hands every accepted connection to out.
func acceptLoop(l net.Listener, out chan<- net.Conn) {
	for {
		c, err := l.Accept()
		if err != nil {
			close(out)
			return
		}
		out <- c
	}
}

// closedByServer reports whether the server closed c (read returns EOF or
// reset) within the timeout.
func closedByServer(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

func TestLimitListenerPerIP(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := NewListenerMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	l := LimitListener(inner, ConnLimits{PerIP: 2, Metrics: m})
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go acceptLoop(l, accepted)

	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1, c2 := dial(), dial()
	s1, s2 := <-accepted, <-accepted
	// The refused connection is reset at once, possibly before the
	// client's connect returns.
	c3, err := net.Dial("tcp", inner.Addr().String())
	if err == nil && !closedByServer(c3, 2*time.Second) {
		t.Fatal("third connection from one IP was not closed")
	}
	if closedByServer(c1, 50*time.Millisecond) || closedByServer(c2, 50*time.Millisecond) {
		t.Fatal("admitted connections were closed")
	}
	if l.Open() != 2 || l.Tracked() != 1 || l.Refused() != 1 {
		t.Fatalf("open %d tracked %d refused %d", l.Open(), l.Tracked(), l.Refused())
	}
	if got := testutil.ToFloat64(m.Refused.WithLabelValues("per_ip")); got != 1 {
		t.Fatalf("per_ip metric %v", got)
	}
	if got := testutil.ToFloat64(m.Open); got != 2 {
		t.Fatalf("open metric %v", got)
	}
	// Closing one frees its slot (closing twice frees it once).
	_ = s1.Close()
	_ = s1.Close()
	c4 := dial()
	s4 := <-accepted
	if _, err := io.WriteString(s4, "x"); err != nil {
		t.Fatal(err)
	}
	if closedByServer(c4, 50*time.Millisecond) {
		t.Fatal("connection after a release was refused")
	}
	_ = s2.Close()
	_ = s4.Close()
	for _, c := range []net.Conn{c1, c2, c3, c4} {
		if c != nil {
			_ = c.Close()
		}
	}
	if l.Open() != 0 || l.Tracked() != 0 {
		t.Fatalf("after closing: open %d tracked %d (the table must shrink)", l.Open(), l.Tracked())
	}
}

func TestLimitListenerTotalAndExempt(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := LimitListener(inner, ConnLimits{PerIP: 1, Total: 3,
		Exempt: func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.1") }})
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go acceptLoop(l, accepted)
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		<-accepted
	}
	// Exempt from the per-IP cap (1), but the total cap (3) still holds.
	c, err := net.Dial("tcp", inner.Addr().String())
	if err == nil && !closedByServer(c, 2*time.Second) {
		t.Fatal("connection over the total cap not closed")
	}
	for _, c := range conns {
		_ = c.Close()
	}
}

func TestListenerKey(t *testing.T) {
	l := LimitListener(nil, ConnLimits{})
	a := l.key(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))
	b := l.key(netip.MustParseAddr("2001:db8:1:2:bbbb::9"))
	c := l.key(netip.MustParseAddr("2001:db8:1:3::1"))
	if a != b || a == c {
		t.Fatalf("IPv6 not grouped by /64: %v %v %v", a, b, c)
	}
	l128 := LimitListener(nil, ConnLimits{IPv6Prefix: 128})
	if l128.key(netip.MustParseAddr("2001:db8::1")) == l128.key(netip.MustParseAddr("2001:db8::2")) {
		t.Fatal("/128 grouped")
	}
	if v4 := netip.MustParseAddr("192.0.2.1"); l.key(v4) != v4 {
		t.Fatal("IPv4 changed")
	}
}
