package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/poll"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestRootAnswersWithPodNameVersionAndContent(t *testing.T) {
	content := filepath.Join(t.TempDir(), "index.txt")
	if err := os.WriteFile(content, []byte("from a config map\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a := newApp(env(map[string]string{"POD_NAME": "web-1", "CONTENT_FILE": content}), log.New(&out, "", 0))

	code, body := get(t, a, "GET", "/")
	if code != 200 || body != "hello from web-1 (v1)\nfrom a config map\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	if !strings.Contains(out.String(), "GET / 200") {
		t.Fatalf("request not logged on stdout: %q", out.String())
	}
}

func TestRootWithoutContentFileAnswersGreetingOnly(t *testing.T) {
	a := newApp(env(map[string]string{"POD_NAME": "web-2", "CONTENT_FILE": "/does/not/exist"}), log.New(io.Discard, "", 0))
	if code, body := get(t, a, "GET", "/"); code != 200 || body != "hello from web-2 (v1)\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
}

func TestHealthzFailsAfterFailAndRecovers(t *testing.T) {
	a := newApp(env(map[string]string{"POD_NAME": "w"}), log.New(io.Discard, "", 0))
	steps := []struct {
		method, path string
		want         int
	}{
		{"GET", "/healthz", 200},
		{"POST", "/fail", 200},
		{"GET", "/healthz", 500},
		{"GET", "/healthz", 500},
		{"POST", "/recover", 200},
		{"GET", "/healthz", 200},
		{"GET", "/nope", 404},
	}
	for _, s := range steps {
		if code, _ := get(t, a, s.method, s.path); code != s.want {
			t.Fatalf("%s %s = %d, want %d", s.method, s.path, code, s.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestShutdownFinishesInFlightRequestAndExitsZero(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	logger := log.New(&out, "", 0)
	entered, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	go func() { exit <- serve(ctx, ln, slow, logger, nil) }()

	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- string(b)
	}()
	<-entered
	cancel() // as SIGTERM does
	if !poll.Until(10*time.Second, time.Millisecond, func() bool { return strings.Contains(out.String(), "shutting down") }) {
		t.Fatalf("no shutting down line: %q", out.String())
	}
	close(release)
	if got := <-answer; got != "done" {
		t.Fatalf("in-flight request got %q, want done", got)
	}
	if code := <-exit; code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
}

func TestExitAfterExitsWithThree(t *testing.T) {
	var out syncBuffer
	code := run(context.Background(), env(map[string]string{"PORT": "0", "EXIT_AFTER": "1ms"}), &out)
	if code != 3 {
		t.Fatalf("exit code %d, want 3 (output %q)", code, out.String())
	}
	if code := run(context.Background(), env(map[string]string{"PORT": "0", "EXIT_AFTER": "soon"}), &out); code != 1 {
		t.Fatalf("bad EXIT_AFTER: exit code %d, want 1", code)
	}
}

func TestSelfFileAndEnv(t *testing.T) {
	a := newApp(func(string) string { return "" }, log.New(io.Discard, "", 0))
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/self"); code != 200 || !strings.Contains(body, fmt.Sprintf("uid: %d\n", os.Getuid())) || !strings.Contains(body, "rootWritable: ") {
		t.Errorf("/self: %d %q", code, body)
	}
	f := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(f, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := get("/file?path=" + f); code != 200 || body != "content" {
		t.Errorf("/file: %d %q", code, body)
	}
	t.Setenv("WEBAPP_TEST_VAR", "v")
	if code, body := get("/env?name=WEBAPP_TEST_VAR"); code != 200 || body != "v" {
		t.Errorf("/env: %d %q", code, body)
	}
	if code, _ := get("/env?name=WEBAPP_UNSET_VAR"); code != 404 {
		t.Errorf("/env of an unset variable: %d", code)
	}
}
