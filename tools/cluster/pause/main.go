// Command pause holds a pod's namespaces open for as long as the pod lives: the process the
// container runtime starts in every pod sandbox. It does nothing but wait; as the pid namespace's
// init it also reaps children re-parented to it (only when the pod shares its pid namespace).
// SIGINT and SIGTERM end it with status 0, which is how the runtime stops a sandbox.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for received := range signals {
		if received != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child without blocking.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
