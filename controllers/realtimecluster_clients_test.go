package controllers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// serveStatus serves a node's admin /status with the given socket count on ip:port (port 0:
// any); it returns the port.
func serveStatus(t *testing.T, ip string, port, sockets int) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listen %s:%d: %v", ip, port, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"sockets":%d,"tenants":[],"peers":[]}`, sockets)
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func setPodIP(t *testing.T, ns, name, ip string) {
	t.Helper()
	pod := &corev1.Pod{}
	if err := testClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status.PodIP = ip
	if err := testClient.Status().Update(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}

// TestClientsCounter: the counter sums the ready pods' /status sockets into
// status.connectedClients (the Clients column), reports how many answered and leaves out pods
// that do not answer; the RealtimeCluster controller's own status writes keep the figure.
func TestClientsCounter(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createClusterSecret(t, ns)
	c := twoRegionCluster(ns, "counted", 2)
	mustCreate(t, c)
	createNodePod(t, ns, "counted", "eu-west", "counted-eu-west-0", true)
	createNodePod(t, ns, "counted", "eu-west", "counted-eu-west-1", true)
	createNodePod(t, ns, "counted", "us-east", "counted-us-east-0", true)
	createNodePod(t, ns, "counted", "us-east", "counted-us-east-1", false) // not ready: not asked
	port := serveStatus(t, "127.0.0.1", 0, 3)
	serveStatus(t, "127.0.0.2", port, 4)
	setPodIP(t, ns, "counted-eu-west-0", "127.0.0.1")
	setPodIP(t, ns, "counted-eu-west-1", "127.0.0.2")
	setPodIP(t, ns, "counted-us-east-0", "127.0.0.3") // nobody listens: left out

	counter := &clientsCounter{Client: testClient, Port: int32(port), HTTP: &http.Client{Timeout: time.Second}}
	checkFor(t, 20*time.Second, func() error {
		cur := &realtimev1.RealtimeCluster{}
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(c), cur); err != nil {
			return err
		}
		if err := counter.count(ctx, cur); err != nil {
			return err
		}
		st := cur.Status
		if st.ConnectedClients == nil || *st.ConnectedClients != 7 || st.ClientsObservedPods != "2/3" || st.ClientsObservedAt == nil {
			return fmt.Errorf("connectedClients %v observed %q at %v, want 7 2/3", st.ConnectedClients, st.ClientsObservedPods, st.ClientsObservedAt)
		}
		return nil
	})
	// The status controller's own writes keep the figure.
	checkFor(t, 20*time.Second, func() error {
		cur := &realtimev1.RealtimeCluster{}
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(c), cur); err != nil {
			return err
		}
		if cur.Status.ConnectedClients == nil || *cur.Status.ConnectedClients != 7 || cur.Status.Nodes == "" {
			return fmt.Errorf("status %+v", cur.Status)
		}
		return nil
	})
}
