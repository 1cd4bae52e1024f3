package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/handlers/webhook"
	"github.com/paypage/paypage/store"
)

// `paypage webhook-endpoint …`: the operator's view of merchants' webhook
// endpoints, the same objects as /v1/webhook_endpoints.

// endpointID is the one positional argument of the commands on an endpoint.
func endpointID(fs *flag.FlagSet, args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError(fs.Name() + ": give one webhook endpoint id (we_…)")
	}
	return args[0], nil
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

// checkEndpointURL refuses, naming --url, an address the deliveries would
// refuse (not https, not public unless PAYPAGE_WEBHOOK_ALLOW_PRIVATE=1).
func checkEndpointURL(ctx context.Context, name, url string) error {
	if err := webhook.CheckURL(ctx, url, getenv("PAYPAGE_WEBHOOK_ALLOW_PRIVATE") == "1"); err != nil {
		return storeError(name, err)
	}
	return nil
}

func endpointListCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	merchantID := fs.String("merchant", "", "the merchant (acct_…; required)")
	modeFlag := fs.String("mode", "", "test or live (default: both)")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
			return err
		}
		if *merchantID == "" {
			return usageError(fs.Name() + ": --merchant is required")
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
			return storeError(fs.Name(), err)
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
		return printJSON(c.stdout, out)
	}
}

func endpointCreateCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	merchantID := fs.String("merchant", "", "the merchant (acct_…; required)")
	url := fs.String("url", "", "the https URL events are posted to (required)")
	modeFlag := fs.String("mode", "test", "test or live")
	description := fs.String("description", "", "what the endpoint is for")
	apiVersion := fs.String("api-version", "", "the API version its events are rendered in (default: the merchant's)")
	var events repeated
	fs.Var(&events, "enabled-event", "an event type to send (repeatable; default: every type, *)")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
			return err
		}
		if *merchantID == "" || *url == "" {
			return usageError(fs.Name() + ": --merchant and --url are required")
		}
		live, err := mode(fs.Name(), *modeFlag)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			events = repeated{"*"}
		}
		if err := checkEndpointURL(ctx, fs.Name(), *url); err != nil {
			return err
		}
		st, err := openStore(ctx, *dbURL, true)
		if err != nil {
			return err
		}
		defer st.Close()
		m, err := st.Merchant(ctx, *merchantID)
		if err != nil {
			return storeError(fs.Name(), err)
		}
		if *apiVersion == "" {
			*apiVersion = m.APIVersion
		}
		e, err := st.CreateWebhookEndpoint(ctx, *merchantID, live, store.WebhookEndpointParams{URL: url,
			EnabledEvents: events, Description: description, APIVersion: apiVersion})
		if err != nil {
			return storeError(fs.Name(), err)
		}
		return printJSON(c.stdout, handlers.WebhookEndpointObject(e, true))
	}
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
		return nil, nil, storeError(name, err)
	}
	return st, e, nil
}

func endpointUpdateCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	url := fs.String("url", "", "a new https URL")
	description := fs.String("description", "", "a new description")
	disable := fs.Bool("disable", false, "stop sending to it")
	enable := fs.Bool("enable", false, "send to it again (forgets why it was disabled)")
	var events repeated
	fs.Var(&events, "enabled-event", "the event types to send, replacing the list (repeatable; * for every type)")
	return func(ctx context.Context, args []string) error {
		id, err := endpointID(fs, args)
		if err != nil {
			return err
		}
		if *disable && *enable {
			return usageError(fs.Name() + ": --disable or --enable, not both")
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
			if err := checkEndpointURL(ctx, fs.Name(), *p.URL); err != nil {
				return err
			}
		}
		st, e, err := findEndpoint(ctx, fs.Name(), *dbURL, id)
		if err != nil {
			return err
		}
		defer st.Close()
		e, err = st.UpdateWebhookEndpoint(ctx, e.MerchantID, e.Livemode, e.ID, p)
		if err != nil {
			return storeError(fs.Name(), err)
		}
		return printJSON(c.stdout, handlers.WebhookEndpointObject(e, false))
	}
}

func endpointDeleteCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	return func(ctx context.Context, args []string) error {
		id, err := endpointID(fs, args)
		if err != nil {
			return err
		}
		st, e, err := findEndpoint(ctx, fs.Name(), *dbURL, id)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.DeleteWebhookEndpoint(ctx, e.MerchantID, e.Livemode, e.ID); err != nil {
			return storeError(fs.Name(), err)
		}
		return printJSON(c.stdout, map[string]any{"id": e.ID, "object": "webhook_endpoint", "deleted": true})
	}
}

func endpointRollSecretCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	expire := fs.Duration("expire-old-in", 24*time.Hour, "how long the old secret goes on signing beside the new one: 0 (now) to 168h")
	return func(ctx context.Context, args []string) error {
		id, err := endpointID(fs, args)
		if err != nil {
			return err
		}
		if *expire < 0 || *expire > store.MaxSecretOverlap {
			return usageError(fs.Name() + ": --expire-old-in must be between 0 and 168h")
		}
		st, e, err := findEndpoint(ctx, fs.Name(), *dbURL, id)
		if err != nil {
			return err
		}
		defer st.Close()
		e, err = st.RollWebhookEndpointSecret(ctx, e.MerchantID, e.Livemode, e.ID, *expire)
		if err != nil {
			return storeError(fs.Name(), err)
		}
		return printJSON(c.stdout, handlers.WebhookEndpointObject(e, true))
	}
}
