package main

import (
	"net/url"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoalproject/shoal/peer/api"
)

func kubeconfigCommand() *cli.Command {
	return &cli.Command{
		Name:  "kubeconfig",
		Usage: "print a kubeconfig for kubectl: shoal kubeconfig > ~/.kube/config",
		Description: "Prints the cluster of the shoal config (--config, SHOAL_CONFIG) as a kubeconfig, with the\n" +
			"same CA and credentials (the admin client certificate, or an API token), so that kubectl\n" +
			"talks to the same cluster:\n\n" +
			"   shoal kubeconfig > ~/.kube/config      (replaces that file; chmod 600 it, it holds the credentials)\n" +
			"   shoal kubeconfig --server https://192.0.2.12:7948 --context prod > prod.conf\n" +
			"   export KUBECONFIG=DATA/admin.conf      (a peer's admin.conf already is a kubeconfig)\n\n" +
			"kubectl talks to server: alone: the --server URL, or the config's first server. Every server is\n" +
			"also listed, --server first, in the cluster's " + api.ServersExtension + " extension, which kubectl\n" +
			"ignores and shoal (--config FILE) uses to fail over between peers.",
		Flags: kubeconfigFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("kubeconfig takes no arguments")
			}
			var server string
			if s := c.String("server"); s != "" {
				var ok bool
				if server, ok = normalizeServer(s); !ok {
					return usagef("--server %q: want https://HOST:PORT", s)
				}
			}
			cfg, err := api.LoadConfig(c.String("config"))
			if err != nil {
				return err
			}
			if server != "" {
				cfg.Servers = serverFirst(cfg.Servers, server)
			}
			if name := c.String("context"); name != "" {
				cfg.Context = name
			}
			b, err := cfg.MarshalKubeconfig()
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(b)
			return err
		},
	}
}

// kubeconfigFlags are the client flags, with --server saying which peer
// goes into server: rather than which peer to ask.
func kubeconfigFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{
			Name:    "server",
			Usage:   "the peer (https://HOST:PORT) kubectl talks to, put in server: (default: the config's first server)",
			EnvVars: []string{"SHOAL_SERVER"},
		},
		&cli.StringFlag{Name: "context", Usage: "name of the kubeconfig's context (default: the config's, else the cluster's name)"},
	}
	for _, f := range clientFlags() {
		if !slices.Contains(f.Names(), "server") {
			flags = append(flags, f)
		}
	}
	return flags
}

// normalizeServer turns "HOST:PORT" or "https://HOST:PORT/" into
// "https://HOST:PORT", as api.NewClientTLS reads a server; anything but an
// https URL with a host and no path is refused.
func normalizeServer(s string) (string, bool) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return "", false
	}
	return u.String(), true
}

// serverFirst puts server at the head of servers, once.
func serverFirst(servers []string, server string) []string {
	out := []string{server}
	for _, s := range servers {
		if n, ok := normalizeServer(s); !ok || n != server {
			out = append(out, s)
		}
	}
	return out
}
