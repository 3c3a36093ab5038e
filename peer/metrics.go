package peer

import (
	"log"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the peer's own Prometheus series; the registry also carries
// the Go runtime and process collectors.
type metrics struct {
	requests *prometheus.CounterVec
	joins    *prometheus.CounterVec
	// scheduleAttempts counts pods a scheduling pass decided on, by
	// result, as Kubernetes' scheduler_schedule_attempts_total does:
	// scheduled (bound), unschedulable (fits nowhere), conflict (its claim
	// or binding lost a compare-and-swap; the next pass decides again),
	// error (the store refused or timed out).
	scheduleAttempts *prometheus.CounterVec
	// schedulePass times the passes that had pods to place.
	schedulePass prometheus.Histogram
	// eventsDropped counts events dropped because the background writer
	// was that far behind (events.go).
	eventsDropped prometheus.Counter
}

func newMetrics(p *Peer) (*prometheus.Registry, *metrics) {
	reg := prometheus.NewRegistry()
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_api_requests_total", Help: "API requests answered, by method and status code.",
		}, []string{"method", "code"}),
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_joins_total", Help: "Join requests this peer answered, by result (admitted, rejected).",
		}, []string{"result"}),
	}
	m.scheduleAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shoal_scheduler_schedule_attempts_total", Help: "Pods this peer's scheduling passes decided on, by result (scheduled, unschedulable, conflict, error).",
	}, []string{"result"})
	m.schedulePass = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "shoal_scheduler_pass_duration_seconds", Help: "Scheduling passes that had pending pods, from listing to the last binding.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	})
	m.eventsDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "shoal_events_dropped_total", Help: "Events dropped because too many were waiting to be written.",
	})
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "shoal_build_info", Help: "Always 1; labels say the build.",
		ConstLabels: prometheus.Labels{"version": Version, "peer": p.cfg.Name},
	})
	build.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.joins, m.scheduleAttempts, m.schedulePass, m.eventsDropped, build,
		&gossipCollector{p: p},
		&storeCollector{p: p},
	)
	return reg, m
}

// Metrics is the peer's registry, as /metrics serves it: for tools that
// run peers in their own process.
func (p *Peer) Metrics() prometheus.Gatherer { return p.reg }

// gossipCollector reads membership counts at scrape time.
type gossipCollector struct{ p *Peer }

var (
	membersDesc = prometheus.NewDesc("shoal_gossip_members", "Members this peer knows, by status.", []string{"status"}, nil)
	dropsDesc   = prometheus.NewDesc("shoal_gossip_event_drops_total", "Membership events dropped because a subscriber was slow.", nil, nil)
)

func (c *gossipCollector) Describe(ch chan<- *prometheus.Desc) { ch <- membersDesc; ch <- dropsDesc }

func (c *gossipCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.p.gossip.Stats()
	for status, n := range map[string]int{"alive": st.Alive, "suspect": st.Suspect, "leaving": st.Leaving, "left": st.Left, "failed": st.Failed} {
		ch <- prometheus.MustNewConstMetric(membersDesc, prometheus.GaugeValue, float64(n), status)
	}
	ch <- prometheus.MustNewConstMetric(dropsDesc, prometheus.CounterValue, float64(st.EventsDropped))
}

// storeCollector reads the store's group-commit counters at scrape time:
// batches per entry is how well concurrent writes share raft entries.
type storeCollector struct{ p *Peer }

var (
	entriesDesc = prometheus.NewDesc("shoal_store_proposed_entries_total", "Raft entries this peer proposed, over all shards.", nil, nil)
	batchesDesc = prometheus.NewDesc("shoal_store_proposed_batches_total", "Write batches those entries carried (group commit packs several into one entry).", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- entriesDesc; ch <- batchesDesc }

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	entries, batches := c.p.host.ProposeStats()
	ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.CounterValue, float64(entries))
	ch <- prometheus.MustNewConstMetric(batchesDesc, prometheus.CounterValue, float64(batches))
}

// instrument counts every request by method and status.
func (m *metrics) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.requests.WithLabelValues(r.Method, strconv.Itoa(sw.status)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush passes through, so streaming answers (watch) reach the client.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// slogErrorLog routes net/http's own error log (TLS handshake failures and
// the like) into slog at debug level: a port scanner should not flood logs.
func slogErrorLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelDebug)
}
