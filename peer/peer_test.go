package peer

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/internal/pki"
	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

func TestClustersOf1_3_5SeeEachOtherAlive(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("peers=%d", n), func(t *testing.T) {
			c := newTestCluster(t)
			c.start("p1", "")
			for i := 2; i <= n; i++ {
				// Each peer joins through the one before it: any peer admits.
				c.start(fmt.Sprintf("p%d", i), fmt.Sprintf("p%d", i-1))
			}
			names := c.names()
			for _, name := range names {
				c.waitStatus(name, "alive", names...)
			}
			for _, o := range names {
				if got := len(c.statuses(o)); got != n {
					t.Fatalf("%s sees %d members, want %d", o, got, n)
				}
			}
		})
	}
}

func TestKilledPeerIsFailedThenRestartsWithSameIdentity(t *testing.T) {
	c := newTestCluster(t)
	c.startPeers(3)
	c.waitStatus("p3", "alive", "p1", "p2")
	certBefore := c.peers["p2"].st.PeerCert

	c.peers["p2"].Kill()
	c.waitStatus("p2", "failed", "p1", "p3")

	p2 := c.start("p2", "") // same data dir, no --join: it rejoins whom it knew
	if !p2.st.PeerCert.Equal(certBefore) || p2.st.ClusterID != c.peers["p1"].st.ClusterID {
		t.Fatal("restarted peer has a new identity")
	}
	c.waitStatus("p2", "alive", "p1", "p2", "p3")
}

func TestJoinThroughSecondPeerAfterFirstStopped(t *testing.T) {
	c := newTestCluster(t)
	c.start("p1", "")
	c.start("p2", "p1")
	c.waitStatus("p2", "alive", "p1")
	token := c.joinToken()
	c.peers["p1"].Kill()
	c.waitStatus("p1", "failed", "p2")

	if _, err := c.tryStart("p3", "p2", token); err != nil {
		t.Fatalf("join through p2 with p1 down: %v", err)
	}
	c.waitStatus("p3", "alive", "p2", "p3")
	c.waitStatus("p2", "alive", "p3")
}

func TestGracefulLeaveThenRejoin(t *testing.T) {
	c := newTestCluster(t)
	c.start("p1", "")
	c.start("p2", "p1")
	c.waitStatus("p2", "alive", "p1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.client("p2").Leave(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.peers["p2"].LeaveRequested():
	case <-ctx.Done():
		t.Fatal("leave request did not reach the peer")
	}
	if err := c.peers["p2"].Leave(ctx); err != nil {
		t.Fatal(err)
	}
	c.waitStatus("p2", "left", "p1")
	c.start("p2", "")
	c.waitStatus("p2", "alive", "p1", "p2")
}

// joinErr asserts that a join fails with an error mentioning want, and that
// no member of the cluster lists the intruder.
func joinErr(t *testing.T, c *testCluster, name, via, token, want string) {
	t.Helper()
	_, err := c.tryStart(name, via, token)
	if err == nil {
		t.Fatalf("join of %s succeeded, want an error mentioning %q", name, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("join error %q does not mention %q", err, want)
	}
	if _, ok := c.statuses(via)[name]; ok {
		t.Fatalf("%s is listed as a member after a failed join", name)
	}
}

func TestJoinRejections(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	c := newTestCluster(t)
	c.now = clock.Now
	c.start("p1", "")
	good := c.joinToken()
	parsed, _ := ParseToken(good)
	ctx := context.Background()
	cl := c.client("p1")

	t.Run("wrong secret", func(t *testing.T) {
		joinErr(t, c, "x1", "p1", FormatToken(parsed.CAPin, parsed.ID, "0000000000000000"), "wrong secret")
	})
	t.Run("unknown id", func(t *testing.T) {
		joinErr(t, c, "x2", "p1", FormatToken(parsed.CAPin, "zzzzzz", parsed.Secret), "not known")
	})
	t.Run("not a token", func(t *testing.T) {
		joinErr(t, c, "x3", "p1", "hello", "K10")
	})
	t.Run("revoked", func(t *testing.T) {
		tk, err := cl.CreateToken(ctx, api.TokenCreate{TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.RevokeToken(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
		joinErr(t, c, "x4", "p1", tk.Token, "revoked")
	})
	t.Run("expired", func(t *testing.T) {
		tk, err := cl.CreateToken(ctx, api.TokenCreate{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Minute)
		joinErr(t, c, "x5", "p1", tk.Token, "expired")
	})
	t.Run("api token cannot join", func(t *testing.T) {
		tk, err := cl.CreateToken(ctx, api.TokenCreate{Usage: UsageAPI})
		if err != nil {
			t.Fatal(err)
		}
		id, secret, _ := strings.Cut(tk.Token, ".")
		joinErr(t, c, "x6", "p1", FormatToken(parsed.CAPin, id, secret), "not a join token")
	})
	t.Run("token for another CA", func(t *testing.T) {
		other := newTestCluster(t)
		other.start("q1", "")
		joinErr(t, c, "x7", "p1", other.joinToken(), "CA")
	})
	t.Run("name taken by a live peer", func(t *testing.T) {
		c.dirs["p1-again"] = filepath.Join(t.TempDir(), "d")
		_, err := Start(ctx, Config{Name: "p1", DataDir: c.dirs["p1-again"], BindAddr: "127.0.0.1", Join: c.peers["p1"].APIAddr(), Token: good, Logger: testLogger(t)})
		if !errors.Is(err, errdefs.ErrConflict) {
			t.Fatalf("duplicate name: got %v, want ErrConflict", err)
		}
	})
}

func TestWrongGossipKeyIsRejected(t *testing.T) {
	c := newTestCluster(t)
	c.start("p1", "")
	c.start("p2", "p1")
	c.waitStatus("p2", "alive", "p1")
	c.peers["p2"].Kill()
	c.waitStatus("p2", "failed", "p1")

	// Give p2 a keyring that is not the cluster's, as a data dir from another
	// cluster would have.
	d := dataDir(c.dirs["p2"])
	st, err := d.load()
	if err != nil {
		t.Fatal(err)
	}
	st.GossipKeyring = [][]byte{pki.NewSymmetricKey()}
	if err := d.save(st); err != nil {
		t.Fatal(err)
	}
	_, err = c.tryStart("p2", "", "")
	if err == nil || !strings.Contains(err.Error(), "gossip key") {
		t.Fatalf("restart with a wrong gossip key: got %v, want an error about the gossip key", err)
	}
	if got := c.statuses("p1")["p2"]; got != "failed" {
		t.Fatalf("p2 is %q in p1's view, want still failed", got)
	}
}

func TestTokensSpreadToEveryPeer(t *testing.T) {
	c := newTestCluster(t)
	c.start("p1", "")
	c.start("p2", "p1")
	c.start("p3", "p2")
	c.waitStatus("p3", "alive", "p1", "p2")
	ctx := context.Background()
	tk, err := c.client("p1").CreateToken(ctx, api.TokenCreate{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// Made on p1, accepted by p3.
	if _, err := c.tryStart("p4", "p3", tk.Token); err != nil {
		t.Fatalf("join through p3 with a token made on p1: %v", err)
	}
	// Revoked on p2, refused by p1.
	if err := c.client("p2").RevokeToken(ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "revocation to reach p1", func() bool {
		ts, err := c.client("p1").Tokens(ctx)
		if err != nil {
			return false
		}
		for _, x := range ts {
			if x.ID == tk.ID {
				return x.Revoked
			}
		}
		return false
	})
	joinErr(t, c, "p5", "p1", tk.Token, "revoked")
}

func TestUnauthenticatedCallsGet401AndChangeNothing(t *testing.T) {
	c := newTestCluster(t)
	p := c.start("p1", "")
	base := "https://" + p.APIAddr()
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.st.CA.Pool()}}}
	defer anon.CloseIdleConnections()
	before, err := c.client("p1").Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct{ method, path, body string }{
		{"GET", api.PathMembers, ""},
		{"GET", api.PathMetrics, ""},
		{"GET", api.PathTokens, ""},
		{"POST", api.PathTokens, `{"usage":"join"}`},
		{"DELETE", api.PathTokens + "/" + before[0].ID, ""},
		{"POST", api.PathLeave, ""},
		{"POST", api.PathInternalTokens, `{}`},
		{"POST", api.PathJoin, `{"name":"x"}`},
	} {
		req, _ := http.NewRequest(call.method, base+call.path, strings.NewReader(call.body))
		resp, err := anon.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %d, want 401", call.method, call.path, resp.StatusCode)
		}
	}
	// A bearer token that is not the cluster's is refused the same way.
	req, _ := http.NewRequest("GET", base+api.PathMembers, nil)
	req.Header.Set("Authorization", "Bearer abcdef.0123456789abcdef")
	resp, err := anon.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown bearer token: %d, want 401", resp.StatusCode)
	}
	after, err := c.client("p1").Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || after[0].Revoked {
		t.Fatalf("unauthenticated calls changed the token set: %+v", after)
	}
	select {
	case <-p.LeaveRequested():
		t.Fatal("an unauthenticated leave reached the peer")
	default:
	}
	// /healthz needs nothing and says nothing.
	resp, err = anon.Get(base + api.PathHealthz)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
}

func TestBearerAPITokenAndMetrics(t *testing.T) {
	c := newTestCluster(t)
	p := c.start("p1", "")
	ctx := context.Background()
	tk, err := c.client("p1").CreateToken(ctx, api.TokenCreate{Usage: UsageAPI})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := p.AdminConfig()
	cfg.ClientCertificate, cfg.ClientKey, cfg.Token = "", "", tk.Token
	cl, err := api.NewClient(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ml, err := cl.Members(ctx)
	if err != nil || len(ml.Members) != 1 {
		t.Fatalf("members with an API token: %v %+v", err, ml)
	}
	// A peer-only route is forbidden to an admin or a token.
	err = cl.Do(ctx, http.MethodPost, api.PathInternalTokens, TokenSet{}, nil)
	if !errors.Is(err, errdefs.ErrForbidden) {
		t.Fatalf("internal route with an API token: %v, want ErrForbidden", err)
	}
	req, _ := http.NewRequest("GET", "https://"+p.APIAddr()+api.PathMetrics, nil)
	req.Header.Set("Authorization", "Bearer "+tk.Token)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.st.CA.Pool()}}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := new(strings.Builder)
	_, _ = fmt.Fprint(body, readAll(resp))
	for _, want := range []string{`shoal_gossip_members{status="alive"} 1`, "shoal_build_info", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestSecretsAreSealedOnDisk(t *testing.T) {
	c := newTestCluster(t)
	p := c.start("p1", "")
	caKey, _ := pki.EncodeKey(p.st.CA.Key)
	ring, _ := json.Marshal(p.st.GossipKeyring)
	dir := c.dirs["p1"]
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, secret := range map[string][]byte{"CA key": caKey[30:80], "gossip keyring": ring[3:30]} {
			if strings.Contains(string(b), string(secret)) {
				t.Errorf("%s is in plaintext in %s", what, path)
			}
		}
		if strings.HasSuffix(path, ".key") || strings.HasSuffix(path, ".sealed") || strings.HasSuffix(path, FileAdminConf) || strings.HasSuffix(path, FileJoinToken) {
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", path, info.Mode().Perm())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, fileEncryptionKey)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("encryption key: %v %v", fi, err)
	}
}

func TestConfigValidationNamesTheField(t *testing.T) {
	base := Config{Name: "p1", DataDir: t.TempDir(), BindAddr: "127.0.0.1"}
	cases := []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.Name = "" }, "name: Required value"},
		{func(c *Config) { c.Name = "Bad_Name" }, "DNS-1123"},
		{func(c *Config) { c.DataDir = "" }, "data-dir"},
		{func(c *Config) { c.BindAddr = "nope" }, "bind"},
		{func(c *Config) { c.BindAddr = "0.0.0.0" }, "advertise: Required value"},
		{func(c *Config) { c.APIPort = 70000 }, "api-port"},
		{func(c *Config) { c.Token = "x" }, "token: given without join"},
		{func(c *Config) { c.Join = "hostonly"; c.Token = "x" }, "HOST:APIPORT"},
		{func(c *Config) { c.Capacity = workload.ResourceList{"gpu": workload.MustParseQuantity("1")} }, `capacity[gpu]: "gpu" is not an extended resource`},
	}
	for _, tc := range cases {
		cfg := base
		tc.mutate(&cfg)
		_, err := Start(context.Background(), cfg)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want ErrInvalid mentioning %q", err, tc.want)
		}
	}
}
