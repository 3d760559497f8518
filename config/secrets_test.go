package config

import (
	"strings"
	"testing"
	"time"
)

func TestRetentionAndSecretsSettings(t *testing.T) {
	up := "upstreams:\n  - name: oa\n    provider: openai\n    base_url: https://api.example.com/v1\n"
	cases := []struct {
		name, yaml string
		wantErr    string // "" = valid
		check      func(t *testing.T, c *Config)
	}{
		{"defaults", "{}", "", func(t *testing.T, c *Config) {
			if c.Audit.RetentionPeriod() != 720*time.Hour || c.Audit.PurgeInterval != time.Hour ||
				c.Secrets.MasterKeyEnv != "RAMPART_MASTER_KEY" || c.Secrets.PreviousMasterKeyEnv != "RAMPART_PREVIOUS_MASTER_KEY" {
				t.Fatalf("defaults: %+v %+v", c.Audit, c.Secrets)
			}
		}},
		{"retention 0 keeps forever", "audit: {retention: 0s}", "", func(t *testing.T, c *Config) {
			if c.Audit.RetentionPeriod() != 0 {
				t.Fatalf("retention = %v", c.Audit.RetentionPeriod())
			}
		}},
		{"retention 7d", "audit: {retention: 168h}", "", func(t *testing.T, c *Config) {
			if c.Audit.RetentionPeriod() != 168*time.Hour {
				t.Fatalf("retention = %v", c.Audit.RetentionPeriod())
			}
		}},
		{"negative retention", "audit: {retention: -1h}", "audit.retention", nil},
		{"negative purge interval", "audit: {purge_interval: -1m}", "audit.purge_interval", nil},
		{"api_key_secret", up + "    api_key_secret: openai-prod\n", "", func(t *testing.T, c *Config) {
			if u := c.Upstreams[0]; u.APIKeySecret != "openai-prod" || u.APIKeyEnv != "" {
				t.Fatalf("upstream = %+v (api_key_env must not default when api_key_secret is set)", u)
			}
		}},
		{"both credentials", up + "    api_key_secret: x\n    api_key_env: OA\n", "api_key_secret", nil},
		{"bad secret name", up + "    api_key_secret: 'has space'\n", "api_key_secret", nil},
		{"bad master key env", "secrets: {master_key_env: 'not a name'}", "secrets.master_key_env", nil},
		{"same key files", "secrets: {master_key_file: /k, previous_master_key_file: /k}", "previous_master_key_file", nil},
		{"unknown secrets key", "secrets: {master_key: abc}", "master_key", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.yaml))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Parse = %v, want an error about %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, cfg)
		})
	}
}
