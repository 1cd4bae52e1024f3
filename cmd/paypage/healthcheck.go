package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheckCmd is `paypage healthcheck`: it asks the server listening on
// --addr (PAYPAGE_ADDR) for /healthz and exits 0 only on a 200. It is what
// the container image's HEALTHCHECK runs, since the image has no shell and
// no curl.
func healthcheckCmd(fs *flag.FlagSet, c *cli) runFunc {
	addr := settingFlag(fs, "PAYPAGE_ADDR")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
			return err
		}
		host, port, _ := net.SplitHostPort(*addr) // checked already
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1" // listening on every address: ask on loopback
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		url := "http://" + net.JoinHostPort(host, port) + "/healthz"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("healthcheck: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
		}
		fmt.Fprintln(c.stdout, "ok")
		return nil
	}
}
