package main

import (
	"runtime/debug"
	"strings"
	"sync/atomic"
	_ "unsafe" // go:linkname

	_ "k8s.io/component-base/version"
)

// Kubernetes release builds set these with -ldflags -X; a plain `go build`
// leaves "v0.0.0-master+$Format:%H$", which clients (and KMP) would show as
// the cluster and kubelet version. Derive them from the k8s.io/kubernetes
// module version recorded in the binary's build info instead, so that the
// build command stays a plain `go build -trimpath`.

//go:linkname k8sGitVersion k8s.io/component-base/version.gitVersion
var k8sGitVersion string

//go:linkname k8sGitMajor k8s.io/component-base/version.gitMajor
var k8sGitMajor string

//go:linkname k8sGitMinor k8s.io/component-base/version.gitMinor
var k8sGitMinor string

//go:linkname k8sGitCommit k8s.io/component-base/version.gitCommit
var k8sGitCommit string

//go:linkname k8sGitTreeState k8s.io/component-base/version.gitTreeState
var k8sGitTreeState string

//go:linkname k8sDynamicGitVersion k8s.io/component-base/version.dynamicGitVersion
var k8sDynamicGitVersion atomic.Value

func init() {
	bi, ok := debug.ReadBuildInfo()
	if !ok || !strings.HasPrefix(k8sGitVersion, "v0.0.0-master") {
		return
	}
	for _, d := range bi.Deps {
		if d.Path != "k8s.io/kubernetes" {
			continue
		}
		v := d.Version
		if d.Replace != nil && d.Replace.Version != "" {
			v = d.Replace.Version
		}
		parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
		if len(parts) < 2 {
			return
		}
		k8sGitVersion = v
		k8sGitMajor = parts[0]
		k8sGitMinor = parts[1]
		k8sGitCommit = ""
		k8sGitTreeState = "clean"
		k8sDynamicGitVersion.Store(v)
		return
	}
}
