package nodeconfig

import (
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(*testing.T, Config)
	}{
		{"defaults", nil, nil, "", func(t *testing.T, c Config) {
			if c.Addr != ":4000" || c.AdminAddr != "" || c.TenantSource != "file" || c.DrainWindow != 10*time.Second ||
				c.Cluster.Enabled() || c.ChannelErrorBackoff != 5*time.Second {
				t.Errorf("%+v", c)
			}
		}},
		{"flags win over the environment", []string{"--addr", ":5000", "--region", "us"},
			map[string]string{EnvAddr: ":4000", EnvRegion: "eu", EnvDrainWindow: "3s", EnvConnectErrorBackoff: "250"}, "",
			func(t *testing.T, c Config) {
				if c.Addr != ":5000" || c.Region != "us" || c.DrainWindow != 3*time.Second || c.ConnectErrorBackoff != 250*time.Millisecond {
					t.Errorf("%+v", c)
				}
			}},
		{"cluster address from the pod IP", nil, map[string]string{EnvDiscoveryMode: "dns", EnvPodIP: "10.0.0.7",
			EnvClusterSecret: "0123456789abcdef", EnvRegionMapping: `{"eu-central-1":"eu"}`}, "", func(t *testing.T, c Config) {
			if c.Cluster.Addr != "10.0.0.7:4001" || c.RegionMapping["eu-central-1"] != "eu" {
				t.Errorf("%+v", c)
			}
		}},
		{"cluster without secret", nil, map[string]string{EnvDiscoveryMode: "dns", EnvPodIP: "10.0.0.7"}, "CLUSTER_SECRET must be set", nil},
		{"malformed region mapping", nil, map[string]string{EnvRegionMapping: "eu=us"}, "REGION_MAPPING", nil},
		{"admin on the client port", []string{"--admin-addr", ":4000"}, nil, "--admin-addr must differ", nil},
		{"kubernetes source without namespace", nil, map[string]string{EnvTenantSource: "kubernetes", EnvPodName: "p"}, "NAMESPACE must be set", nil},
		{"bad backoff", nil, map[string]string{EnvChannelErrorBackoff: "5s"}, "CHANNEL_ERROR_BACKOFF_MS", nil},
		{"unknown flag", []string{"--port", "1"}, nil, "flags:", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, func(k string) string { return tt.env[k] }, time.Second)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
	for _, name := range []string{"PORT", "METRICS_ENABLED"} {
		if Known(name) {
			t.Errorf("%s is not read by the node", name)
		}
	}
}
