// Command kube-testbed runs real Kubernetes control-plane components built
// from Go modules (the way envtest and the Kubernetes integration tests do):
//
//	kube-testbed etcd --data-dir D --listen-client-url http://127.0.0.1:PORT [--listen-peer-url URL]
//	kube-testbed apiserver [--testbed-kubeconfig F] [--testbed-controllers a,b] [--testbed-kcm-arg=--flag=v ...] <kube-apiserver flags>
//	kube-testbed controller-manager <kube-controller-manager flags>
//	kube-testbed certs --dir D [--name N] [--server https://127.0.0.1:PORT]
//	kube-testbed kubectl <kubectl args>
//	kube-testbed version
//
// Every subcommand accepts --parent-pid PID: when that process goes away the
// command shuts itself down (SIGTERM to itself, hard exit shortly after), so
// servers never outlive a test runner that was killed with SIGKILL.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

const usage = `usage: kube-testbed <command> [flags]

commands:
  etcd                embedded etcd (go.etcd.io/etcd/server/v3/embed)
  apiserver           kube-apiserver in-process, plus kube-controller-manager
                      controllers once healthy (when --testbed-kubeconfig is given)
  controller-manager  kube-controller-manager (stand-alone)
  certs               generate CA, serving cert, admin credentials, SA key pair
  kubectl             kubectl
  version             print component versions

every command accepts --parent-pid PID (exit when PID disappears)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	sub, args := os.Args[1], os.Args[2:]

	var parentPid string
	args, parentPid = extractFlag(args, "parent-pid")
	if parentPid != "" {
		if err := startParentWatchdog(parentPid); err != nil {
			fatalf("%v", err)
		}
	}

	switch sub {
	case "etcd":
		os.Exit(runEtcd(args))
	case "apiserver", "kube-apiserver":
		os.Exit(runAPIServer(args))
	case "controller-manager", "kube-controller-manager":
		os.Exit(runControllerManager(args))
	case "certs":
		os.Exit(runCerts(args))
	case "kubectl":
		runKubectl(args)
	case "version", "--version":
		printVersion()
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "kube-testbed: unknown command %q\n\n%s", sub, usage)
		os.Exit(2)
	}
}

func printVersion() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Println("kube-testbed (no build info)")
		return
	}
	fmt.Printf("kube-testbed %s (%s)\n", bi.Main.Version, bi.GoVersion)
	for _, d := range bi.Deps {
		switch d.Path {
		case "k8s.io/kubernetes", "go.etcd.io/etcd/server/v3", "k8s.io/kubectl":
			v := d.Version
			if d.Replace != nil {
				v = d.Replace.Version
			}
			fmt.Printf("  %s %s\n", d.Path, v)
		}
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "kube-testbed: "+format+"\n", a...)
	os.Exit(1)
}

// extractFlag removes every occurrence of --name=value / --name value (also
// with a single dash) from args and returns the remaining args and the last
// value seen ("" if absent).
func extractFlag(args []string, name string) ([]string, string) {
	vals, rest := extractFlagAll(args, name)
	if len(vals) == 0 {
		return rest, ""
	}
	return rest, vals[len(vals)-1]
}

func extractFlagAll(args []string, name string) ([]string, []string) {
	var vals, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		trimmed := strings.TrimLeft(a, "-")
		if len(trimmed) == len(a) || len(a)-len(trimmed) > 2 {
			rest = append(rest, a)
			continue
		}
		if trimmed == name {
			if i+1 < len(args) {
				vals = append(vals, args[i+1])
				i++
			} else {
				vals = append(vals, "")
			}
			continue
		}
		if strings.HasPrefix(trimmed, name+"=") {
			vals = append(vals, strings.TrimPrefix(trimmed, name+"="))
			continue
		}
		rest = append(rest, a)
	}
	return vals, rest
}

// flagValue returns the value of --name=value / --name value in args
// without removing it.
func flagValue(args []string, name string) string {
	_, v := extractFlag(args, name)
	return v
}
