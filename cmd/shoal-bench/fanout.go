package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// fanoutBench is issue 20's watch fan-out figure: --informers client-go
// pod informers (client-go's defaults: a streaming list, then a watch) on
// one peer, while --pods pods are created through another; it prints the
// time from the first create until every informer has seen every pod, and
// the CPU the watched peer used meanwhile (--pid, from /proc). The pods
// are bound to a node that does not exist, so no scheduler or node agent
// works on them: the load is the store's and the API's.
func fanoutBench(args []string) error {
	fs := flag.NewFlagSet("fanout", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "a peer's admin.conf")
	watchVia := fs.String("watch-server", "", "the API URL the informers watch through (https://HOST:PORT)")
	writeVia := fs.String("write-server", "", "the API URL the pods are created through")
	pid := fs.Int("pid", 0, "the watched peer's process, for its CPU")
	n := fs.Int("informers", 100, "pod informers")
	pods := fs.Int("pods", 1000, "pods to create")
	writers := fs.Int("writers", 16, "concurrent creates")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	_ = fs.Parse(args)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client := func(server string, qps float32) (*kubernetes.Clientset, error) {
		cfg, err := clientcmd.BuildConfigFromFlags(server, *kubeconfig)
		if err != nil {
			return nil, err
		}
		cfg.QPS, cfg.Burst = qps, int(qps)
		return kubernetes.NewForConfig(cfg)
	}
	const ns = "fanout"
	wc, err := client(*writeVia, 1000)
	if err != nil {
		return err
	}
	if _, err := wc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	var seen []*atomic.Int64
	var synced []cache.InformerSynced
	stop := make(chan struct{})
	defer close(stop)
	for range *n {
		cs, err := client(*watchVia, 50)
		if err != nil {
			return err
		}
		f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
		inf := f.Core().V1().Pods().Informer()
		c := &atomic.Int64{}
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(any) { c.Add(1) }})
		seen, synced = append(seen, c), append(synced, inf.HasSynced)
		f.Start(stop)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("the informers did not sync")
	}
	fmt.Printf("%d informers synced on %s\n", *n, *watchVia)
	cpu0 := procCPU(*pid)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, *writers)
	for range *writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(*pods) {
					return
				}
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p-" + strconv.FormatInt(i, 10)},
					Spec: corev1.PodSpec{NodeName: "nowhere", Containers: []corev1.Container{{Name: "c", Image: "img:v1"}}}}
				if _, err := wc.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	created := time.Since(start)
	select {
	case err := <-errs:
		return err
	default:
	}
	for {
		done := 0
		for _, c := range seen {
			if c.Load() >= int64(*pods) {
				done++
			}
		}
		if done == len(seen) {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("after %s only %d of %d informers saw every pod", time.Since(start), done, len(seen))
		}
		time.Sleep(5 * time.Millisecond) // polling counters, bounded by the timeout
	}
	all := time.Since(start)
	cpu := procCPU(*pid) - cpu0
	fmt.Printf("fan-out: %d pods created in %s; all %d informers saw every pod %s after the first create; the watched peer used %.1f s of CPU (%.0f%% of a core)\n",
		*pods, created.Round(time.Millisecond), *n, all.Round(time.Millisecond), cpu, 100*cpu/all.Seconds())
	return nil
}

// procCPU is a process's user and system CPU in seconds (0 without a pid).
func procCPU(pid int) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // clock ticks
}
