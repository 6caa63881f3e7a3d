//go:build e2ereal

package e2ereal

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// logDir is where recordPodLogs writes; failed tests add their agent's events there.
var logDir string

// recordPodLogs follows the logs of every container of the node and operator pods into
// $E2E_REAL_LOGS (default .e2e-real-logs in the repository), one file per container instance,
// for the whole test. A drill replaces pods, and a deleted pod's logs are gone from the cluster:
// after a failure these files are the only record of what the nodes did.
func recordPodLogs(t *testing.T, e env) string {
	t.Helper()
	dir := os.Getenv("E2E_REAL_LOGS")
	if dir == "" {
		dir = "../../.e2e-real-logs"
	}
	dir, _ = filepath.Abs(dir)
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	logDir = dir
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		followPods(ctx, cs, dir, &wg)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return dir
}

// followPods polls the pods once a second and starts a follower for every container instance
// (pod UID, container, restart count) not followed yet.
func followPods(ctx context.Context, cs kubernetes.Interface, dir string, wg *sync.WaitGroup) {
	seen := map[string]bool{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for _, namespace := range []string{ns, "realtime-system"} {
			pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for _, p := range pods.Items {
				for _, st := range p.Status.ContainerStatuses {
					if st.State.Running == nil {
						continue
					}
					key := fmt.Sprintf("%s_%s_%s_%d", p.Name, string(p.UID)[:8], st.Name, st.RestartCount)
					if seen[key] {
						continue
					}
					seen[key] = true
					wg.Add(1)
					go func() {
						defer wg.Done()
						followLog(ctx, cs, p, st.Name, filepath.Join(dir, key+".log"))
					}()
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func followLog(ctx context.Context, cs kubernetes.Interface, p corev1.Pod, container, path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	req := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: container, Follow: true, Timestamps: true})
	rc, err := req.Stream(ctx)
	if err != nil {
		fmt.Fprintf(f, "log stream: %v\n", err)
		return
	}
	defer rc.Close()
	_, _ = io.Copy(f, rc)
}
