package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/shoalproject/shoal/internal/shoalbin"
	"github.com/shoalproject/shoal/internal/testimage"
	"github.com/shoalproject/shoal/workload"
	"github.com/shoalproject/shoal/workload/runtime/containerd/containerdtest"
)

var shoalBin string

func TestMain(m *testing.M) { os.Exit(shoalbin.Run(m, &shoalBin)) }

// The demo as `make demo` runs it, on names, a subnet and a volume path of
// the test's own (so that it can run beside a user's demo), asserted step
// by step from what it reports and prints; then down leaves nothing behind.
func TestDemoRunsTheSeedExampleAndSurvivesAPeerTakenDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containerd and a 3-peer cluster; skipped with -short")
	}
	containerdtest.Require(t)
	dir, err := os.MkdirTemp("", "sdemo") // short: containerd's socket lives under it
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	image := filepath.Join(dir, "webapp.tar")
	if err := os.WriteFile(image, testimage.Cached(t, testimage.Webapp("v1")), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &bytes.Buffer{} // written by up's goroutine only
	o := options{
		Dir:     filepath.Join(dir, "demo"),
		Name:    fmt.Sprintf("sd%d", os.Getpid()%100000),
		Subnet:  netip.MustParsePrefix(fmt.Sprintf("10.197.%d.0/24", os.Getpid()%250)),
		Peers:   3,
		Shoal:   shoalBin,
		Image:   image,
		Seed:    filepath.Join("..", "..", "examples", "seed"),
		Content: filepath.Join(dir, "srv", "content"), // srv is made by the demo, and removed by down
		Out:     out,
	}
	tornDown := false
	t.Cleanup(func() {
		if !tornDown {
			_ = down(context.Background(), o)
		}
	})

	rep, err := up(context.Background(), o)
	story := out.String()
	if err != nil {
		t.Fatalf("demo up: %v\n%s", err, story)
	}
	defer func() {
		if t.Failed() {
			t.Logf("the demo's output:\n%s", story)
		}
	}()

	// Every step ran, in order.
	at := 0
	for i := 1; i <= 17; i++ {
		n := strings.Index(story[at:], fmt.Sprintf("==> [%d/17] ", i))
		if n < 0 {
			t.Fatalf("step %d of 17 is missing from the output", i)
		}
		at += n
	}
	// The claim bound to the 100 GiB volume, read-only for many.
	if !regexp.MustCompile(`persistentvolumeclaim/seed-content\s+Bound\s+seed-content\s+100Gi\s+ROX`).MatchString(story) {
		t.Errorf("get svc,pv,pvc does not show the claim Bound ROX to the 100Gi volume")
	}
	// The rollout's progress was shown.
	if !strings.Contains(story, `deployment "web" successfully rolled out`) {
		t.Errorf("the rollout's end is not shown")
	}
	// Through each peer's proxy, on port 80, the same 3 replicas answered.
	var replicas []string
	for n := 1; n <= 3; n++ {
		got := rep.Answered[o.peerName(n)]
		if len(got) != 3 {
			t.Errorf("through %s answered %v, want 3 replicas", o.peerName(n), got)
		}
		if replicas == nil {
			replicas = got
		} else if !slices.Equal(got, replicas) {
			t.Errorf("through %s answered %v, through peer1 %v", o.peerName(n), got, replicas)
		}
	}
	// peer3 went down under a stream that lost nothing sent after the kill,
	// and the Deployment was whole again with a new replica.
	if rep.Down != "peer3" || rep.Failover <= 0 || rep.Replaced == "" || slices.Contains(replicas, rep.Replaced) {
		t.Errorf("failover: down %q, whole again after %s with %q replacing a replica of %v", rep.Down, rep.Failover, rep.Replaced, replicas)
	}
	if rep.Sent == 0 || rep.FailedAfterKill != 0 {
		t.Errorf("the stream through peer1 and peer2: %d calls, %d failed after the kill", rep.Sent, rep.FailedAfterKill)
	}
	t.Logf("demo up: %s; the Deployment whole again %s after the kill; %d calls through the survivors, %d failed after the kill, %d in flight to the lost replica",
		rep.Took.Round(100_000_000), rep.Failover.Round(10_000_000), rep.Sent, rep.FailedAfterKill, rep.FailedInFlight)

	// The last line is the one to paste, and it works.
	lines := strings.Split(strings.TrimSpace(story), "\n")
	if want := "export SHOAL_CONFIG=" + o.adminConf(); lines[len(lines)-1] != want {
		t.Errorf("the last line is %q, want %q", lines[len(lines)-1], want)
	}
	cmd := exec.Command(shoalBin, "get", "deployment", "web", "-o", "json")
	cmd.Env = append(os.Environ(), "SHOAL_CONFIG="+o.adminConf())
	b, err := cmd.Output()
	var dep workload.Deployment
	if err != nil || json.Unmarshal(b, &dep) != nil || dep.Status.ReadyReplicas != 3 {
		t.Errorf("shoal get deployment web with the printed SHOAL_CONFIG: %v, ready %d: %s", err, dep.Status.ReadyReplicas, b)
	}

	// down removes it all: processes, namespaces, links, the directory,
	// and the content directory the demo made.
	var pids []int
	for n := 1; n <= 3; n++ {
		if pid, err := o.peerPID(n); err == nil {
			pids = append(pids, pid)
		}
	}
	tornDown = true
	if err := down(context.Background(), o); err != nil {
		t.Errorf("demo down: %v", err)
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("agent pid %d still runs after down", pid)
		}
	}
	if nss, _ := filepath.Glob("/var/run/netns/*" + o.Name + "-*"); len(nss) > 0 {
		t.Errorf("network namespaces left after down: %v", nss)
	}
	if links, _ := exec.Command("ip", "-o", "link").Output(); strings.Contains(string(links), o.Name+"-") {
		t.Errorf("links left after down:\n%s", links)
	}
	for _, p := range []string{o.Dir, filepath.Join(dir, "srv")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there after down", p)
		}
	}
}

// down removes nothing from a directory the demo did not make, and up
// will not take one over.
func TestDownTouchesOnlyADemosDirectory(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "precious")
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := options{Dir: dir, Name: "nodemo", Peers: 3, Out: &bytes.Buffer{}}
	if err := down(context.Background(), o); err == nil || !strings.Contains(err.Error(), "not a demo's directory") {
		t.Errorf("down on a foreign directory: %v, want a refusal", err)
	}
	if err := claimDir(o); err == nil {
		t.Errorf("claimDir took over a non-empty foreign directory")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the foreign directory's file is gone: %v", err)
	}
	// A directory that does not exist: nothing to do.
	if err := down(context.Background(), options{Dir: filepath.Join(dir, "none"), Name: "nodemo", Peers: 3}); err != nil {
		t.Errorf("down on a missing directory: %v", err)
	}
	// A pid file naming a process that is not the demo's is not killed.
	if err := killOwn(os.Getpid(), filepath.Join(dir, "peer1", "data")); err != nil {
		t.Errorf("killOwn: %v", err)
	}
}
