package v1alpha1

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func TestTenantFuncs(t *testing.T) {
	tn := &Tenant{ObjectMeta: metav1.ObjectMeta{Name: "my-proj"}}
	if tn.EffectiveExternalID() != "my-proj" || tn.LeaseName() != "tenant-my-proj" ||
		tn.SlotName() != "supabase_realtime_replication_slot_my_proj" {
		t.Fatalf("defaults from name: %s %s %s", tn.EffectiveExternalID(), tn.LeaseName(), tn.SlotName())
	}
	if tn.NeedsOwner() || !tn.PostgresChangesEnabled() || tn.FailoverDelayDuration() != 0 || len(tn.SecretRefs()) != 0 {
		t.Fatal("tenant without database")
	}
	tn.Spec.ExternalID = "ext"
	tn.Spec.JWT.SecretRef = &SecretKeySelector{Name: "jwt", Key: "k"}
	tn.Spec.Database = &DatabaseSpec{Host: "db", PasswordSecretRef: SecretKeySelector{Name: "pw", Key: "p"}, Region: "eu"}
	tn.Spec.FailoverDelay = &metav1.Duration{Duration: 3 * time.Second}
	tn.Default()
	if tn.EffectiveExternalID() != "ext" || !tn.NeedsOwner() || tn.DatabaseRegion() != "eu" || tn.FailoverDelayDuration() != 3*time.Second {
		t.Fatal("tenant with database")
	}
	if refs := tn.SecretRefs(); len(refs) != 2 || refs[0].Name != "jwt" || refs[1].Name != "pw" {
		t.Fatalf("refs %+v", refs)
	}
	db := tn.Spec.Database
	if db.Port != 5432 || db.Name != "postgres" || db.User != "postgres" || db.SSLMode != "require" {
		t.Fatalf("db defaults %+v", db)
	}
	if tn.Spec.Limits != DefaultTenantLimits {
		t.Fatalf("limits %+v", tn.Spec.Limits)
	}
	tn.Spec.Suspend = true
	if tn.NeedsOwner() {
		t.Fatal("suspended tenant needs no owner")
	}
}

func TestTenantLimitsDefaulted(t *testing.T) {
	got := TenantLimits{MaxEventsPerSecond: 7}.Defaulted()
	if got.MaxEventsPerSecond != 7 || got.MaxConcurrentUsers != 200 || got.ClientPresenceWindowMs != 30000 {
		t.Fatalf("%+v", got)
	}
}

func TestClusterFuncsAndDefaults(t *testing.T) {
	c := &RealtimeCluster{ObjectMeta: metav1.ObjectMeta{Name: "rt", Namespace: "ns"},
		Spec: RealtimeClusterSpec{Regions: []RegionSpec{{Name: "eu", Replicas: 2}, {Name: "us", Replicas: 3}}}}
	c.Default()
	if c.Spec.ImagePullPolicy != "IfNotPresent" || c.Spec.Discovery.Mode != DiscoveryDNS || c.Spec.Service.Port != 4000 ||
		c.Spec.LogLevel != "info" || !c.MetricsEnabled() || c.Spec.Regions[0].TopologyLabel != DefaultTopologyLabel ||
		!c.Spec.Regions[1].ZoneSpreadEnabled() {
		t.Fatalf("defaults %+v", c.Spec)
	}
	if c.StatefulSetName("eu") != "rt-eu" || c.HeadlessServiceName() != "rt-nodes" || c.ClientServiceName() != "rt" ||
		c.DiscoveryDNSName() != "rt-nodes.ns.svc" || c.DesiredReplicas() != 5 || NodesSummary(3, 5) != "3/5" {
		t.Fatal("names")
	}
	if l := c.RegionLabels("eu"); l[RegionLabel] != "eu" || l[ClusterLabel] != "rt" {
		t.Fatalf("labels %v", l)
	}
	if _, ok := c.Region("ap"); ok {
		t.Fatal("unknown region found")
	}
}

// The operator defaults node images to its own release, which must be the chart's appVersion:
// `helm install` of chart X runs operator X and nodes X, never :latest.
func TestVersionIsChartAppVersion(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "charts", "realtime-operator", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatal(err)
	}
	if chart.AppVersion != Version || DefaultNodeImage() != "ghcr.io/realtimeops/realtime-node:"+chart.AppVersion {
		t.Fatalf("chart appVersion %q, operator Version %q, default node image %q", chart.AppVersion, Version, DefaultNodeImage())
	}
	c := &RealtimeCluster{}
	c.Default()
	if c.Spec.Image != DefaultNodeImage() {
		t.Fatalf("defaulted image %q", c.Spec.Image)
	}
	c = &RealtimeCluster{}
	c.DefaultWithImage("registry.example/node:1.2.3")
	if c.Spec.Image != "registry.example/node:1.2.3" {
		t.Fatalf("image from the operator flag: %q", c.Spec.Image)
	}
}
