package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// startParentWatchdog makes this process shut down when the process with the
// given pid disappears (or when we get re-parented, which is what happens
// when our parent dies). It first sends SIGTERM to itself so that servers
// shut down gracefully, then exits hard after a grace period.
func startParentWatchdog(pidStr string) error {
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 {
		return fmt.Errorf("invalid --parent-pid %q", pidStr)
	}
	// Fast path on Linux: SIGKILL as soon as the parent dies (only
	// meaningful when the watched pid is our real parent). SIGKILL rather
	// than SIGTERM because it also ends a process that is SIGSTOPped
	// (Testbed's makeUnreachable), which the polling below cannot do.
	if os.Getppid() == pid {
		_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0)
	}
	if !alive(pid) || (os.Getppid() != pid && os.Getppid() == 1) {
		// Parent already gone before we even started.
		fmt.Fprintf(os.Stderr, "kube-testbed: parent process %d is gone, exiting\n", pid)
		os.Exit(1)
	}
	startPpid := os.Getppid()
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for range t.C {
			if alive(pid) && os.Getppid() == startPpid {
				continue
			}
			fmt.Fprintf(os.Stderr, "kube-testbed: parent process %d is gone, shutting down\n", pid)
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
			time.Sleep(3 * time.Second)
			fmt.Fprintf(os.Stderr, "kube-testbed: graceful shutdown took too long, exiting\n")
			os.Exit(1)
		}
	}()
	return nil
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err == nil || err == syscall.EPERM {
		// A zombie still answers kill(0); treat it as dead.
		if b, rerr := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); rerr == nil {
			// format: pid (comm) S ...
			for i := len(b) - 1; i > 0; i-- {
				if b[i] == ')' {
					if i+2 < len(b) && b[i+2] == 'Z' {
						return false
					}
					break
				}
			}
		}
		return true
	}
	return false
}
