// Command testee is the program inside the runtime conformance image
// (runtimetest.TesteeImage). Its arguments are a script of steps run in
// order, so one binary plays every part the suite needs:
//
//	echo TEXT         print TEXT and a newline on stdout
//	stderr TEXT       print TEXT and a newline on stderr
//	lines N           print "line 1" ... "line N" on stdout
//	env NAME          print the value of $NAME on stdout
//	hostname          print the host name on stdout
//	cat               copy stdin to stdout until EOF
//	cat-file PATH     copy the file at PATH to stdout
//	write-file PATH TEXT  write TEXT to the file at PATH
//	try-write-file PATH TEXT  the same, then print "try-write-file: ok" or
//	                  the error on stdout, and go on either way
//	id                print "uid=U gid=G groups=G1,G2,..." (groups sorted)
//	try-chown PATH    chown PATH to 4321:4321, then print "try-chown: ok" or
//	                  the error, and go on either way
//	status FIELD      print the value of FIELD in /proc/self/status
//	                  ("NoNewPrivs", "Seccomp", "CapEff")
//	alloc MIB         allocate and touch MIB mebibytes, then keep them
//	serve ADDR        serve HTTP on ADDR in the background: GET / answers
//	                  "testee <hostname>\n"
//	get URL           print the body of GET URL (exit 100 on an error)
//	wait              block until SIGTERM, then print "terminated" and exit 0
//	                  (until SIGKILL after ignore-term)
//	ignore-term       from now on, ignore SIGTERM
//	exit N            exit with code N
//
// A script that ends without exit or wait exits 0. runtimetest's fake
// behaviour (runtimetest.FakeBehaviour) describes the same language for the
// fake runtime, so both pass one suite.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var kept [][]byte

func main() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	args := os.Args[1:]
	for len(args) > 0 {
		verb := args[0]
		need := map[string]int{"echo": 1, "stderr": 1, "lines": 1, "env": 1, "cat-file": 1,
			"write-file": 2, "try-write-file": 2, "try-chown": 1, "status": 1, "alloc": 1, "serve": 1, "get": 1, "exit": 1}[verb]
		if len(args) < 1+need {
			fail("%s: needs %d argument(s)", verb, need)
		}
		p := args[1 : 1+need]
		args = args[1+need:]
		switch verb {
		case "echo":
			fmt.Println(p[0])
		case "stderr":
			fmt.Fprintln(os.Stderr, p[0])
		case "lines":
			for i := 1; i <= atoi(p[0]); i++ {
				fmt.Printf("line %d\n", i)
			}
		case "env":
			fmt.Println(os.Getenv(p[0]))
		case "hostname":
			h, _ := os.Hostname()
			fmt.Println(h)
		case "cat":
			if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
				fail("cat: %v", err)
			}
		case "cat-file":
			b, err := os.ReadFile(p[0])
			if err != nil {
				fail("cat-file: %v", err)
			}
			os.Stdout.Write(b)
		case "write-file":
			if err := os.WriteFile(p[0], []byte(p[1]), 0o644); err != nil {
				fail("write-file: %v", err)
			}
		case "try-write-file":
			if err := os.WriteFile(p[0], []byte(p[1]), 0o644); err != nil {
				fmt.Printf("try-write-file: %v\n", err)
			} else {
				fmt.Println("try-write-file: ok")
			}
		case "id":
			groups, err := os.Getgroups()
			if err != nil {
				fail("id: %v", err)
			}
			sort.Ints(groups)
			ids := make([]string, len(groups))
			for i, g := range groups {
				ids[i] = strconv.Itoa(g)
			}
			fmt.Printf("uid=%d gid=%d groups=%s\n", os.Getuid(), os.Getgid(), strings.Join(ids, ","))
		case "try-chown":
			if err := os.Chown(p[0], 4321, 4321); err != nil {
				fmt.Printf("try-chown: %v\n", err)
			} else {
				fmt.Println("try-chown: ok")
			}
		case "status":
			b, err := os.ReadFile("/proc/self/status")
			if err != nil {
				fail("status: %v", err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && k == p[0] {
					fmt.Println(strings.TrimSpace(v))
				}
			}
		case "alloc":
			for i := 0; i < atoi(p[0]); i++ {
				b := make([]byte, 1<<20)
				for j := range b {
					b[j] = 1
				}
				kept = append(kept, b)
			}
			fmt.Printf("allocated %s MiB\n", p[0])
		case "serve":
			addr := p[0]
			go func() {
				h, _ := os.Hostname()
				err := http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprintf(w, "testee %s\n", h)
				}))
				fail("serve: %v", err)
			}()
		case "get":
			client := &http.Client{Timeout: 10 * time.Second}
			resp, err := client.Get(p[0])
			if err != nil {
				fail("get: %v", err)
			}
			io.Copy(os.Stdout, resp.Body)
			resp.Body.Close()
		case "wait":
			<-term
			fmt.Println("terminated")
			os.Exit(0)
		case "ignore-term":
			signal.Ignore(syscall.SIGTERM)
		case "exit":
			os.Exit(atoi(p[0]))
		default:
			fail("unknown step %q", verb)
		}
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail("%q: not a number", s)
	}
	return n
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "testee: "+format+"\n", a...)
	os.Exit(100)
}
