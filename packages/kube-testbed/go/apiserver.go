package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
)

// defaultControllers are the kube-controller-manager controllers started
// next to each apiserver: enough for namespaces to be deletable,
// serviceaccounts/tokens/kube-root-ca.crt to appear, ownerReferences to be
// honoured and the aggregated RBAC roles (admin/edit/view) to be filled.
var defaultControllers = []string{
	"namespace-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"root-ca-certificate-publisher-controller",
	"garbage-collector-controller",
	"clusterrole-aggregation-controller",
	"validatingadmissionpolicy-status-controller",
	"persistentvolumeclaim-protection-controller",
	"persistentvolume-protection-controller",
}

// runAPIServer runs kube-apiserver in-process. Flags starting with
// --testbed- are ours, everything else is passed to kube-apiserver.
//
//	--testbed-kubeconfig F      admin kubeconfig for this apiserver; enables
//	                            the in-process controller manager
//	--testbed-controllers LIST  controllers to run ("" or "none" disables);
//	                            default: see defaultControllers
//	--testbed-kcm-arg ARG       extra kube-controller-manager flag (repeatable)
//	--testbed-root-ca-file F    CA published as kube-root-ca.crt; default: the
//	                            kubeconfig's CA
func runAPIServer(args []string) int {
	args, kubeconfig := extractFlag(args, "testbed-kubeconfig")
	args, controllers := extractFlag(args, "testbed-controllers")
	args, rootCA := extractFlag(args, "testbed-root-ca-file")
	kcmArgs, args := extractFlagAll(args, "testbed-kcm-arg")
	if controllers == "" {
		controllers = strings.Join(defaultControllers, ",")
	}

	cmd := apiserverapp.NewAPIServerCommand()
	cmd.SetArgs(args)
	ctx := cmd.Context() // signal context set up by NewAPIServerCommand

	go func() {
		start := time.Now()
		if err := waitReady(ctx, args, kubeconfig); err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "kube-testbed apiserver: %v\n", err)
			}
			return
		}
		printEvent(map[string]any{"ready": "apiserver", "pid": os.Getpid(), "readyMs": time.Since(start).Milliseconds()})
		if kubeconfig == "" || controllers == "none" {
			return
		}
		kcm := []string{
			"--kubeconfig=" + kubeconfig,
			"--leader-elect=false",
			"--secure-port=0",
			"--controllers=" + controllers,
			"--use-service-account-credentials=false",
		}
		if f := flagValue(args, "service-account-signing-key-file"); f != "" {
			kcm = append(kcm, "--service-account-private-key-file="+f)
		}
		if rootCA == "" {
			rootCA = kubeconfigCAFile(kubeconfig)
		}
		if rootCA != "" {
			kcm = append(kcm, "--root-ca-file="+rootCA)
		}
		kcm = append(kcm, kcmArgs...)
		if err := runControllersInProcess(ctx, kcm); err != nil && ctx.Err() == nil {
			// The apiserver keeps running: tests relying on controllers
			// will fail loudly, the others still work.
			fmt.Fprintf(os.Stderr, "kube-testbed apiserver: controller manager failed: %v\n", err)
		}
	}()

	if err := cmd.Execute(); err != nil {
		return 1
	}
	return 0
}

func printEvent(m map[string]any) {
	b, _ := json.Marshal(m)
	fmt.Println(string(b))
}

// waitReady polls /readyz of the local apiserver.
func waitReady(ctx context.Context, args []string, kubeconfig string) error {
	var client *http.Client
	var url string
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return fmt.Errorf("loading %s: %w", kubeconfig, err)
		}
		cfg.Timeout = 2 * time.Second
		if client, err = rest.HTTPClientFor(cfg); err != nil {
			return err
		}
		url = strings.TrimSuffix(cfg.Host, "/") + "/readyz"
	} else {
		port := flagValue(args, "secure-port")
		if port == "" {
			port = "6443"
		}
		client = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		url = "https://127.0.0.1:" + port + "/readyz"
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
}

// kubeconfigCAFile returns a file with the CA of the kubeconfig's current
// cluster (written next to the kubeconfig when the CA is inline).
func kubeconfigCAFile(kubeconfig string) string {
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return ""
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil {
		return ""
	}
	cl := cfg.Clusters[ctx.Cluster]
	if cl == nil {
		return ""
	}
	if cl.CertificateAuthority != "" {
		return cl.CertificateAuthority
	}
	if len(cl.CertificateAuthorityData) > 0 {
		f := kubeconfig + ".root-ca.crt"
		if err := os.WriteFile(f, cl.CertificateAuthorityData, 0o600); err != nil {
			return ""
		}
		return f
	}
	return ""
}

// runControllersInProcess runs kube-controller-manager's Run in this
// process, sharing the component globals (feature gates, effective version)
// the apiserver already registered and set. It does what
// NewControllerManagerCommand's RunE does, minus the logging setup and
// the metrics registration the apiserver already did.
func runControllersInProcess(ctx context.Context, kcmArgs []string) error {
	s, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return err
	}
	all, disabled, aliases := kcmapp.KnownControllers(), kcmapp.ControllersDisabledByDefault(), kcmapp.ControllerAliases()
	nfs := s.Flags(all, disabled, aliases)
	fs := pflag.NewFlagSet("kube-controller-manager", pflag.ContinueOnError)
	for _, f := range nfs.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(kcmArgs); err != nil {
		return err
	}
	s.ParsedFlags = &nfs
	c, err := s.Config(ctx, all, disabled, aliases)
	if err != nil {
		return err
	}
	klog.InfoS("kube-testbed: starting controllers in-process", "args", kcmArgs)
	printEvent(map[string]any{"ready": "controller-manager", "pid": os.Getpid()})
	return kcmapp.Run(ctx, c.Complete())
}

// runControllerManager runs the stand-alone kube-controller-manager command.
func runControllerManager(args []string) int {
	cmd := kcmapp.NewControllerManagerCommand()
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		return 1
	}
	return 0
}
