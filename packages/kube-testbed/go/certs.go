package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files written by `kube-testbed certs --dir D`. Nothing here is ever
// committed: the TS side generates a fresh set per cluster at run time.
const (
	fileCA               = "ca.crt"
	fileCAKey            = "ca.key"
	fileServing          = "apiserver.crt"
	fileServingKey       = "apiserver.key"
	fileAdmin            = "admin.crt"
	fileAdminKey         = "admin.key"
	fileFrontProxyCA     = "front-proxy-ca.crt"
	fileFrontProxyCAKey  = "front-proxy-ca.key"
	fileFrontProxyClient = "front-proxy-client.crt"
	fileFrontProxyKey    = "front-proxy-client.key"
	fileSAKey            = "sa.key"
	fileSAPub            = "sa.pub"
	fileToken            = "admin.token"
	fileTokens           = "tokens.csv"
	fileKubeconfig       = "admin.kubeconfig"
	fileCertsJSON        = "certs.json"

	adminUser = "kube-testbed-admin"
)

type certsResult struct {
	Dir                string   `json:"dir"`
	Name               string   `json:"name"`
	CACert             string   `json:"caCert"`
	CAKey              string   `json:"caKey"`
	ServingCert        string   `json:"servingCert"`
	ServingKey         string   `json:"servingKey"`
	AdminCert          string   `json:"adminCert"`
	AdminKey           string   `json:"adminKey"`
	AdminUser          string   `json:"adminUser"`
	AdminToken         string   `json:"adminToken"`
	AdminTokenFile     string   `json:"adminTokenFile"`
	TokenAuthFile      string   `json:"tokenAuthFile"`
	FrontProxyCACert   string   `json:"frontProxyCACert"`
	FrontProxyCert     string   `json:"frontProxyClientCert"`
	FrontProxyKey      string   `json:"frontProxyClientKey"`
	SAKey              string   `json:"serviceAccountKey"`
	SAPub              string   `json:"serviceAccountPub"`
	Kubeconfig         string   `json:"kubeconfig,omitempty"`
	Hosts              []string `json:"hosts"`
	Generated          bool     `json:"generated"`
	ServiceAccountAlgo string   `json:"serviceAccountAlgorithm"`
}

func runCerts(args []string) int {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	dir := fs.String("dir", "", "output directory (required)")
	name := fs.String("name", "kube-testbed", "cluster name (used in subjects)")
	hosts := fs.String("hosts", "127.0.0.1,::1,localhost,10.0.0.1,kubernetes,kubernetes.default,kubernetes.default.svc,kubernetes.default.svc.cluster.local", "SANs of the serving certificate")
	server := fs.String("server", "", "if set, also write admin.kubeconfig for this server URL")
	force := fs.Bool("force", false, "regenerate even if files exist")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "kube-testbed certs: --dir is required")
		return 2
	}
	res, err := generateCerts(*dir, *name, strings.Split(*hosts, ","), *force)
	if err == nil && *server != "" {
		res.Kubeconfig = filepath.Join(*dir, fileKubeconfig)
		err = writeKubeconfig(res, *server, res.Kubeconfig)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-testbed certs: %v\n", err)
		return 1
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(b))
	return 0
}

func generateCerts(dir, name string, hosts []string, force bool) (*certsResult, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := func(f string) string { return filepath.Join(dir, f) }
	res := &certsResult{
		Dir: dir, Name: name,
		CACert: p(fileCA), CAKey: p(fileCAKey),
		ServingCert: p(fileServing), ServingKey: p(fileServingKey),
		AdminCert: p(fileAdmin), AdminKey: p(fileAdminKey), AdminUser: adminUser,
		AdminTokenFile: p(fileToken), TokenAuthFile: p(fileTokens),
		FrontProxyCACert: p(fileFrontProxyCA), FrontProxyCert: p(fileFrontProxyClient), FrontProxyKey: p(fileFrontProxyKey),
		SAKey: p(fileSAKey), SAPub: p(fileSAPub),
		Hosts: hosts, ServiceAccountAlgo: "RS256",
	}
	if !force {
		if b, err := os.ReadFile(p(fileCertsJSON)); err == nil {
			var prev certsResult
			if json.Unmarshal(b, &prev) == nil && prev.AdminToken != "" {
				res.AdminToken = prev.AdminToken
				if _, err := os.Stat(p(fileSAPub)); err == nil {
					return res, nil
				}
			}
		}
	}
	res.Generated = true

	now := time.Now().Add(-time.Hour)
	notAfter := now.Add(10 * 365 * 24 * time.Hour)

	caKey, caCert, err := newCA("kube-testbed-ca:"+name, now, notAfter)
	if err != nil {
		return nil, err
	}
	fpKey, fpCert, err := newCA("kube-testbed-front-proxy-ca:"+name, now, notAfter)
	if err != nil {
		return nil, err
	}

	var ips []net.IP
	var dns []string
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	srvKey, srvDER, err := newLeaf(caCert, caKey, pkix.Name{CommonName: "kube-apiserver"}, dns, ips, x509.ExtKeyUsageServerAuth, now, notAfter)
	if err != nil {
		return nil, err
	}
	admKey, admDER, err := newLeaf(caCert, caKey, pkix.Name{CommonName: adminUser, Organization: []string{"system:masters"}}, nil, nil, x509.ExtKeyUsageClientAuth, now, notAfter)
	if err != nil {
		return nil, err
	}
	fpcKey, fpcDER, err := newLeaf(fpCert, fpKey, pkix.Name{CommonName: "front-proxy-client"}, nil, nil, x509.ExtKeyUsageClientAuth, now, notAfter)
	if err != nil {
		return nil, err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	res.AdminToken = hex.EncodeToString(tok)

	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	writes := []struct {
		file string
		data []byte
	}{
		{fileCA, pemBytes("CERTIFICATE", caCert.Raw)},
		{fileCAKey, mustKeyPEM(caKey)},
		{fileFrontProxyCA, pemBytes("CERTIFICATE", fpCert.Raw)},
		{fileFrontProxyCAKey, mustKeyPEM(fpKey)},
		{fileServing, pemBytes("CERTIFICATE", srvDER)},
		{fileServingKey, mustKeyPEM(srvKey)},
		{fileAdmin, pemBytes("CERTIFICATE", admDER)},
		{fileAdminKey, mustKeyPEM(admKey)},
		{fileFrontProxyClient, pemBytes("CERTIFICATE", fpcDER)},
		{fileFrontProxyKey, mustKeyPEM(fpcKey)},
		{fileSAKey, pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey))},
		{fileSAPub, pemBytes("PUBLIC KEY", saPubDER)},
		{fileToken, []byte(res.AdminToken + "\n")},
		{fileTokens, []byte(fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", res.AdminToken, adminUser, adminUser))},
	}
	for _, w := range writes {
		if err := writeFileAtomic(p(w.file), w.data, 0o600); err != nil {
			return nil, err
		}
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := writeFileAtomic(p(fileCertsJSON), b, 0o600); err != nil {
		return nil, err
	}
	return res, nil
}

func newCA(cn string, notBefore, notAfter time.Time) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

func newLeaf(ca *x509.Certificate, caKey crypto.Signer, subj pkix.Name, dns []string, ips []net.IP, usage x509.ExtKeyUsage, notBefore, notAfter time.Time) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      subj,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	return key, der, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func mustKeyPEM(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pemBytes("EC PRIVATE KEY", der)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeKubeconfig writes an admin kubeconfig (client certificate) with all
// material embedded.
func writeKubeconfig(res *certsResult, server, path string) error {
	ca, err := os.ReadFile(res.CACert)
	if err != nil {
		return err
	}
	crt, err := os.ReadFile(res.AdminCert)
	if err != nil {
		return err
	}
	key, err := os.ReadFile(res.AdminKey)
	if err != nil {
		return err
	}
	b64 := base64.StdEncoding.EncodeToString
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[1]s-admin
  user:
    client-certificate-data: %[4]s
    client-key-data: %[5]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s-admin
current-context: %[1]s
`, res.Name, server, b64(ca), b64(crt), b64(key))
	return writeFileAtomic(path, []byte(kc), 0o600)
}
