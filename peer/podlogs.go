package peer

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload/runtime"
)

// The log subresource takes Kubernetes' PodLogOptions as query
// parameters, and refuses with a 400 what it cannot honour rather than
// ignore it:
//
//	container     the container (needed when the pod has several)
//	follow        keep streaming until the container exits or the client goes
//	previous      the output of the run before the last one
//	tailLines     only the last N lines
//	limitBytes    at most N bytes
//	sinceSeconds, sinceTime  only what was written since then. The runtime
//	              keeps a run's output without a time per line, so this is
//	              answered when the whole run is on one side of the limit:
//	              all of it when the run started at or after it, nothing when
//	              it ended before; a limit inside a run is refused (400)
//	timestamps    refused (400) when true, for the same reason
//	stream        All only: the runtime keeps stdout and stderr as one stream
//	insecureSkipTLSVerifyBackend  accepted: it permits skipping the check of
//	              the node's certificate, and peers always check each other's
//
// Errors are Kubernetes' Status: Invalid for out-of-range values (as
// kube-apiserver validates PodLogOptions), BadRequest for the rest.

// logQuery is a log request's parameters.
type logQuery struct {
	container  string
	opts       runtime.LogOptions
	since      time.Time // zero: no limit
	limitBytes int64     // 0: no limit
}

var logParams = []string{"container", "follow", "previous", "tailLines", "limitBytes", "sinceSeconds", "sinceTime",
	"timestamps", "stream", "insecureSkipTLSVerifyBackend", "pretty"}

// parseLogQuery reads and validates a log request's parameters; now is
// what sinceSeconds counts back from.
func parseLogQuery(q url.Values, now time.Time, pod string) (logQuery, error) {
	lq := logQuery{container: q.Get("container"), opts: runtime.LogOptions{TailLines: runtime.AllLines}}
	if err := checkQuery(q, logParams); err != nil {
		return lq, err
	}
	var err error
	bools := map[string]*bool{"follow": &lq.opts.Follow, "previous": &lq.opts.Previous}
	var timestamps, insecure bool
	bools["timestamps"], bools["insecureSkipTLSVerifyBackend"] = &timestamps, &insecure
	for k, p := range bools {
		if *p, err = queryBool(q, k); err != nil {
			return lq, err
		}
	}
	var errs field.ErrorList
	ints := map[string]*int64{}
	for _, k := range []string{"tailLines", "limitBytes", "sinceSeconds"} {
		v, ok := q[k]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil {
			return lq, apierrors.NewBadRequest(fmt.Sprintf("%s: %q is not a whole number", k, v[0]))
		}
		ints[k] = &n
	}
	if n := ints["tailLines"]; n != nil {
		if *n < 0 {
			errs = append(errs, field.Invalid(field.NewPath("tailLines"), *n, "must be greater than or equal to 0"))
		} else {
			lq.opts.TailLines = int(min(*n, int64(^uint(0)>>1)))
		}
	}
	if n := ints["limitBytes"]; n != nil {
		if *n < 1 {
			errs = append(errs, field.Invalid(field.NewPath("limitBytes"), *n, "must be greater than 0"))
		}
		lq.limitBytes = *n
	}
	sinceTime, hasSinceTime := q["sinceTime"]
	switch n := ints["sinceSeconds"]; {
	case n != nil && hasSinceTime:
		errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	case n != nil:
		if *n < 1 {
			errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), *n, "must be greater than 0"))
		}
		lq.since = now.Add(-time.Duration(*n) * time.Second)
	case hasSinceTime:
		t, err := time.Parse(time.RFC3339, sinceTime[0])
		if err != nil {
			return lq, apierrors.NewBadRequest(fmt.Sprintf("sinceTime: %q is not an RFC 3339 time", sinceTime[0]))
		}
		lq.since = t
	}
	if len(errs) > 0 {
		return lq, apierrors.NewInvalid(schema.GroupKind{Kind: "PodLogOptions"}, pod, errs)
	}
	if timestamps {
		return lq, apierrors.NewBadRequest("timestamps=true is not supported: Shoal's container runtime does not record when each line was written")
	}
	if s := q.Get("stream"); s != "" && s != "All" {
		return lq, apierrors.NewBadRequest(fmt.Sprintf("stream=%s is not supported: Shoal's container runtime keeps stdout and stderr as one stream (stream=All)", s))
	}
	return lq, nil
}

// sinceKeeps says what a since limit leaves of a run's log, which has no
// time per line: all of it when the run started at or after since, none
// when it ended before (finished zero: it has not ended). A limit inside
// the run cannot be answered: ErrInvalid.
func sinceKeeps(since, started, finished time.Time) (bool, error) {
	switch {
	case !since.After(started):
		return true, nil
	case !finished.IsZero() && since.After(finished):
		return false, nil
	}
	return false, errdefs.Newf(errdefs.ErrInvalid, "since %s falls within the container's run (started %s): Shoal's container runtime keeps no time per line, so it cannot tell which lines are newer; use tailLines",
		since.UTC().Format(time.RFC3339), started.UTC().Format(time.RFC3339))
}

// checkQuery refuses a query parameter outside allowed, as kubeapi does.
func checkQuery(q url.Values, allowed []string) error {
	var bad []string
	for k := range q {
		if !contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return apierrors.NewBadRequest("unsupported query parameter(s): " + strings.Join(bad, ", "))
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

// queryBool reads a boolean parameter as Kubernetes does ("true", "1" or
// empty is true; "false" or "0" false), refusing anything else.
func queryBool(q url.Values, key string) (bool, error) {
	v, ok := q[key]
	if !ok || len(v) == 0 {
		return false, nil
	}
	switch strings.ToLower(v[0]) {
	case "", "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, apierrors.NewBadRequest(fmt.Sprintf("%s: %q is not a boolean", key, v[0]))
}

// podLog serves a pod's log: from the runtime when the pod runs here,
// else relayed to its peer, which reads the parameters again.
func (p *Peer) podLog(w http.ResponseWriter, r *http.Request, ns, name string) {
	lq, err := parseLogQuery(r.URL.Query(), p.cfg.Now(), name)
	if err != nil {
		writeStreamError(w, r, err)
		return
	}
	pod, id, rt, ok := p.containerHere(w, r, ns, name, lq.container)
	if !ok {
		return
	}
	st, err := rt.ContainerStatus(r.Context(), id)
	if err != nil {
		writeStreamError(w, r, err)
		return
	}
	cname := containerName(pod, lq.container)
	errPrevious := apierrors.NewBadRequest(fmt.Sprintf("previous terminated container %q in pod %q not found", cname, name))
	if !lq.since.IsZero() {
		started, finished := st.StartedAt, time.Time{}
		if st.State == runtime.ContainerExited {
			finished = st.FinishedAt
		}
		if lq.opts.Previous {
			cs, _ := containerStatus(pod, cname)
			t := cs.LastTerminationState.Terminated
			if t == nil {
				writeStreamError(w, r, errPrevious)
				return
			}
			// The status keeps whole seconds: the run ended before the
			// next second.
			started, finished = t.StartedAt.Time, t.FinishedAt.Time.Add(time.Second)
		}
		keep, err := sinceKeeps(lq.since, started, finished)
		if err != nil {
			writeStreamError(w, r, err)
			return
		}
		if !keep {
			lq.opts.TailLines, lq.opts.Follow = 0, false
		}
	}
	out := &logAnswer{w: w, fw: newFlushWriter(w)}
	var dst io.Writer = out
	if lq.limitBytes > 0 {
		dst = &limitWriter{w: out, left: lq.limitBytes}
	}
	if lq.opts.Follow && !lq.opts.Previous {
		out.start() // kubectl waits for the answer's headers before it prints
	}
	err = rt.Logs(r.Context(), id, lq.opts, dst)
	switch {
	case err == nil || errors.Is(err, errLimitReached):
	case !out.started && lq.opts.Previous && errors.Is(err, errdefs.ErrNotFound):
		writeStreamError(w, r, errPrevious)
		return
	case !out.started:
		writeStreamError(w, r, err)
		return
	case r.Context().Err() == nil:
		p.log.Warn("pod log stream ended early", "component", "podstreams", "pod", ns+"/"+name, "container", cname, "err", err)
	}
	out.start() // an empty log is an empty answer
}

// logAnswer starts a 200 text/plain answer at its first write, so that an
// error before any output is still answered with a Status. Writes flush.
type logAnswer struct {
	w       http.ResponseWriter
	fw      flushWriter
	started bool
}

func (a *logAnswer) start() {
	if a.started {
		return
	}
	a.started = true
	a.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	a.w.WriteHeader(http.StatusOK)
	a.fw.flush()
}

func (a *logAnswer) Write(b []byte) (int, error) {
	a.start()
	return a.fw.Write(b)
}

// errLimitReached ends a log at its limitBytes.
var errLimitReached = errors.New("limitBytes reached")

// limitWriter passes on at most left bytes, then fails with
// errLimitReached.
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if l.left <= 0 {
		return 0, errLimitReached
	}
	cut := int64(len(b)) > l.left
	if cut {
		b = b[:l.left]
	}
	n, err := l.w.Write(b)
	l.left -= int64(n)
	if err == nil && cut {
		err = errLimitReached
	}
	return n, err
}
