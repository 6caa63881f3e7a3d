// Command kubectl-realtime is the kubectl plugin of the realtime operator (`kubectl realtime`):
// the state the operator manages, read from the Kubernetes API (RealtimeCluster, Tenant, node
// pods, events) and from each node pod's /status through the API server's pod proxy.
//
//	kubectl realtime status [CLUSTER]   regions, pods, clients, mesh links, tenants per owner
//	kubectl realtime tenant NAME        conditions, owner, slot, lag, last move, events
//	kubectl realtime drain POD          move the pod's tenants away (through the operator)
//	kubectl realtime move TENANT --to POD  planned handoff of one tenant to a pod (through the operator)
//
// Exit codes: 0 success, 1 failure (not found, timeout, API error), 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

const usage = `kubectl realtime: the realtime operator's clusters and tenants.

Usage:
  kubectl realtime status [CLUSTER] [-n NS] [-o table|json|yaml]
  kubectl realtime tenant NAME [-n NS] [-o table|json|yaml]
  kubectl realtime drain POD [-n NS] [--timeout 5m] [-o table|json|yaml]
  kubectl realtime move TENANT --to POD [-n NS] [--timeout 5m] [-o table|json|yaml]

move and drain ask the operator (annotations) and wait, showing each step, until every tenant
is assigned to its new owner and that pod holds the tenant's Lease; exit 1 on timeout.

Flags (every command): -n/--namespace, --kubeconfig, --context, -o/--output, --timeout.
`

// errUsage marks errors that exit with code 2.
var errUsage = errors.New("usage")

// env is what a command needs: the API, the pod proxy for node /status, output and options.
type env struct {
	c         client.Client
	nodes     nodeStatusFunc
	out       io.Writer
	errOut    io.Writer // progress of move/drain with -o json|yaml
	namespace string
	output    string
	timeout   time.Duration
	color     bool
	now       func() time.Time
	poll      time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, connect)
	stop()
	os.Exit(code)
}

// connector builds the env's clients from the kubeconfig flags.
type connector func(kubeconfig, kubeContext, namespace string) (client.Client, nodeStatusFunc, string, error)

func run(ctx context.Context, args []string, stdout, stderr io.Writer, conn connector) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "status", "tenant", "drain", "move":
	default:
		fmt.Fprintf(stderr, "error: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	fs := flag.NewFlagSet("kubectl realtime "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ns, kubeconfig, kubeContext, output, to string
	var timeout time.Duration
	fs.StringVar(&ns, "namespace", "", "namespace (default: the kubeconfig context's)")
	fs.StringVar(&ns, "n", "", "namespace (shorthand)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "path to the kubeconfig file")
	fs.StringVar(&kubeContext, "context", "", "kubeconfig context")
	fs.StringVar(&output, "output", "table", "table, json or yaml")
	fs.StringVar(&output, "o", "table", "output (shorthand)")
	fs.DurationVar(&timeout, "timeout", 5*time.Minute, "how long move and drain wait")
	fs.StringVar(&to, "to", "", "move: the target pod")
	positional, err := parseInterspersed(fs, rest)
	if err != nil {
		return 2
	}
	if output != "table" && output != "json" && output != "yaml" {
		fmt.Fprintf(stderr, "error: --output must be table, json or yaml, not %q\n", output)
		return 2
	}
	c, nodes, resolvedNS, err := conn(kubeconfig, kubeContext, ns)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	e := &env{c: c, nodes: nodes, out: stdout, errOut: stderr, namespace: resolvedNS, output: output, timeout: timeout,
		color: isTerminal(stdout), now: time.Now, poll: 2 * time.Second}
	switch cmd {
	case "status":
		err = e.status(ctx, positional)
	case "tenant":
		err = e.tenant(ctx, positional)
	case "drain":
		err = e.drain(ctx, positional)
	case "move":
		err = e.move(ctx, positional, to)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "error: %v\n\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
}

// parseInterspersed lets flags follow positional arguments, as kubectl does.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// connect loads the kubeconfig as kubectl does (KUBECONFIG, ~/.kube/config, in-cluster).
func connect(kubeconfig, kubeContext, namespace string) (client.Client, nodeStatusFunc, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	if namespace == "" {
		if namespace, _, err = cc.Namespace(); err != nil {
			return nil, nil, "", fmt.Errorf("kubeconfig namespace: %w", err)
		}
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, nil, "", fmt.Errorf("scheme: %w", err)
	}
	if err := realtimev1.AddToScheme(scheme); err != nil {
		return nil, nil, "", fmt.Errorf("scheme: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, "", fmt.Errorf("client: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("clientset: %w", err)
	}
	return c, proxyNodeStatus(cs), namespace, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
