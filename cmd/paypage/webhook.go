package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/handlers/webhook"
	"github.com/paypage/paypage/store"
)

// webhookEndpointCmd is `paypage webhook-endpoint …`: the operator's view of
// merchants' webhook endpoints, the same objects as /v1/webhook_endpoints.
func webhookEndpointCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("webhook-endpoint: which subcommand? list, create, update, delete, roll-secret")
	}
	run, ok := map[string]func(context.Context, []string, io.Writer) error{
		"list": endpointList, "create": endpointCreate, "update": endpointUpdate,
		"delete": endpointDelete, "roll-secret": endpointRollSecret,
	}[args[0]]
	if !ok {
		return usageError(fmt.Sprintf("webhook-endpoint: unknown subcommand %q", args[0]))
	}
	return run(ctx, args[1:], stdout)
}

// allowPrivateWebhooks reads PAYPAGE_WEBHOOK_ALLOW_PRIVATE.
func allowPrivateWebhooks() (bool, error) {
	switch v := os.Getenv("PAYPAGE_WEBHOOK_ALLOW_PRIVATE"); v {
	case "", "0":
		return false, nil
	case "1":
		return true, nil
	default:
		return false, usageError(fmt.Sprintf("PAYPAGE_WEBHOOK_ALLOW_PRIVATE must be 1 or 0, not %q", v))
	}
}

// parseWithID parses flags around one endpoint id (`update we_… --url …`).
func parseWithID(fs *flag.FlagSet, args []string) (string, error) {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", usageError(fmt.Sprintf("%s: %s", fs.Name(), err))
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
		if fs.NArg() > 1 {
			return "", usageError(fmt.Sprintf("%s: unexpected argument %q (flags go before or after the id, not both)", fs.Name(), fs.Arg(1)))
		}
	} else if fs.NArg() > 0 {
		return "", usageError(fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0)))
	}
	if id == "" {
		return "", usageError(fs.Name() + ": which endpoint? give its id (we_…)")
	}
	return id, nil
}

// mode reads --mode test|live.
func mode(name, v string) (bool, error) {
	switch v {
	case "test":
		return false, nil
	case "live":
		return true, nil
	}
	return false, usageError(fmt.Sprintf("%s: --mode must be test or live", name))
}

// cliError makes what the caller got wrong (an invalid value, an unknown
// id) a usage error, exit 2; anything else stays a failure, exit 1.
func cliError(name string, err error) error {
	var se *store.Error
	if errors.As(err, &se) && (se.Code == store.EINVALID || se.Code == store.ENOTFOUND) {
		msg := se.Message
		if se.Code == store.ENOTFOUND {
			msg = "no such merchant or webhook endpoint"
		}
		return usageError(name + ": " + msg)
	}
	return err
}

func printObject(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func endpointList(ctx context.Context, args []string, stdout io.Writer) error {
	fs, dbURL := newFlags("webhook-endpoint list")
	merchantID := fs.String("merchant", "", "the merchant (acct_…; required)")
	modeFlag := fs.String("mode", "", "test or live (default: both)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *merchantID == "" {
		return usageError("webhook-endpoint list: --merchant is required")
	}
	modes := []bool{false, true}
	if *modeFlag != "" {
		live, err := mode(fs.Name(), *modeFlag)
		if err != nil {
			return err
		}
		modes = []bool{live}
	}
	st, err := openStore(ctx, *dbURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Merchant(ctx, *merchantID); err != nil {
		return cliError(fs.Name(), err)
	}
	out := []any{}
	for _, live := range modes {
		es, _, err := st.ListWebhookEndpoints(ctx, *merchantID, live, store.Page{Limit: store.MaxWebhookEndpoints})
		if err != nil {
			return err
		}
		for _, e := range es {
			out = append(out, handlers.WebhookEndpointObject(e, false))
		}
	}
	return printObject(stdout, out)
}

func endpointCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs, dbURL := newFlags("webhook-endpoint create")
	merchantID := fs.String("merchant", "", "the merchant (acct_…; required)")
	url := fs.String("url", "", "the https URL events are posted to (required)")
	modeFlag := fs.String("mode", "test", "test or live")
	description := fs.String("description", "", "what the endpoint is for")
	apiVersion := fs.String("api-version", "", "the API version its events are rendered in (default: the merchant's)")
	var events repeated
	fs.Var(&events, "enabled-event", "an event type to send (repeatable; default: every type, *)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *merchantID == "" || *url == "" {
		return usageError("webhook-endpoint create: --merchant and --url are required")
	}
	live, err := mode(fs.Name(), *modeFlag)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		events = repeated{"*"}
	}
	allow, err := allowPrivateWebhooks()
	if err != nil {
		return err
	}
	if err := webhook.CheckURL(ctx, *url, allow); err != nil {
		return cliError(fs.Name(), err)
	}
	st, err := openStore(ctx, *dbURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Merchant(ctx, *merchantID); err != nil {
		return cliError(fs.Name(), err)
	}
	e, err := st.CreateWebhookEndpoint(ctx, *merchantID, live, store.WebhookEndpointParams{URL: url,
		EnabledEvents: events, Description: description, APIVersion: apiVersion})
	if err != nil {
		return cliError(fs.Name(), err)
	}
	return printObject(stdout, handlers.WebhookEndpointObject(e, true))
}

// findEndpoint opens the store and finds endpoint id, whoever's it is.
func findEndpoint(ctx context.Context, name, dbURL, id string) (*store.Store, *store.WebhookEndpoint, error) {
	st, err := openStore(ctx, dbURL, true)
	if err != nil {
		return nil, nil, err
	}
	e, err := st.FindWebhookEndpoint(ctx, id)
	if err != nil {
		st.Close()
		return nil, nil, cliError(name, err)
	}
	return st, e, nil
}

func endpointUpdate(ctx context.Context, args []string, stdout io.Writer) error {
	fs, dbURL := newFlags("webhook-endpoint update")
	url := fs.String("url", "", "a new https URL")
	description := fs.String("description", "", "a new description")
	disable := fs.Bool("disable", false, "stop sending to it")
	enable := fs.Bool("enable", false, "send to it again (forgets why it was disabled)")
	var events repeated
	fs.Var(&events, "enabled-event", "the event types to send, replacing the list (repeatable; * for every type)")
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	if *disable && *enable {
		return usageError("webhook-endpoint update: --disable or --enable, not both")
	}
	p := store.WebhookEndpointParams{DisabledBy: "from the command line"}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "url":
			p.URL = url
		case "description":
			p.Description = description
		case "enabled-event":
			p.EnabledEvents = events
		case "disable", "enable":
			p.Disabled = disable
		}
	})
	if p.URL != nil {
		allow, err := allowPrivateWebhooks()
		if err != nil {
			return err
		}
		if err := webhook.CheckURL(ctx, *p.URL, allow); err != nil {
			return cliError(fs.Name(), err)
		}
	}
	st, e, err := findEndpoint(ctx, fs.Name(), *dbURL, id)
	if err != nil {
		return err
	}
	defer st.Close()
	e, err = st.UpdateWebhookEndpoint(ctx, e.MerchantID, e.Livemode, e.ID, p)
	if err != nil {
		return cliError(fs.Name(), err)
	}
	return printObject(stdout, handlers.WebhookEndpointObject(e, false))
}

func endpointDelete(ctx context.Context, args []string, stdout io.Writer) error {
	fs, dbURL := newFlags("webhook-endpoint delete")
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	st, e, err := findEndpoint(ctx, fs.Name(), *dbURL, id)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.DeleteWebhookEndpoint(ctx, e.MerchantID, e.Livemode, e.ID); err != nil {
		return cliError(fs.Name(), err)
	}
	return printObject(stdout, map[string]any{"id": e.ID, "object": "webhook_endpoint", "deleted": true})
}

func endpointRollSecret(ctx context.Context, args []string, stdout io.Writer) error {
	fs, dbURL := newFlags("webhook-endpoint roll-secret")
	expire := fs.Duration("expire-old-in", 24*time.Hour, "how long the old secret goes on signing beside the new one: 0 (now) to 168h")
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	if *expire < 0 || *expire > store.MaxSecretOverlap {
		return usageError("webhook-endpoint roll-secret: --expire-old-in must be between 0 and 168h")
	}
	st, e, err := findEndpoint(ctx, fs.Name(), *dbURL, id)
	if err != nil {
		return err
	}
	defer st.Close()
	e, err = st.RollWebhookEndpointSecret(ctx, e.MerchantID, e.Livemode, e.ID, *expire)
	if err != nil {
		return cliError(fs.Name(), err)
	}
	return printObject(stdout, handlers.WebhookEndpointObject(e, true))
}
