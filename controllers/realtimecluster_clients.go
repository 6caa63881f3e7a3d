package controllers

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

const (
	// DefaultClientsInterval is how often the node pods' /status is read for the Clients column:
	// one small GET per ready pod per interval, and at most one status write per cluster.
	DefaultClientsInterval = 30 * time.Second
	// clientsTimeout bounds one pod's answer; clientsParallel how many pods are asked at once.
	clientsTimeout  = 2 * time.Second
	clientsParallel = 8
)

// clientsCounter fills RealtimeCluster status.connectedClients (the Clients column of `kubectl
// get realtimeclusters`) from the ready node pods' admin /status ("sockets"). It runs on the
// elected replica only (a manager Runnable), at a low fixed rate, so its cost is bounded by the
// number of pods, not by clients. The count is a reading, not a guarantee: pods that do not
// answer are left out and counted in clientsObservedPods.
type clientsCounter struct {
	client.Client
	Interval time.Duration
	Port     int32
	// HTTP is the client for /status; nil builds one (TLS without verification: the node's
	// certificate is for clients' host names, and only a count is read, no credential sent).
	HTTP *http.Client
}

// Start reads the counts every Interval until ctx ends.
func (c *clientsCounter) Start(ctx context.Context) error {
	if c.Interval <= 0 {
		c.Interval = DefaultClientsInterval
	}
	if c.Port == 0 {
		c.Port = realtimev1.AdminPort
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: clientsTimeout, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a count is read, no secret sent
		}}
	}
	tick := time.NewTicker(c.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		var list realtimev1.RealtimeClusterList
		if err := c.List(ctx, &list); err != nil {
			logFrom(ctx).Error(err, "clients counter: list clusters")
			continue
		}
		for i := range list.Items {
			if err := c.count(ctx, &list.Items[i]); err != nil && ctx.Err() == nil {
				logFrom(ctx).Error(err, "clients counter", "cluster", list.Items[i].Name)
			}
		}
	}
}

func (c *clientsCounter) count(ctx context.Context, rc *realtimev1.RealtimeCluster) error {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(rc.Namespace), client.MatchingLabels{realtimev1.ClusterLabel: rc.Name}); err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	scheme := "http"
	if rc.Spec.TLS != nil {
		scheme = "https" // the admin port serves TLS when the cluster has it
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		total    int32
		answered int
		ready    int
	)
	sem := make(chan struct{}, clientsParallel)
	for i := range pods.Items {
		p := &pods.Items[i]
		if !podReady(p) || p.Status.PodIP == "" {
			continue
		}
		ready++
		url := scheme + "://" + net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(c.Port))) + "/status"
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			n, err := c.sockets(ctx, url)
			if err != nil {
				return
			}
			mu.Lock()
			total += n
			answered++
			mu.Unlock()
		}()
	}
	wg.Wait()
	observed := fmt.Sprintf("%d/%d", answered, ready)
	cur := rc.Status.ConnectedClients
	if answered == 0 && ready > 0 {
		return nil // nobody answered: keep the last reading rather than report 0
	}
	if cur != nil && *cur == total && rc.Status.ClientsObservedPods == observed {
		return nil // unchanged: no write
	}
	patch := client.MergeFrom(rc.DeepCopy())
	now := metav1.Now()
	rc.Status.ConnectedClients, rc.Status.ClientsObservedPods, rc.Status.ClientsObservedAt = &total, observed, &now
	if err := c.Status().Patch(ctx, rc, patch); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return nil
}

// sockets reads "sockets" from one node's /status.
func (c *clientsCounter) sockets(ctx context.Context, url string) (int32, error) {
	ctx, cancel := context.WithTimeout(ctx, clientsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	var st struct {
		Sockets int32 `json:"sockets"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&st); err != nil {
		return 0, fmt.Errorf("%s: %w", url, err)
	}
	return st.Sockets, nil
}
