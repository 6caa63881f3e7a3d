// Command pause is the pod sandbox ("infra") container of the real test cluster: registry.k8s.io/pause
// cannot be pulled here. As PID 1 of the sandbox it waits for SIGINT/SIGTERM and reaps zombies
// (like kubernetes/build/pause).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range ch {
		switch s {
		case syscall.SIGCHLD:
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		default:
			os.Exit(0)
		}
	}
}
