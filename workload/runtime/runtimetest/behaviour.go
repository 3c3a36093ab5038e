package runtimetest

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/workload/runtime"
	"github.com/shoalproject/shoal/workload/runtime/fake"
)

// TesteeImage is the name of the conformance image.
const TesteeImage = "shoal.local/testee:v1"

// Testee is the path of the testee program inside TesteeImage; it is also
// the image's entrypoint.
const Testee = "/testee"

// TesteeSpec builds TesteeImage (testimage.Cached(t, TesteeSpec)).
var TesteeSpec = testimage.Spec{
	Package: "github.com/shoalproject/shoal/workload/runtime/runtimetest/testee",
	Tags:    []string{TesteeImage},
	Binary:  "testee",
	Env:     []string{"TESTEE_IMAGE=1"},
}

// arity is how many arguments each testee step takes (see package testee).
var arity = map[string]int{
	"echo": 1, "stderr": 1, "lines": 1, "env": 1, "hostname": 0, "cat": 0,
	"cat-file": 1, "write-file": 2, "try-write-file": 2, "id": 0, "try-chown": 1, "status": 1, "alloc": 1, "serve": 1, "get": 1, "wait": 0,
	"ignore-term": 0, "exit": 1,
}

// HostNetworkHostsHeader starts a host-network pod's /etc/hosts, which
// then copies the host's, as the kubelet writes it.
const HostNetworkHostsHeader = "# Kubernetes-managed hosts file (host network).\n"

// FakeBehaviour is a fake.Config.Behave that makes fake containers act as
// testee would: a container's script (its Args, or its Command and Args
// after the program) becomes its output and exit, and exec runs a script
// too. Files are the pod's /etc/hostname and /etc/hosts and the host files
// of the container's mounts.
func FakeBehaviour(sb runtime.Sandbox, c runtime.ContainerConfig) fake.Behaviour {
	script := c.Args
	if len(c.Command) > 0 {
		script = append(append([]string(nil), c.Command[1:]...), c.Args...)
	}
	env := map[string]string{"TESTEE_IMAGE": "1"}
	for _, e := range c.Env {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	p := &program{sb: sb, c: c, env: env}
	var out bytes.Buffer
	b := fake.Behaviour{Exec: p.exec}
	end := p.run(script, nil, &out, &out)
	b.Output = out.String()
	switch {
	case end.how == "exit":
		b.ExitOnStart, b.ExitCode = true, end.code
	case end.ignoreTerm:
		b.IgnoreTerm = true
	default:
		b.TermOutput = "terminated\n"
	}
	return b
}

type program struct {
	sb  runtime.Sandbox
	c   runtime.ContainerConfig
	env map[string]string
}

type ending struct {
	how        string // "exit" or "wait"
	code       int
	ignoreTerm bool // a wait that SIGTERM does not end
}

func (p *program) exec(cmd []string, stdin io.Reader, stdout, stderr io.Writer) int {
	end := p.run(cmd[1:], stdin, stdout, stderr)
	if end.how == "exit" {
		return end.code
	}
	return 0
}

// run interprets a testee script up to its end: an exit (code), a wait, or
// the end of the script (exit 0).
func (p *program) run(script []string, stdin io.Reader, stdout, stderr io.Writer) ending {
	ignoreTerm := false
	for len(script) > 0 {
		verb := script[0]
		n, ok := arity[verb]
		if !ok || len(script) < 1+n {
			fmt.Fprintf(stderr, "testee: bad step %q\n", verb)
			return ending{how: "exit", code: 100}
		}
		args := script[1 : 1+n]
		script = script[1+n:]
		switch verb {
		case "echo":
			fmt.Fprintln(stdout, args[0])
		case "stderr":
			fmt.Fprintln(stderr, args[0])
		case "lines":
			k, _ := strconv.Atoi(args[0])
			for i := 1; i <= k; i++ {
				fmt.Fprintf(stdout, "line %d\n", i)
			}
		case "env":
			fmt.Fprintln(stdout, p.env[args[0]])
		case "hostname":
			fmt.Fprintln(stdout, p.sb.Hostname)
		case "cat":
			if stdin != nil {
				io.Copy(stdout, stdin)
			}
		case "cat-file":
			b, err := p.readFile(args[0])
			if err != nil {
				fmt.Fprintf(stderr, "testee: cat-file: %v\n", err)
				return ending{how: "exit", code: 100}
			}
			stdout.Write(b)
		case "alloc":
			fmt.Fprintf(stdout, "allocated %s MiB\n", args[0])
		case "write-file", "serve", "get":
			// No file system or network in the fake.
		case "try-write-file":
			if _, onMount := p.hostPath(args[0]); p.c.Security.ReadOnlyRootFS && !onMount {
				fmt.Fprintf(stdout, "try-write-file: open %s: read-only file system\n", args[0])
			} else {
				fmt.Fprintln(stdout, "try-write-file: ok")
			}
		case "id":
			fmt.Fprintln(stdout, p.id())
		case "try-chown", "status":
			// The kernel's answers: the real runtime's tests ask them.
		case "ignore-term":
			ignoreTerm = true
		case "wait":
			return ending{how: "wait", ignoreTerm: ignoreTerm}
		case "exit":
			code, _ := strconv.Atoi(args[0])
			return ending{how: "exit", code: code}
		}
	}
	return ending{how: "exit"}
}

func (p *program) readFile(name string) ([]byte, error) {
	switch name {
	case "/etc/hostname":
		return []byte(p.sb.Hostname + "\n"), nil
	case "/etc/hosts":
		if p.sb.HostNetwork {
			host, err := os.ReadFile("/etc/hosts")
			return append([]byte(HostNetworkHostsHeader), host...), err
		}
		return fmt.Appendf(nil, "127.0.0.1\tlocalhost\n%s\t%s\n", p.sb.IP, p.sb.Hostname), nil
	}
	if host, ok := p.hostPath(name); ok {
		return os.ReadFile(host)
	}
	return nil, fmt.Errorf("%s: no such file", name)
}

// id is what testee's id step prints for the container's Security, as
// a runtime without /etc/passwd and /etc/group in the image sets it: the
// user and group asked for (root's otherwise), the group among the
// groups, then the supplemental groups.
func (p *program) id() string {
	sec := p.c.Security
	var uid, gid int64
	if sec.RunAsUser != nil {
		uid = *sec.RunAsUser
	}
	if sec.RunAsGroup != nil {
		gid = *sec.RunAsGroup
	}
	groups := []int64{gid}
	for _, g := range sec.SupplementalGroups {
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	slices.Sort(groups)
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = strconv.FormatInt(g, 10)
	}
	return fmt.Sprintf("uid=%d gid=%d groups=%s", uid, gid, strings.Join(ids, ","))
}

// hostPath is where a path at or under one of the container's mounts is
// on the host.
func (p *program) hostPath(name string) (string, bool) {
	for _, m := range p.c.Mounts {
		if rest, ok := strings.CutPrefix(name, m.ContainerPath); ok && (rest == "" || rest[0] == '/') {
			return path.Join(m.HostPath, rest), true
		}
	}
	return "", false
}

// StubImageTar returns a docker-archive tar naming refs and holding no
// layers: enough for the fake's ImportImage, not for a real runtime.
func StubImageTar(refs ...string) []byte {
	manifest, _ := json.Marshal([]map[string]any{{
		"Config":   "sha256:stub-" + strings.Join(refs, ","),
		"RepoTags": refs,
		"Layers":   []string{},
	}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(manifest)), Typeflag: tar.TypeReg})
	tw.Write(manifest)
	tw.Close()
	return buf.Bytes()
}
