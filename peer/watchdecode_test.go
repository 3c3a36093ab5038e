package peer

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/workload"
)

func TestWatchDecodesOncePerVersionAndHandsOutCopies(t *testing.T) {
	c := newWatchDecodes()
	var decodes atomic.Int32
	so := consensus.Object{Kind: "Pod", Namespace: "default", Name: "web", ResourceVersion: 7}
	fn := func() (workload.Object, error) {
		decodes.Add(1)
		p := &workload.Pod{}
		p.ObjectMeta.Name = "web"
		p.ObjectMeta.Labels = map[string]string{"app": "web"}
		return p, nil
	}
	var wg sync.WaitGroup
	got := make([]workload.Object, 50)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := c.decode(3, so, fn)
			if err != nil {
				t.Error(err)
			}
			got[i] = o
		}()
	}
	wg.Wait()
	if n := decodes.Load(); n != 1 {
		t.Errorf("%d decodes for 50 watches of one version, want 1", n)
	}
	got[0].SetLabels(map[string]string{"app": "changed"})
	if l := got[1].GetLabels()["app"]; l != "web" {
		t.Errorf("a watch's change reached another's object: label %q", l)
	}
	if again, _ := c.decode(3, so, fn); again.GetLabels()["app"] != "web" {
		t.Errorf("a watch's change reached the kept object: %v", again.GetLabels())
	}
	// Another version, or the same in another shard, is decoded anew.
	so.ResourceVersion = 8
	_, _ = c.decode(3, so, fn)
	_, _ = c.decode(4, so, fn)
	if n := decodes.Load(); n != 3 {
		t.Errorf("%d decodes, want 3", n)
	}
}

func TestWatchDecodesKeepsTheLastVersionsOnly(t *testing.T) {
	c := newWatchDecodes()
	var decodes int
	fn := func() (workload.Object, error) { decodes++; return &workload.ConfigMap{}, nil }
	at := func(i int) consensus.Object {
		return consensus.Object{Kind: "ConfigMap", Namespace: "default", Name: fmt.Sprint("cm-", i), ResourceVersion: uint64(i)}
	}
	for i := range watchDecodeLimit + 10 {
		_, _ = c.decode(1, at(i), fn)
	}
	if len(c.entries) != watchDecodeLimit {
		t.Errorf("%d kept, want %d", len(c.entries), watchDecodeLimit)
	}
	decodes = 0
	_, _ = c.decode(1, at(watchDecodeLimit+9), fn) // the newest: kept
	_, _ = c.decode(1, at(0), fn)                  // the oldest: dropped
	if decodes != 1 {
		t.Errorf("%d decodes, want 1 (the dropped oldest)", decodes)
	}
	if _, err := c.decode(1, consensus.Object{Kind: "Pod", Name: "bad"}, func() (workload.Object, error) { return nil, fmt.Errorf("no") }); err == nil {
		t.Error("a failed decode gave no error")
	}
}
