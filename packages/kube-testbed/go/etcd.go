package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// runEtcd runs a single-member embedded etcd until SIGTERM/SIGINT.
func runEtcd(args []string) int {
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "etcd data directory (required)")
	clientURL := fs.String("listen-client-url", "http://127.0.0.1:2379", "client URL; port 0 picks a free port")
	peerURL := fs.String("listen-peer-url", "http://127.0.0.1:0", "peer URL; port 0 picks a free port")
	name := fs.String("name", "kube-testbed", "member name")
	logLevel := fs.String("log-level", "warn", "etcd log level (debug, info, warn, error)")
	fsync := fs.Bool("fsync", false, "fsync writes (off by default: this is a test bed)")
	quota := fs.Int64("quota-backend-bytes", 2<<30, "backend quota")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "kube-testbed etcd: --data-dir is required")
		return 2
	}
	cu, err := resolveURL(*clientURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-testbed etcd: --listen-client-url: %v\n", err)
		return 2
	}
	pu, err := resolveURL(*peerURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-testbed etcd: --listen-peer-url: %v\n", err)
		return 2
	}

	cfg := embed.NewConfig()
	cfg.Name = *name
	cfg.Dir = *dataDir
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = *logLevel
	cfg.LogOutputs = []string{"stderr"}
	cfg.UnsafeNoFsync = !*fsync
	cfg.QuotaBackendBytes = *quota
	// The apiservers compact every 5 minutes themselves; keep etcd's own
	// history short so a long-running demo does not grow without bound.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "10m"

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	start := time.Now()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-testbed etcd: %v\n", err)
		return 1
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		fmt.Fprintf(os.Stderr, "kube-testbed etcd: %v\n", err)
		e.Close()
		return 1
	case <-time.After(60 * time.Second):
		fmt.Fprintln(os.Stderr, "kube-testbed etcd: not ready after 60s")
		e.Server.Stop()
		e.Close()
		return 1
	case s := <-sigs:
		fmt.Fprintf(os.Stderr, "kube-testbed etcd: %v before ready, stopping\n", s)
		e.Close()
		return 0
	}
	ready, _ := json.Marshal(map[string]any{
		"ready":     "etcd",
		"clientURL": cu.String(),
		"peerURL":   pu.String(),
		"pid":       os.Getpid(),
		"startMs":   time.Since(start).Milliseconds(),
	})
	fmt.Println(string(ready))

	select {
	case s := <-sigs:
		fmt.Fprintf(os.Stderr, "kube-testbed etcd: %v, stopping\n", s)
	case err := <-e.Err():
		fmt.Fprintf(os.Stderr, "kube-testbed etcd: %v\n", err)
		e.Close()
		return 1
	}
	done := make(chan struct{})
	go func() { e.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(os.Stderr, "kube-testbed etcd: close timed out")
		return 1
	}
	return 0
}

// resolveURL parses u and replaces port 0 by a currently free port.
func resolveURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, err
	}
	if port == "0" {
		p, err := freePort(host)
		if err != nil {
			return nil, err
		}
		u.Host = net.JoinHostPort(host, strconv.Itoa(p))
	}
	return u, nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
