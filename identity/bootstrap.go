package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// BootstrapKeyName is the name of the key created on first start.
const BootstrapKeyName = "bootstrap-admin"

// Bootstrap makes sure the gateway is never running with no way in: when
// the store holds no key at all (the first start of an empty store), it
// creates a global admin key (tenant "*", role admin). If the config has
// bootstrap_admin_key_hash, that hash is stored and nothing is printed;
// otherwise a fresh key is generated and printed once to out (stderr).
// On a store that already has keys it does nothing.
func Bootstrap(ctx context.Context, svc *Service, out io.Writer) error {
	n, err := svc.store.CountKeys(ctx)
	if err != nil {
		return fmt.Errorf("identity: bootstrap: %w", err)
	}
	if n > 0 {
		return nil
	}
	spec := KeySpec{Name: BootstrapKeyName, Tenant: GlobalTenant, Role: RoleAdmin}
	if h := svc.cfg.BootstrapAdminKeyHash; h != "" {
		sum, err := hex.DecodeString(h)
		if err != nil || len(sum) != 32 {
			return fmt.Errorf("identity: bootstrap_admin_key_hash must be 64 hex characters")
		}
		id, err := newID("key_")
		if err != nil {
			return err
		}
		k := Key{
			ID: id, Name: spec.Name, Tenant: spec.Tenant, Role: spec.Role,
			Prefix: KeyPrefix + "?", Hash: sum,
			CreatedAt: svc.now().UTC().Truncate(time.Millisecond),
		}
		if err := svc.store.CreateKey(ctx, k); err != nil {
			// Replicas starting together on one empty shared store race
			// to create the same key (its hash is unique): the loser finds
			// the key already there, which is what it wanted.
			if errors.Is(err, ErrConflict) {
				return nil
			}
			return fmt.Errorf("identity: bootstrap: %w", err)
		}
		fmt.Fprintf(out, "rampart: created global admin key %s from bootstrap_admin_key_hash\n", id)
		return nil
	}
	plain, k, err := svc.CreateKey(ctx, spec)
	if err != nil {
		return fmt.Errorf("identity: bootstrap: %w", err)
	}
	fmt.Fprintf(out, "rampart: this store had no API keys; created a global admin key.\n"+
		"rampart: it is shown ONCE, store it now (id %s):\n\n    %s\n\n"+
		"rampart: use it as 'Authorization: Bearer <key>'; create narrower keys with 'rampart keys create'.\n",
		k.ID, plain)
	return nil
}
