// Command webapp is Shoal's example web service, the program in the
// shoal.local/webapp images that the examples and the end-to-end tests run.
// It uses the standard library only.
//
//	GET  /         "hello from NAME (VERSION)" where NAME is $POD_NAME or the
//	               host name, followed by the content of the file named by
//	               $CONTENT_FILE when that is set and the file exists
//	GET  /healthz  200 "ok", or 500 after POST /fail
//	POST /fail     make /healthz answer 500 from now on
//	POST /recover  make /healthz answer 200 again
//	GET  /self     what the process sees of itself, one "key: value" line
//	               each: uid, gid, groups, whether / is writable
//	               (rootWritable), whether chown works (chown), and the
//	               CapEff, NoNewPrivs and Seccomp lines of /proc/self/status
//	GET  /file?path=P  the content of file P (for volume tests)
//	GET  /env?name=N   the value of environment variable N
//
// It listens on $PORT (default 8080) and prints one line per request on
// stdout. On SIGTERM it prints "shutting down", finishes the requests in
// flight and exits 0. With $EXIT_AFTER set to a duration ("2s") it exits
// with code 3 that long after starting, for crash and back-off tests.
// VERSION is "v1" unless the build sets it: -ldflags "-X main.version=v2".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// version is part of every answer to GET /, so a rolling update can be seen
// from outside. Set at build time.
var version = "v1"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Getenv, os.Stdout))
}

// run serves until ctx ends (exit code 0) or $EXIT_AFTER passes (3); a
// configuration or listen error is exit code 1.
func run(ctx context.Context, getenv func(string) string, out io.Writer) int {
	logger := log.New(out, "", 0)
	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	var exitAfter <-chan time.Time
	if s := getenv("EXIT_AFTER"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			logger.Printf("EXIT_AFTER=%q: %v", s, err)
			return 1
		}
		t := time.NewTimer(d)
		defer t.Stop()
		exitAfter = t.C
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		logger.Printf("listen: %v", err)
		return 1
	}
	return serve(ctx, ln, newApp(getenv, logger), logger, exitAfter)
}

func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *log.Logger, exitAfter <-chan time.Time) int {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Printf("listening on %s", ln.Addr())
	select {
	case err := <-served:
		logger.Printf("serve: %v", err)
		return 1
	case <-exitAfter:
		logger.Printf("EXIT_AFTER reached, exiting with code 3")
		return 3
	case <-ctx.Done():
	}
	logger.Printf("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Printf("shutdown: %v", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Printf("serve: %v", err)
	}
	return 0
}

type app struct {
	name        string
	contentFile string
	failing     atomic.Bool
	logger      *log.Logger
}

func newApp(getenv func(string) string, logger *log.Logger) *app {
	name := getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	return &app{name: name, contentFile: getenv("CONTENT_FILE"), logger: logger}
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	a.route(rec, r)
	a.logger.Printf("%s %s %d %s", r.Method, r.URL.Path, rec.status, r.RemoteAddr)
}

func (a *app) route(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		fmt.Fprintf(w, "hello from %s (%s)\n", a.name, version)
		if a.contentFile != "" {
			if b, err := os.ReadFile(a.contentFile); err == nil {
				w.Write(b)
			}
		}
	case r.URL.Path == "/healthz" && r.Method == http.MethodGet:
		if a.failing.Load() {
			http.Error(w, "failing", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	case r.URL.Path == "/fail" && r.Method == http.MethodPost:
		a.failing.Store(true)
		fmt.Fprintln(w, "healthz now fails")
	case r.URL.Path == "/recover" && r.Method == http.MethodPost:
		a.failing.Store(false)
		fmt.Fprintln(w, "healthz now ok")
	case r.URL.Path == "/self" && r.Method == http.MethodGet:
		writeSelf(w)
	case r.URL.Path == "/file" && r.Method == http.MethodGet:
		b, err := os.ReadFile(r.URL.Query().Get("path"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Write(b)
	case r.URL.Path == "/env" && r.Method == http.MethodGet:
		v, ok := os.LookupEnv(r.URL.Query().Get("name"))
		if !ok {
			http.Error(w, "not set", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, v)
	default:
		http.NotFound(w, r)
	}
}

// writeSelf reports the process's identity and privileges, for the
// end-to-end tests of securityContext.
func writeSelf(w io.Writer) {
	groups, _ := os.Getgroups()
	fmt.Fprintf(w, "uid: %d\ngid: %d\ngroups: %v\n", os.Getuid(), os.Getgid(), groups)
	f, err := os.CreateTemp("/", "probe-")
	fmt.Fprintf(w, "rootWritable: %t\n", err == nil)
	if err == nil {
		f.Close()
		os.Remove(f.Name())
	}
	tmp, err := os.CreateTemp(os.TempDir(), "chown-")
	if err == nil {
		err = os.Chown(tmp.Name(), 4242, 4242)
		tmp.Close()
		os.Remove(tmp.Name())
	}
	fmt.Fprintf(w, "chown: %t\n", err == nil)
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(st), "\n") {
			for _, k := range []string{"CapEff:", "NoNewPrivs:", "Seccomp:"} {
				if strings.HasPrefix(line, k) {
					fmt.Fprintf(w, "%s %s\n", strings.TrimSuffix(k, ":")+":", strings.TrimSpace(strings.TrimPrefix(line, k)))
				}
			}
		}
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
