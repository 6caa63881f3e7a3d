package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/testutil"
)

// k8sVersion is the version the Makefile builds the binaries of (hack/k8s-test-bins.sh).
const k8sVersion = "v1.37.2"

// Regions and zones of the fake nodes: two nodes per region, one per zone, as sim-cluster.sh.
var simRegions = []string{"eu-west", "us-east", "ap-south"}

const (
	regionLabel = "topology.kubernetes.io/region"
	zoneLabel   = "topology.kubernetes.io/zone"
	hostLabel   = "kubernetes.io/hostname"
)

// simBinaries are the programs the simulated cluster runs, plus kwok's stage file (kwok has no
// built-in stages).
var simBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kwok-stages.yaml"}

// binDir finds the binaries: $K8S_TEST_BINS, else $KUBEBUILDER_ASSETS (make test sets it to the
// same cache), else the default cache. Missing binaries fail the test: CI must not pass without it.
func binDir(t testing.TB) string {
	t.Helper()
	dir, from := os.Getenv("K8S_TEST_BINS"), "$K8S_TEST_BINS"
	if dir == "" {
		dir, from = os.Getenv("KUBEBUILDER_ASSETS"), "$KUBEBUILDER_ASSETS"
	}
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir, from = filepath.Join(home, ".cache", "k8s-test-bins", k8sVersion), "the default cache"
	}
	var missing []string
	for _, b := range simBinaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("e2e binaries missing in %s (%s): %s; build them with `make test-bins-envtest test-bins-e2e` "+
			"(hack/k8s-test-bins.sh DIR builds all six)",
			dir, from, strings.Join(missing, ", "))
	}
	return dir
}

// simCluster is a running simulated cluster. Every process belongs to the test and is stopped by
// its PID in Cleanup (and killed by the kernel if the test binary dies: Pdeathsig).
type simCluster struct {
	t      testing.TB
	bin    string
	dir    string // work directory: data, certificates, logs/<name>.log
	cfg    *rest.Config
	client client.Client // uncached: assertions read the apiserver
	// opClient reads the in-process operator's informer cache: what its controllers see.
	opClient client.Client
	scheme   *runtime.Scheme

	mu          sync.Mutex
	procs       []*simProc
	operatorLog string // set by startOperator
}

// simProc is one component's process, stopped by its own PID (internal/testutil.Proc).
type simProc struct {
	*testutil.Proc
	name string
	log  string
}

// startSimCluster starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on
// loopback, creates the six fake nodes and waits until they are Ready.
func startSimCluster(t testing.TB) *simCluster {
	t.Helper()
	t0 := time.Now()
	bin := binDir(t)
	dir, err := os.MkdirTemp("", "e2e-sim-")
	if err != nil {
		t.Fatal(err)
	}
	c := &simCluster{t: t, bin: bin, dir: dir, scheme: runtime.NewScheme()}
	_ = clientgoscheme.AddToScheme(c.scheme)
	_ = realtimev1.AddToScheme(c.scheme)
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)

	ports := testutil.MustFreePorts(t, "", 5)
	etcdPort, peerPort, apiPort, kcmPort, schedPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	token := c.writeCredentials()
	kubeconfig := c.writeKubeconfig(apiPort, token)
	c.cfg = &rest.Config{
		Host:            "https://127.0.0.1:" + strconv.Itoa(apiPort),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             200,
		Burst:           400,
	}

	c.start("etcd", filepath.Join(bin, "etcd"),
		"--name", "sim", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", url(etcdPort), "--advertise-client-urls", url(etcdPort),
		"--listen-peer-urls", url(peerPort), "--initial-advertise-peer-urls", url(peerPort),
		"--initial-cluster", "sim="+url(peerPort), "--unsafe-no-fsync", "--log-level", "warn")
	c.start("kube-apiserver", filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers", url(etcdPort),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", strconv.Itoa(apiPort),
		"--endpoint-reconciler-type", "none",
		"--cert-dir", filepath.Join(dir, "apiserver"), "--token-auth-file", filepath.Join(dir, "tokens.csv"),
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/16", "--allow-privileged=true")
	c.waitAPIServer(90 * time.Second)
	t.Logf("sim: apiserver ready on %s after %s", c.cfg.Host, time.Since(t0).Round(time.Millisecond))

	if c.client, err = client.New(c.cfg, client.Options{Scheme: c.scheme}); err != nil {
		t.Fatalf("client: %v", err)
	}
	c.start("kube-controller-manager", filepath.Join(bin, "kube-controller-manager"),
		"--kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(kcmPort), "--cert-dir", filepath.Join(dir, "kcm"),
		"--leader-elect=false", "--service-account-private-key-file", filepath.Join(dir, "sa.key"),
		"--use-service-account-credentials=false")
	c.start("kube-scheduler", filepath.Join(bin, "kube-scheduler"),
		"--kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(schedPort), "--cert-dir", filepath.Join(dir, "sched"),
		"--leader-elect=false")
	// kwok fakes the kubelets of nodes annotated kwok.x-k8s.io/node=fake; with no server address it
	// opens no port.
	c.start("kwok", filepath.Join(bin, "kwok"),
		"--kubeconfig", kubeconfig, "--config", filepath.Join(bin, "kwok-stages.yaml"),
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
		"--cidr", "10.244.0.0/16", "--node-ip", "10.0.0.1", "--node-lease-duration-seconds", "40")

	c.createNodes()
	c.eventually(60*time.Second, "6 kwok nodes Ready", func(ctx context.Context) error {
		var nodes corev1.NodeList
		if err := c.client.List(ctx, &nodes); err != nil {
			return err
		}
		ready := 0
		for i := range nodes.Items {
			for _, cond := range nodes.Items[i].Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready != 2*len(simRegions) {
			return fmt.Errorf("%d/%d nodes Ready", ready, 2*len(simRegions))
		}
		return nil
	})
	t.Logf("sim: cluster up in %s (workdir %s)", time.Since(t0).Round(time.Millisecond), dir)
	return c
}

func url(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// writeCredentials writes the service-account signing key pair and a static token file naming a
// system:masters user, and returns the token.
func (c *simCluster) writeCredentials() string {
	t := c.t
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("sa.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	write("sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	write("tokens.csv", []byte(token+`,sim-admin,sim-admin,"system:masters"`+"\n"))
	return token
}

func (c *simCluster) writeKubeconfig(apiPort int, token string) string {
	path := filepath.Join(c.dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster:
    server: https://127.0.0.1:%d
    insecure-skip-tls-verify: true
users:
- name: sim-admin
  user:
    token: %s
contexts:
- name: sim
  context: {cluster: sim, user: sim-admin, namespace: default}
current-context: sim
`, apiPort, token)
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// start runs one component with its output in logs/<name>.log.
func (c *simCluster) start(name, path string, args ...string) {
	t := c.t
	t.Helper()
	logPath := filepath.Join(c.dir, "logs", name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = c.dir
	// If the test binary dies (timeout panic, kill), the kernel kills the component too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	proc, err := testutil.Start(cmd)
	if err != nil {
		_ = f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &simProc{Proc: proc, name: name, log: logPath}
	go func() {
		<-p.Done()
		_ = f.Close()
	}()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	t.Logf("sim: started %s (pid %d)", name, cmd.Process.Pid)
}

// alive fails when a component exited: nothing of the cluster may die during the test.
func (c *simCluster) alive() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		if p.Exited() {
			return fmt.Errorf("%s (pid %d) exited: %v", p.name, p.Cmd.Process.Pid, p.Err())
		}
	}
	return nil
}

func (c *simCluster) waitAPIServer(timeout time.Duration) {
	c.t.Helper()
	rc, err := rest.UnversionedRESTClientFor(&rest.Config{
		Host: c.cfg.Host, BearerToken: c.cfg.BearerToken, TLSClientConfig: c.cfg.TLSClientConfig,
		ContentConfig: rest.ContentConfig{NegotiatedSerializer: clientgoscheme.Codecs.WithoutConversion()},
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.eventually(timeout, "kube-apiserver /readyz", func(ctx context.Context) error {
		body, err := rc.Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return err
		}
		if string(body) != "ok" {
			return fmt.Errorf("readyz: %q", body)
		}
		return nil
	})
}

// createNodes creates two fake nodes per region, one per zone (kwok-<region>-a/b).
func (c *simCluster) createNodes() {
	ctx := context.Background()
	res := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"),
		corev1.ResourcePods: resource.MustParse("110"),
	}
	for _, region := range simRegions {
		for _, z := range []string{"a", "b"} {
			name := "kwok-" + region + "-" + z
			n := &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{
					Name:        name,
					Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
					Labels: map[string]string{
						"type": "kwok", "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux",
						hostLabel: name, regionLabel: region, zoneLabel: region + "-" + z,
					},
				},
				Status: corev1.NodeStatus{Allocatable: res, Capacity: res},
			}
			if err := c.client.Create(ctx, n); err != nil {
				c.t.Fatalf("create node %s: %v", name, err)
			}
		}
	}
}

// eventually polls fn every 20 ms until it returns nil; it fails the test with fn's last error
// after timeout, or at once when a component of the cluster died.
func (c *simCluster) eventually(timeout time.Duration, what string, fn func(ctx context.Context) error) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := fn(ctx)
		cancel()
		if err == nil {
			return
		}
		if dead := c.alive(); dead != nil {
			c.t.Fatalf("%s: %v (last error: %v)", what, dead, err)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not after %s: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the components by PID in reverse start order (SIGTERM, SIGKILL after 5 s), prints the
// end of every log when the test failed, and removes the work directory unless the test failed
// or E2E_KEEP_WORKDIR=1.
func (c *simCluster) stop() {
	t := c.t
	c.mu.Lock()
	procs := append([]*simProc(nil), c.procs...)
	c.mu.Unlock()
	start := time.Now()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop(5 * time.Second)
	}
	if len(procs) > 0 {
		t.Logf("sim: stopped %d components in %s", len(procs), time.Since(start).Round(time.Millisecond))
	}
	if t.Failed() {
		logs := []string{}
		for _, p := range procs {
			logs = append(logs, p.log)
		}
		c.mu.Lock()
		if c.operatorLog != "" {
			logs = append(logs, c.operatorLog)
		}
		c.mu.Unlock()
		for _, l := range logs {
			t.Logf("----- last lines of %s -----\n%s", l, tail(l, 20))
		}
	}
	if t.Failed() || os.Getenv("E2E_KEEP_WORKDIR") == "1" {
		t.Logf("sim: workdir kept: %s", c.dir)
		return
	}
	_ = os.RemoveAll(c.dir)
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
