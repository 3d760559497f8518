package config

import (
	"strings"
	"testing"
	"time"
)

func TestNetworkDefaults(t *testing.T) {
	s := Default().Server
	if s.WriteTimeout != time.Minute || s.MaxConnsPerIP != 256 || s.MaxConns != 10000 || len(s.TrustedProxies) != 0 ||
		s.TLS.Enabled() || s.TLS.MinVersion != "1.2" || s.TLS.ReloadInterval != 10*time.Second ||
		s.TLS.HSTSMaxAge != 365*24*time.Hour || len(s.CORS.AllowedOrigins) != 0 || s.CORS.MaxAge != 10*time.Minute {
		t.Fatalf("network defaults %+v", s)
	}
}

func TestNetworkValidation(t *testing.T) {
	cases := []struct {
		name, yaml, want string // want "" = valid
	}{
		{"full", `server:
  trusted_proxies: [10.0.0.0/8, "2001:db8::1", "::ffff:192.168.0.0/112"]
  max_conns_per_ip: 10
  tls: {cert_file: c.pem, key_file: k.pem, client_ca_file: ca.pem, min_version: "1.3"}
  cors: {allowed_origins: ["https://app.example.com", "https://*.example.com"], allow_credentials: true}
`, ""},
		{"bad proxy", "server: {trusted_proxies: [10.0.0.0/8, example.com]}", "server.trusted_proxies[1]"},
		{"cert without key", "server: {tls: {cert_file: c.pem}}", "cert_file and key_file must be set together"},
		{"client CA without TLS", "server: {tls: {client_ca_file: ca.pem}}", "server.tls.client_ca_file"},
		{"TLS 1.1", `server: {tls: {cert_file: c, key_file: k, min_version: "1.1"}}`, "server.tls.min_version"},
		{"negative conns", "server: {max_conns_per_ip: -1}", "server.max_conns_per_ip"},
		{"negative write timeout", "server: {write_timeout: -1s}", "server.write_timeout"},
		{"bad origin", "server: {cors: {allowed_origins: [app.example.com]}}", "server.cors.allowed_origins[0]"},
		{"star with credentials", `server: {cors: {allowed_origins: ["*"], allow_credentials: true}}`, "server.cors.allow_credentials"},
		{"unknown key", "server: {tls: {cert: x}}", "cert"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
