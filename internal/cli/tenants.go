package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/rampart-ai/rampart/admin"
)

func init() {
	register("tenants create", "create a tenant", tenantsCreate)
	register("tenants list", "list tenants", tenantsList)
}

func tenantsCreate(env *Env) int {
	fs := flag.NewFlagSet("tenants create", flag.ContinueOnError)
	var t target
	t.flags(fs)
	models := fs.String("models", "", "comma-separated model globs the tenant may use (default: any)")
	policy := fs.String("policy", "", "policy name for the tenant's requests")
	var lim limitFlags
	lim.flags(fs, "each key of the tenant (a key's own limit wins)")
	return run(env, fs, &t, 1, "tenants create NAME [--models 'gpt-4o*,claude-*'] [--policy P] [--rpm N --tpm N --max-parallel N --budget 2M/day ...] [--data DIR | --url URL]",
		func(ctx context.Context, b backend, pos []string) error {
			req := admin.CreateTenantRequest{ID: pos[0], Policy: *policy, Limits: lim.limits()}
			if *models != "" {
				for _, m := range strings.Split(*models, ",") {
					req.Models = append(req.Models, strings.TrimSpace(m))
				}
			}
			tn, err := b.createTenant(ctx, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "created tenant %s\n", tn.ID)
			return nil
		})
}

func tenantsList(env *Env) int {
	fs := flag.NewFlagSet("tenants list", flag.ContinueOnError)
	var t target
	t.flags(fs)
	return run(env, fs, &t, 0, "tenants list [--data DIR | --url URL]",
		func(ctx context.Context, b backend, _ []string) error {
			ts, err := b.listTenants(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TENANT\tMODELS\tPOLICY\tCREATED\tLIMITS")
			for _, tn := range ts {
				m := strings.Join(tn.Models, ",")
				if m == "" {
					m = "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", tn.ID, m, tn.Policy, when(tn.CreatedAt, "-"), formatLimits(tn.Limits))
			}
			return tw.Flush()
		})
}
