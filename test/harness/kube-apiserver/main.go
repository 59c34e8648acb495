// kube-apiserver-local: a real kube-apiserver (k8s.io/kubernetes) backed by an
// in-process embedded etcd, on loopback only, for tests.
//
// Usage:
//
//	kube-apiserver-local [--state-dir DIR] [--port N] [--etcd-port N] [--token-file F]
//	                     [--admin-token T] [--default-admission] [--exit-with-stdin]
//	                     [-- extra kube-apiserver flags...]
//
// On start it writes DIR/env (KUBE_URL, KUBE_ADMIN_TOKEN, ...) and prints the same
// lines on stdout. SIGINT/SIGTERM stop the apiserver gracefully, then etcd. With
// --exit-with-stdin, end of file on stdin does the same: a test runner that spawns it
// with a pipe on stdin cannot leave it orphaned, even when the runner is SIGKILLed.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata"

	"go.etcd.io/etcd/server/v3/embed"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	kubeoptions "k8s.io/kubernetes/pkg/kubeapiserver/options"
)

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func fatal(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "kube-apiserver-local: "+f+"\n", a...)
	os.Exit(1)
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		fatal("rand: %v", err)
	}
	return hex.EncodeToString(b)
}

func main() {
	// Split wrapper args from pass-through kube-apiserver args at "--".
	ours, extra := os.Args[1:], []string(nil)
	for i, a := range ours {
		if a == "--" {
			ours, extra = ours[:i], ours[i+1:]
			break
		}
	}
	fs := flag.NewFlagSet("kube-apiserver-local", flag.ExitOnError)
	stateDir := fs.String("state-dir", "", "state directory (default: new temp dir, removed on exit)")
	port := fs.Int("port", 0, "secure port on 127.0.0.1 (0: pick a free one)")
	etcdPort := fs.Int("etcd-port", 0, "etcd client port on 127.0.0.1 (0: pick a free one)")
	tokenFile := fs.String("token-file", "", "static token CSV (default: generate admin + limited user)")
	adminToken := fs.String("admin-token", "", "admin token for the generated token file (default: random)")
	defaultAdmission := fs.Bool("default-admission", false, "keep kube-apiserver's default admission plugins")
	exitWithStdin := fs.Bool("exit-with-stdin", false, "shut down gracefully when stdin reaches end of file (the parent died)")
	_ = fs.Parse(ours)

	if *exitWithStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			// The parent is gone, and with it the read end of stdout/stderr: without this, the next
			// log line would kill the process with SIGPIPE before it removes its state directory.
			signal.Ignore(syscall.SIGPIPE)
			// The apiserver's own signal handler shuts down gracefully; a second signal forces exit.
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}()
	}

	tempState := *stateDir == ""
	if tempState {
		d, err := os.MkdirTemp("", "kube-apiserver-local-")
		if err != nil {
			fatal("%v", err)
		}
		*stateDir = d
	}
	must(os.MkdirAll(*stateDir, 0o700))
	if *port == 0 {
		*port = freePort()
	}
	if *etcdPort == 0 {
		*etcdPort = freePort()
	}
	peerPort := freePort()

	// --- embedded etcd -------------------------------------------------------
	ecfg := embed.NewConfig()
	ecfg.Name = "local"
	ecfg.Dir = filepath.Join(*stateDir, "etcd")
	cu := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", *etcdPort)}
	pu := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	ecfg.ListenClientUrls, ecfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	ecfg.ListenPeerUrls, ecfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	ecfg.InitialCluster = ecfg.InitialClusterFromName(ecfg.Name)
	ecfg.LogLevel = "error"
	ecfg.UnsafeNoFsync = true // test data only; much faster on slow disks
	etcd, err := embed.StartEtcd(ecfg)
	if err != nil {
		fatal("etcd: %v", err)
	}
	select {
	case <-etcd.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		fatal("etcd not ready after 60s")
	}

	// --- service-account key, token file, cert dir ---------------------------
	saKey := filepath.Join(*stateDir, "sa.key")
	if _, err := os.Stat(saKey); err != nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		der, err := x509.MarshalPKCS8PrivateKey(k)
		must(err)
		must(os.WriteFile(saKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	}
	limitedToken := ""
	if *tokenFile == "" {
		if *adminToken == "" {
			*adminToken = "admin-" + randHex(16)
		}
		limitedToken = "limited-" + randHex(16)
		*tokenFile = filepath.Join(*stateDir, "tokens.csv")
		// token,user,uid,"group1,group2"
		csv := fmt.Sprintf("%s,admin,uid-admin,\"system:masters\"\n%s,limited,uid-limited,\"limited-group\"\n",
			*adminToken, limitedToken)
		must(os.WriteFile(*tokenFile, []byte(csv), 0o600))
	}

	args := []string{
		"--etcd-servers=" + cu.String(),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", *port),
		"--cert-dir=" + filepath.Join(*stateDir, "certs"), // self-signed serving cert generated here
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + saKey,
		"--service-account-signing-key-file=" + saKey,
		"--authorization-mode=RBAC",
		"--token-auth-file=" + *tokenFile,
		"--anonymous-auth=false",
		"--service-cluster-ip-range=10.96.0.0/16",
		// 127.0.0.1 is not a valid Endpoints address; don't reconcile the kubernetes endpoints.
		"--endpoint-reconciler-type=none",
	}
	if !*defaultAdmission {
		var off []string
		for _, p := range kubeoptions.AllOrderedPlugins {
			if p != "NamespaceLifecycle" {
				off = append(off, p)
			}
		}
		args = append(args,
			"--enable-admission-plugins=NamespaceLifecycle",
			"--disable-admission-plugins="+strings.Join(off, ","))
	}
	args = append(args, extra...) // later flags win

	url := fmt.Sprintf("https://127.0.0.1:%d", *port)
	env := fmt.Sprintf("KUBE_URL=%s\nKUBE_ADMIN_TOKEN=%s\nKUBE_LIMITED_TOKEN=%s\nKUBE_CA_FILE=%s\nKUBE_ETCD_URL=%s\nKUBE_STATE_DIR=%s\nKUBE_PID=%d\n",
		url, *adminToken, limitedToken, filepath.Join(*stateDir, "certs", "apiserver.crt"), cu.String(), *stateDir, os.Getpid())
	must(os.WriteFile(filepath.Join(*stateDir, "env"), []byte(env), 0o600))
	fmt.Print(env)

	// NewAPIServerCommand installs the SIGINT/SIGTERM handler itself (SetupSignalContext,
	// which may only be called once per process) and returns after graceful shutdown.
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(args)
	code := cli.Run(cmd)

	etcd.Close()
	if tempState {
		os.RemoveAll(*stateDir)
	}
	os.Exit(code)
}

func must(err error) {
	if err != nil {
		fatal("%v", err)
	}
}
